"""Sending the outbox: every kind of row (reminders, notices, invitations, resets).

A sender claims a few due messages at a time (status `sending`, its own claim token,
and a lease in `next_attempt_at`; on PostgreSQL `FOR UPDATE SKIP LOCKED`, so two
senders never claim the same row), then sends them one by one over one SMTP
connection for the whole batch, committing "sent" after each. That is what makes
delivery exactly-once in practice: a crash between the relay's "250" and our commit
leaves at most that one message unmarked, and its resend carries the same Message-ID.

A claim belongs to its sender until the sender gives it back or the lease runs out:
- the sender renews its lease while it works, and never starts a message unless the
  renewal proved every claim it holds is still its own;
- "sent", "retry" and "give back" only touch rows that carry the sender's token, and
  the row count of "sent" is checked: a claim taken away stops the batch;
- a new leader takes back at once only the claims whose owner has provably stopped
  (`release_abandoned_claims`); a sender that is alive keeps its claims even if it
  lost the leader lock (it stops at its next claim and gives them back itself).
  Taking its claims would send them twice.
"""
from __future__ import annotations

import logging
import os
import secrets
import time
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Callable

import sqlalchemy as sa
from flask import current_app
from sqlalchemy.orm import Session

from tracker.mail import ConnectionProblem, Refused, SMTPConnection, SMTPSettings, compose
from tracker.records.models import Hearing, HearingStatus
from tracker.reminders.models import OutboxMessage, OutboxStatus, ReminderDelivery

log = logging.getLogger(__name__)

MAX_BACKOFF = timedelta(hours=6)
RECHECK_EVERY = 500  # messages between two checks for reminders made stale mid-batch


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


def supersede_stale_reminders(session: Session | sa.Connection) -> int:
    """Cancel pending reminders whose hearing moved, was postponed or cancelled.

    Run before every batch, so no reminder for an old time goes out even if the
    change-notice job has not run yet.
    """
    stale = (
        sa.select(ReminderDelivery.outbox_id)
        .join(Hearing, Hearing.id == ReminderDelivery.hearing_id)
        .where(
            sa.or_(
                Hearing.starts_at != ReminderDelivery.hearing_starts_at,
                Hearing.status != HearingStatus.SCHEDULED,
            )
        )
    )
    result = session.execute(
        sa.update(OutboxMessage)
        .where(
            OutboxMessage.kind == "reminder",
            OutboxMessage.status == OutboxStatus.PENDING,
            OutboxMessage.id.in_(stale),
        )
        .values(status=OutboxStatus.SUPERSEDED, last_error="the hearing changed before this went out")
        .execution_options(synchronize_session=False)
    )
    return result.rowcount or 0


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


CLAIM_CHUNK = 20  # messages claimed at once: one statement instead of one per message
# A claim's lease. Renewed while at most half of it is left, which is always longer than
# one message can take (a few SMTP_TIMEOUTs): a message is never started on a lease that
# could run out, and so could be taken back, before it is marked.
LEASE = timedelta(minutes=5)
RENEW_WHEN_LEFT = LEASE / 2

# Built once: these run for every message, and building a statement costs more than running it.
_DUE = (
    sa.select(OutboxMessage.id)
    .where(OutboxMessage.status == OutboxStatus.PENDING, OutboxMessage.next_attempt_at <= sa.bindparam("now"))
    .order_by(OutboxMessage.next_attempt_at, OutboxMessage.id)
    .limit(sa.bindparam("chunk"))
    .with_for_update(skip_locked=True)
    .scalar_subquery()
)
_CLAIM = (
    sa.update(OutboxMessage)
    .where(OutboxMessage.id.in_(_DUE))
    .values(status=OutboxStatus.SENDING, next_attempt_at=sa.bindparam("lease_until"),
            claim_token=sa.bindparam("token"))
    .returning(OutboxMessage.id, OutboxMessage.recipient, OutboxMessage.raw, OutboxMessage.attempts,
               OutboxMessage.kind)
)
_OURS = sa.and_(OutboxMessage.status == OutboxStatus.SENDING, OutboxMessage.claim_token == sa.bindparam("token"))
_MARK_SENT = (
    sa.update(OutboxMessage)
    .where(OutboxMessage.id == sa.bindparam("outbox_id"), _OURS)
    .values(status=OutboxStatus.SENT, sent_at=sa.bindparam("sent_now"), attempts=OutboxMessage.attempts + 1,
            last_error="")
)
_RENEW = sa.update(OutboxMessage).where(_OURS).values(next_attempt_at=sa.bindparam("lease_until"))

