"""Sending the outbox: every kind of row (reminders, notices, invitations, resets).

A sender claims a few due messages at a time (claims.py), then sends them one by one
over one SMTP connection for the whole batch, committing "sent" after each. That is
what makes delivery exactly-once in practice: a crash between the relay's "250" and
our commit leaves at most that one message unmarked, and its resend carries the same
Message-ID.

The sender knows nothing of what the mail is about. A feature whose pending mail can
go stale (a reminder of a hearing that has moved since) registers a hook with
`before_sending`; the sender runs every hook before each batch and now and then
during a long one, and each marks what must no longer go out as superseded.
"""
from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Callable

import sqlalchemy as sa
from flask import Flask, current_app
from sqlalchemy.orm import Session

from tracker.mail import arriving, pgclaims
from tracker.mail.claims import (
    CLAIM_CHUNK,
    Claimed,
    LEASE,
    LIVE_TOKENS,
    OURS,
    RENEW_WHEN_LEFT,
    claim_chunk,
    drop_claim_lock,
    expire_leases,
    hold_claim_lock,
    new_claim_token,
    release,
    renew,
    sender_settings,
)
from tracker.mail.marks import MarkFailed, SentMarks
from tracker.mail.message import compose
from tracker.mail.models import OutboxBody, OutboxMessage, OutboxStatus
from tracker.mail.smtp import ConnectionProblem, Refused, SMTPConnection, SMTPSettings

log = logging.getLogger(__name__)

MAX_BACKOFF = timedelta(hours=6)
RECHECK_EVERY = 500  # messages between two runs of the hooks (mail made stale mid-batch)
# app.extensions key: the hooks features registered with `before_sending`
HOOKS = "mail.before_sending"
Hook = Callable[[Session | sa.Connection], int]


@dataclass
class SendReport:
    sent: int = 0
    retried: int = 0
    failed: int = 0
    missed: int = 0
    superseded: int = 0
    connection_error: str = ""

    @property
    def processed(self) -> int:
        return self.sent + self.retried + self.failed + self.missed


def backoff(attempts: int, base_seconds: int) -> timedelta:
    """Wait before the next try: base, 2x base, 4x base... capped at six hours."""
    return min(timedelta(seconds=base_seconds * 2 ** max(attempts - 1, 0)), MAX_BACKOFF)


def before_sending(app: Flask, hook: Hook) -> None:
    """Run `hook` before every batch of `send_pending` in `app` and every RECHECK_EVERY
    messages of a long one. It marks pending outbox rows that must no longer go out as
    superseded (on the session or connection it is given) and returns how many."""
    app.extensions.setdefault(HOOKS, []).append(hook)


def _supersede(bind: Session | sa.Connection) -> int:
    return sum(hook(bind) for hook in current_app.extensions.get(HOOKS, ()))


def mark_missed(session: Session, now: datetime) -> int:
    """Pending mail whose moment passed (its hearing started) is recorded as missed."""
    result = session.execute(
        sa.update(OutboxMessage)
        .where(
            OutboxMessage.status == OutboxStatus.PENDING,
            OutboxMessage.expires_at.is_not(None),
            OutboxMessage.expires_at <= now,
        )
        .values(status=OutboxStatus.MISSED, last_error="the hearing started before this could be sent")
        .execution_options(synchronize_session=False)
    )
    return result.rowcount or 0


def _raw(conn: sa.Connection, claimed: Claimed) -> bytes:
    """Compose a row written without its message (by hand, or by older code) from the parts it
    kept, and keep the result, so a retry sends the same bytes."""
    row = conn.execute(sa.select(OutboxMessage.__table__).where(OutboxMessage.id == claimed.id)).one()
    parts = conn.execute(sa.select(OutboxBody.text_body, OutboxBody.html_body)
                         .where(OutboxBody.outbox_id == claimed.id)).one_or_none()
    raw = compose(
        message_id=row.message_id, sender=current_app.config["MAIL_FROM"], recipient=row.recipient,
        subject=row.subject, text_body=parts.text_body or "" if parts else "",
        html_body=parts.html_body if parts else None, date=row.created_at,
    )
    if parts is None:
        conn.execute(sa.insert(OutboxBody).values(outbox_id=claimed.id, raw=raw))
    else:
        conn.execute(sa.update(OutboxBody).where(OutboxBody.outbox_id == claimed.id).values(raw=raw))
    return raw


def _retry_or_give_up(
    conn: sa.Connection, claimed: Claimed, now: datetime, error: str, token: str, *, permanent: bool
) -> bool:
    """Record a failed attempt; True when we gave up on the message."""
    config = current_app.config
    attempts = claimed.attempts + 1
    values: dict[str, object] = {"attempts": attempts, "last_error": error[:2000], "claim_token": None}
    gave_up = permanent or attempts >= config["MAIL_MAX_ATTEMPTS"]
    if gave_up:
        values["status"] = OutboxStatus.FAILED
        log.warning("giving up on outbox #%s (%s) after %s attempt(s): %s", claimed.id, claimed.kind, attempts, error)
    else:
        values["status"] = OutboxStatus.PENDING
        values["next_attempt_at"] = now + backoff(attempts, config["MAIL_RETRY_BASE_SECONDS"])
        log.info("outbox #%s (%s) will be retried at %s: %s", claimed.id, claimed.kind,
                 values["next_attempt_at"].isoformat(timespec="seconds"), error)
    conn.execute(sa.update(OutboxMessage).where(OutboxMessage.id == claimed.id, OURS).values(**values),
                 {"token": token})
    return gave_up


def _back_off_everything_due(conn: sa.Connection, now: datetime, error: str) -> None:
    """The relay is unreachable: every due message waits, each by its own backoff.

    One statement: the attempts count picks the delay (CASE), and a message that
    reaches the limit is given up on, as if it had been tried on its own.
    """
    config = current_app.config
    limit, base = config["MAIL_MAX_ATTEMPTS"], config["MAIL_RETRY_BASE_SECONDS"]
    delays = {n: now + backoff(n + 1, base) for n in range(limit)}
    due = sa.and_(OutboxMessage.status == OutboxStatus.PENDING, OutboxMessage.next_attempt_at <= now)
    conn.execute(
        sa.update(OutboxMessage)
        .where(due)
        .values(
            attempts=OutboxMessage.attempts + 1,
            last_error=error[:2000],
            next_attempt_at=sa.case(delays, value=OutboxMessage.attempts, else_=now + MAX_BACKOFF),
            status=sa.case(
                (OutboxMessage.attempts + 1 >= limit, OutboxStatus.FAILED.value),
                else_=OutboxStatus.PENDING.value,
            ),
        )
        .execution_options(synchronize_session=False)
    )


def _ours(marks: SentMarks) -> bool:
    """Wait for the "sent" mark in flight; False (and logged) if that message's claim was taken."""
    outbox_id = marks.in_flight
    if marks.confirm():
        return True
    # Someone took this claim back while we sent it: it may go out twice (same Message-ID).
    # Whatever else we hold may be taken too: stop.
    log.error("outbox #%s was sent, but its claim had been taken back: stopping", outbox_id)
    return False


def _renew(conn: sa.Connection, token: str, at: datetime, holding: int) -> bool:
    try:
        return renew(conn, token, at, holding=holding)
    except sa.exc.SQLAlchemyError as error:  # the database, not the message in hand
        raise MarkFailed(f"renewing our claims failed: {error}") from error


def _claim_ahead(conn: sa.Connection, at: datetime, wanted: int, token: str, prepared: set[bytes],
                 may_claim: Callable[[], bool] | None) -> pgclaims.ClaimInFlight | None:
    """Send the next claim before the DATA of the chunk's last message (PostgreSQL, pgclaims.py).

    None when this sender may no longer claim, or when sending it failed: whatever went wrong is
    not the message's, and the claim made in line at the next message meets it again (it asks
    `may_claim` and claims outside the message's error handling)."""
    try:
        if may_claim is not None and not may_claim():
            return None
        return pgclaims.send(conn, at, wanted, token, prepared)
    except Exception:  # noqa: BLE001
        log.warning("the claim ahead could not be sent; claiming in line instead", exc_info=True)
        return None


def _abandon(smtp: SMTPConnection) -> None:
    try:
        smtp.abandon()
    except (ConnectionProblem, Refused):
        pass  # the connection is closed: the relay keeps nothing of the message either