# --- who owns a claim ---------------------------------------------------------------------
#
# A claim token is "<pid>-<random>". Another process must be able to tell whether its
# owner is still running, without trusting the leader lock (whose connection can be cut
# while its holder lives):
# - PostgreSQL: the sender holds an advisory lock named after its token on the very
#   connection it claims and marks with, for as long as it sends. The lock goes when
#   that connection goes (the process died, or cannot reach the database to mark
#   anything either); if it can be taken, the owner has stopped.
# - SQLite (one machine, one scheduler): the owner is gone when its process is gone.
#   Within one process, a token is live while its `send_pending` runs.

CLAIM_LOCK_CLASS = 0x6F75_7462  # "outb": the first key of the two-key advisory locks on claims
_LIVE_TOKENS: set[str] = set()


def _new_claim_token() -> str:
    return f"{os.getpid()}-{secrets.token_hex(8)}"


def _claim_lock_key(token: str) -> int:
    """The second advisory-lock key (a signed 32-bit int) of a token."""
    return int(token.rsplit("-", 1)[-1][:8], 16) - 2**31


def _hold_claim_lock(conn: sa.Connection, token: str) -> bool:
    if conn.dialect.name != "postgresql":
        return True
    with conn.begin():
        return bool(conn.scalar(sa.text("SELECT pg_try_advisory_lock(:c, :k)"),
                                {"c": CLAIM_LOCK_CLASS, "k": _claim_lock_key(token)}))


def _drop_claim_lock(conn: sa.Connection, token: str) -> None:
    if conn.dialect.name == "postgresql":
        with conn.begin():
            conn.execute(sa.text("SELECT pg_advisory_unlock(:c, :k)"),
                         {"c": CLAIM_LOCK_CLASS, "k": _claim_lock_key(token)})


def _owner_stopped(session: Session, token: str) -> bool:
    """True only when the sender that claimed with `token` has provably stopped."""
    if session.get_bind().dialect.name == "postgresql":
        key = {"c": CLAIM_LOCK_CLASS, "k": _claim_lock_key(token)}
        if not session.scalar(sa.text("SELECT pg_try_advisory_xact_lock(:c, :k)"), key):
            return False  # its sending connection is alive and holds it
        return True  # released with this transaction
    pid_text = token.split("-", 1)[0]
    if not pid_text.isdigit():
        return False
    pid = int(pid_text)
    if pid == os.getpid():
        return token not in _LIVE_TOKENS
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    except PermissionError:  # a process with that pid exists (perhaps another one): wait for the lease
        return False
    return False


def _claim_chunk(conn: sa.Connection, now: datetime, size: int, token: str) -> list[sa.Row]:
    """Claim up to `size` due messages for this sender, oldest first, and commit the claim."""
    with conn.begin():
        rows = conn.execute(_CLAIM, {"now": now, "chunk": size, "lease_until": now + LEASE, "token": token}).all()
    return sorted(rows, key=lambda row: row.id)


def _renew(conn: sa.Connection, token: str, now: datetime, holding: int) -> bool:
    """Extend the lease of every claim we hold; False if any of them is no longer ours."""
    with conn.begin():
        renewed = conn.execute(_RENEW, {"token": token, "lease_until": now + LEASE}).rowcount
    if renewed != holding:
        log.error("%d of our %d claimed message(s) were taken back: stopping this batch", holding - renewed, holding)
        return False
    return True


def _release(conn: sa.Connection, ids: list[int], now: datetime, token: str) -> None:
    """Give back claimed messages we did not try (stop, outage, lost lock): due again at once."""
    if ids:
        with conn.begin():
            conn.execute(
                sa.update(OutboxMessage)
                .where(OutboxMessage.id.in_(ids), _OURS)
                .values(status=OutboxStatus.PENDING, next_attempt_at=now, claim_token=None),
                {"token": token},
            )


def _expire_leases(session: Session | sa.Connection, now: datetime) -> int:
    result = session.execute(
        sa.update(OutboxMessage)
        .where(OutboxMessage.status == OutboxStatus.SENDING, OutboxMessage.next_attempt_at <= now)
        .values(status=OutboxStatus.PENDING, claim_token=None)
        .execution_options(synchronize_session=False)
    )
    return result.rowcount or 0


def release_abandoned_claims(session: Session, now: datetime) -> int:
    """Claims of senders that stopped are due again; a new leader calls this first.

    Only claims whose lease ran out or whose owner has provably stopped (see
    `_owner_stopped`). Becoming the leader does not prove the old leader is gone: a cut
    connection frees the leader lock while its holder lives and sends.
    """
    released = _expire_leases(session, now)
    tokens = session.scalars(
        sa.select(OutboxMessage.claim_token).distinct()
        .where(OutboxMessage.status == OutboxStatus.SENDING, OutboxMessage.claim_token.is_not(None))
    ).all()
    for token in tokens:
        if _owner_stopped(session, token):
            released += session.execute(
                sa.update(OutboxMessage)
                .where(OutboxMessage.status == OutboxStatus.SENDING, OutboxMessage.claim_token == token)
                .values(status=OutboxStatus.PENDING, next_attempt_at=now, claim_token=None)
                .execution_options(synchronize_session=False)
            ).rowcount or 0
    if released:
        log.warning("%d message(s) claimed by a sender that stopped are due again", released)
    return released


def _raw(conn: sa.Connection, claimed: sa.Row) -> bytes:
    if claimed.raw is not None:
        return claimed.raw
    # A row written without the composed message (by hand, or by older code): compose it
    # now and keep it, so a retry sends the same bytes.
    row = conn.execute(sa.select(OutboxMessage.__table__).where(OutboxMessage.id == claimed.id)).one()
    raw = compose(
        message_id=row.message_id, sender=current_app.config["MAIL_FROM"], recipient=row.recipient,
        subject=row.subject, text_body=row.text_body, html_body=row.html_body, date=row.created_at,
    )
    conn.execute(sa.update(OutboxMessage).where(OutboxMessage.id == claimed.id).values(raw=raw))
    return raw