def send_pending(
    session: Session,
    now: datetime,
    *,
    limit: int | None = None,
    should_stop: Callable[[], bool] | None = None,
    may_claim: Callable[[], bool] | None = None,
    clock: Callable[[], datetime] | None = None,
) -> SendReport:
    """Send what is due, over one SMTP connection, committing after every message.

    `should_stop` is asked before every message (SIGTERM); `may_claim` before every
    claim (the scheduler: do we still hold the leader lock?). `clock` tells the time
    as the batch goes on, for claims and their leases: by default `now` plus the time
    elapsed since the call.
    """
    report = SendReport()
    if clock is None:
        started = time.monotonic()

        def clock() -> datetime:
            return now + timedelta(seconds=time.monotonic() - started)

    expire_leases(session, now)
    report.superseded = _supersede(session)
    report.missed = mark_missed(session, now)
    session.commit()
    sender = current_app.config["MAIL_FROM"]
    token = new_claim_token()
    # Short transactions on a plain connection: the ORM adds nothing here and costs
    # more than the database itself.
    with SMTPConnection(SMTPSettings.from_config(current_app.config)) as smtp, \
            session.get_bind().connect() as conn:
        claimed: list[Claimed] = []
        lease_until = now
        next_recheck = RECHECK_EVERY
        while not hold_claim_lock(conn, token):  # a 32-bit clash with a live sender: draw again
            token = new_claim_token()
        LIVE_TOKENS.add(token)
        sender_settings(conn, on=True)  # PostgreSQL: asynchronous commits, claims read in index order
        marks = SentMarks(conn, token, now)
        postgres = conn.dialect.name == "postgresql"
        prepared: set[bytes] = set()  # the claims this batch prepared on `conn` (pgclaims.py)
        try:
            while limit is None or report.processed < limit:
                if should_stop is not None and should_stop():
                    log.info("stopping between messages, as asked")
                    break
                if not claimed:
                    if not _ours(marks):  # the connection is about to be used: the mark in flight first
                        break
                    if report.processed >= next_recheck:
                        next_recheck += RECHECK_EVERY
                        with conn.begin():  # a long batch: what the mail is about may have changed since it began
                            report.superseded += _supersede(conn)
                    if may_claim is not None and not may_claim():
                        log.warning("stopping before the next claim: this sender may no longer claim mail")
                        break
                    wanted = CLAIM_CHUNK if limit is None else min(CLAIM_CHUNK, limit - report.processed)
                    at, seen = clock(), arriving.generation()
                    claimed = (pgclaims.claim(conn, at, wanted, token, prepared) if postgres
                               else claim_chunk(conn, at, wanted, token))
                    lease_until = at + LEASE
                    if not claimed:
                        if arriving.wait_for_more(seen):  # a writer here is still committing chunks
                            continue
                        break
                message = claimed.pop(0)
                try:
                    if message.raw is None:  # composed now, on the connection: nothing may be in flight
                        if not _ours(marks):
                            claimed.insert(0, message)
                            break
                        with conn.begin():
                            raw = _raw(conn, message)
                    else:
                        raw = message.raw
                    smtp.envelope(sender, message.recipient, len(raw), meanwhile=marks.write)
                    # While the relay read the envelope, the previous message's mark was written. Before the
                    # clock is read and before this message reaches the relay, that mark must be settled.
                    if not _ours(marks):
                        claimed.insert(0, message)
                        _abandon(smtp)
                        break
                    at = clock()
                    if lease_until - at < RENEW_WHEN_LEFT:  # never start a message on a lease that could run out
                        if not _renew(conn, token, at, holding=len(claimed) + 1):
                            claimed.insert(0, message)
                            _abandon(smtp)
                            break
                        lease_until = at + LEASE
                    ahead = None
                    if not claimed and postgres:  # the chunk's last message: the next claim goes out now
                        wanted = CLAIM_CHUNK if limit is None else min(CLAIM_CHUNK, limit - report.processed - 1)
                        if wanted > 0 and report.processed + 1 < next_recheck:
                            ahead = _claim_ahead(conn, at, wanted, token, prepared, may_claim)
                    try:
                        smtp.data(raw)
                    finally:
                        if ahead is not None:  # read before anything else uses the connection
                            claimed = ahead.take()
                            if claimed:
                                lease_until = ahead.at + LEASE
                except ConnectionProblem as error:
                    log.error("SMTP unavailable, every due message waits: %s", error)
                    report.connection_error = str(error)
                    _ours(marks)
                    claimed.append(message)
                    with conn.begin():
                        conn.execute(
                            sa.update(OutboxMessage)
                            .where(OutboxMessage.id.in_([m.id for m in claimed]), OURS)
                            .values(status=OutboxStatus.PENDING, next_attempt_at=now, claim_token=None),
                            {"token": token},
                        )
                        claimed = []
                        _back_off_everything_due(conn, now, f"SMTP unavailable: {error}")
                    break
                except Refused as error:
                    still_ours = _ours(marks)
                    with conn.begin():
                        if _retry_or_give_up(conn, message, now, str(error), token, permanent=error.permanent):
                            report.failed += 1
                        else:
                            report.retried += 1
                    if not still_ours:
                        break
                except MarkFailed:
                    raise  # the database, not this message: the job fails, the next run goes on
                except Exception as error:  # noqa: BLE001  one message we cannot even try must not block the rest
                    log.exception("outbox #%s cannot be sent", message.id)
                    still_ours = _ours(marks)
                    with conn.begin():
                        _retry_or_give_up(conn, message, now, f"{type(error).__name__}: {error}", token,
                                          permanent=True)
                    report.failed += 1
                    if not still_ours:
                        break
                else:
                    report.sent += 1
                    marks.start(message.id)
                    if ahead is not None:
                        ahead.raise_error()  # the database's: this message's mark goes first (finally)
        finally:
            try:
                try:
                    try:
                        _ours(marks)
                    finally:
                        marks.close()
                    if conn.in_transaction():
                        conn.rollback()
                    release(conn, [m.id for m in claimed], clock(), token)
                finally:
                    LIVE_TOKENS.discard(token)
                drop_claim_lock(conn, token)
                sender_settings(conn, on=False)
            except BaseException:
                # The claim lock and the sender's settings belong to this database session: a
                # batch whose ending failed closes it instead of pooling it, which ends both (a
                # pooled lock kept our claims looking alive until their lease ran out).
                conn.invalidate()
                raise
    if report.processed or report.superseded:
        log.info("outbox: %d sent, %d to retry, %d failed, %d missed, %d superseded",
                 report.sent, report.retried, report.failed, report.missed, report.superseded)
    return report