def _retry_or_give_up(
    conn: sa.Connection, claimed: sa.Row, now: datetime, error: str, token: str, *, permanent: bool
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
    conn.execute(sa.update(OutboxMessage).where(OutboxMessage.id == claimed.id, _OURS).values(**values),
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

    _expire_leases(session, now)
    report.superseded = supersede_stale_reminders(session)
    report.missed = mark_missed(session, now)
    session.commit()
    sender = current_app.config["MAIL_FROM"]
    token = _new_claim_token()
    # Short transactions on a plain connection: the ORM adds nothing here and costs
    # more than the database itself.
    with SMTPConnection(SMTPSettings.from_config(current_app.config)) as smtp, \
            session.get_bind().connect() as conn:
        claimed: list[sa.Row] = []
        lease_until = now
        next_recheck = RECHECK_EVERY
        postgres = conn.dialect.name == "postgresql"
        while not _hold_claim_lock(conn, token):  # a 32-bit clash with a live sender: draw again
            token = _new_claim_token()
        _LIVE_TOKENS.add(token)
        if postgres:
            # "Sent" marks need not wait for the WAL to reach the disk: if the scheduler dies,
            # PostgreSQL still writes them (within ~0.6 s); only a crash of the database
            # server itself could lose the last few, and those are resent with the same
            # Message-ID. It halves the cost of each message.
            conn.execute(sa.text("SET synchronous_commit TO OFF"))
            conn.commit()
        try:
            while limit is None or report.processed < limit:
                if should_stop is not None and should_stop():
                    log.info("stopping between messages, as asked")
                    break
                if not claimed:
                    if report.processed >= next_recheck:
                        next_recheck += RECHECK_EVERY
                        with conn.begin():  # a long batch: hearings may have moved since it began
                            report.superseded += supersede_stale_reminders(conn)
                    if may_claim is not None and not may_claim():
                        log.warning("stopping before the next claim: this sender may no longer claim mail")
                        break
                    wanted = CLAIM_CHUNK if limit is None else min(CLAIM_CHUNK, limit - report.processed)
                    at = clock()
                    claimed = _claim_chunk(conn, at, wanted, token)
                    lease_until = at + LEASE
                    if not claimed:
                        break
                at = clock()
                if lease_until - at < RENEW_WHEN_LEFT:  # never start a message on a lease that could run out
                    if not _renew(conn, token, at, holding=len(claimed)):
                        break
                    lease_until = at + LEASE
                message = claimed.pop(0)
                with conn.begin():
                    try:
                        smtp.send(sender, message.recipient, _raw(conn, message))
                    except ConnectionProblem as error:
                        log.error("SMTP unavailable, every due message waits: %s", error)
                        report.connection_error = str(error)
                        claimed.append(message)
                        conn.execute(
                            sa.update(OutboxMessage)
                            .where(OutboxMessage.id.in_([m.id for m in claimed]), _OURS)
                            .values(status=OutboxStatus.PENDING, next_attempt_at=now, claim_token=None),
                            {"token": token},
                        )
                        claimed = []
                        _back_off_everything_due(conn, now, f"SMTP unavailable: {error}")
                        break
                    except Refused as error:
                        if _retry_or_give_up(conn, message, now, str(error), token, permanent=error.permanent):
                            report.failed += 1
                        else:
                            report.retried += 1
                    except Exception as error:  # noqa: BLE001  one message we cannot even try must not block the rest
                        log.exception("outbox #%s cannot be sent", message.id)
                        _retry_or_give_up(conn, message, now, f"{type(error).__name__}: {error}", token,
                                          permanent=True)
                        report.failed += 1
                    else:
                        marked = conn.execute(_MARK_SENT, {"outbox_id": message.id, "sent_now": now, "token": token})
                        report.sent += 1
                        if marked.rowcount != 1:
                            # Someone took this claim back while we sent it: it may go out twice
                            # (same Message-ID). Whatever else we hold may be taken too: stop.
                            log.error("outbox #%s was sent, but its claim had been taken back: stopping", message.id)
                            break
        finally:
            try:
                if conn.in_transaction():
                    conn.rollback()
                _release(conn, [m.id for m in claimed], clock(), token)
            finally:
                _LIVE_TOKENS.discard(token)
            _drop_claim_lock(conn, token)
            if postgres:
                conn.execute(sa.text("RESET synchronous_commit"))
                conn.commit()
    if report.processed or report.superseded:
        log.info("outbox: %d sent, %d to retry, %d failed, %d missed, %d superseded",
                 report.sent, report.retried, report.failed, report.missed, report.superseded)
    return report


def retry_failed(session: Session, message_id: int, now: datetime) -> bool:
    """An admin sends a failed message again (after fixing an address, say)."""
    message = session.get(OutboxMessage, message_id)
    if message is None or message.status is not OutboxStatus.FAILED:
        return False
    message.status = OutboxStatus.PENDING
    message.attempts = 0
    message.next_attempt_at = now
    return True
