"""Sending the outbox: every kind of row (reminders, notices, invitations, resets).

A sender claims a few due messages at a time (status `sending`, with a lease in
`next_attempt_at`; on PostgreSQL `FOR UPDATE SKIP LOCKED`, so two senders never claim
the same row), then sends them one by one over one SMTP connection for the whole
batch, committing "sent" after each. That is what makes delivery exactly-once in
practice: a crash between the relay's "250" and our commit leaves at most that one
message unmarked, and its resend carries the same Message-ID. Claimed messages a dead
sender leaves behind are due again when a new leader starts (it is alone: the leader
lock says so) or when their lease runs out.
"""
from __future__ import annotations

import logging
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
LEASE = timedelta(minutes=15)  # longer than sending a chunk can take (20 x SMTP_TIMEOUT)

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
    .values(status=OutboxStatus.SENDING, next_attempt_at=sa.bindparam("lease_until"))
    .returning(OutboxMessage.id, OutboxMessage.recipient, OutboxMessage.raw, OutboxMessage.attempts,
               OutboxMessage.kind)
)
_MARK_SENT = (
    sa.update(OutboxMessage)
    .where(OutboxMessage.id == sa.bindparam("outbox_id"), OutboxMessage.status == OutboxStatus.SENDING)
    .values(status=OutboxStatus.SENT, sent_at=sa.bindparam("sent_now"), attempts=OutboxMessage.attempts + 1,
            last_error="")
)


def _claim_chunk(conn: sa.Connection, now: datetime, size: int) -> list[sa.Row]:
    """Claim up to `size` due messages for this sender, oldest first, and commit the claim."""
    with conn.begin():
        rows = conn.execute(_CLAIM, {"now": now, "chunk": size, "lease_until": now + LEASE}).all()
    return sorted(rows, key=lambda row: row.id)


def _release(conn: sa.Connection, ids: list[int], now: datetime) -> None:
    """Give back claimed messages we did not try (stop, outage): due again at once."""
    if ids:
        with conn.begin():
            conn.execute(
                sa.update(OutboxMessage)
                .where(OutboxMessage.id.in_(ids), OutboxMessage.status == OutboxStatus.SENDING)
                .values(status=OutboxStatus.PENDING, next_attempt_at=now)
            )


def release_abandoned_claims(session: Session, now: datetime) -> int:
    """Messages a dead sender had claimed are due again.

    Called by a scheduler when it becomes the leader: it is then the only sender, so
    every claim still on file belongs to a process that is gone.
    """
    result = session.execute(
        sa.update(OutboxMessage)
        .where(OutboxMessage.status == OutboxStatus.SENDING)
        .values(status=OutboxStatus.PENDING, next_attempt_at=now)
        .execution_options(synchronize_session=False)
    )
    if result.rowcount:
        log.warning("%d message(s) claimed by a sender that stopped are due again", result.rowcount)
    return result.rowcount or 0


def _expire_leases(session: Session, now: datetime) -> None:
    session.execute(
        sa.update(OutboxMessage)
        .where(OutboxMessage.status == OutboxStatus.SENDING, OutboxMessage.next_attempt_at <= now)
        .values(status=OutboxStatus.PENDING)
        .execution_options(synchronize_session=False)
    )


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


def _retry_or_give_up(conn: sa.Connection, claimed: sa.Row, now: datetime, error: str, *, permanent: bool) -> bool:
    """Record a failed attempt; True when we gave up on the message."""
    config = current_app.config
    attempts = claimed.attempts + 1
    values: dict[str, object] = {"attempts": attempts, "last_error": error[:2000]}
    gave_up = permanent or attempts >= config["MAIL_MAX_ATTEMPTS"]
    if gave_up:
        values["status"] = OutboxStatus.FAILED
        log.warning("giving up on outbox #%s (%s) after %s attempt(s): %s", claimed.id, claimed.kind, attempts, error)
    else:
        values["status"] = OutboxStatus.PENDING
        values["next_attempt_at"] = now + backoff(attempts, config["MAIL_RETRY_BASE_SECONDS"])
        log.info("outbox #%s (%s) will be retried at %s: %s", claimed.id, claimed.kind,
                 values["next_attempt_at"].isoformat(timespec="seconds"), error)
    conn.execute(sa.update(OutboxMessage).where(OutboxMessage.id == claimed.id).values(**values))
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
) -> SendReport:
    """Send what is due, over one SMTP connection, committing after every message."""
    report = SendReport()
    _expire_leases(session, now)
    report.superseded = supersede_stale_reminders(session)
    report.missed = mark_missed(session, now)
    session.commit()
    sender = current_app.config["MAIL_FROM"]
    # Short transactions on a plain connection: the ORM adds nothing here and costs
    # more than the database itself.
    with SMTPConnection(SMTPSettings.from_config(current_app.config)) as smtp, \
            session.get_bind().connect() as conn:
        claimed: list[sa.Row] = []
        next_recheck = RECHECK_EVERY
        postgres = conn.dialect.name == "postgresql"
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
                    wanted = CLAIM_CHUNK if limit is None else min(CLAIM_CHUNK, limit - report.processed)
                    claimed = _claim_chunk(conn, now, wanted)
                    if not claimed:
                        break
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
                            .where(OutboxMessage.id.in_([m.id for m in claimed]))
                            .values(status=OutboxStatus.PENDING, next_attempt_at=now)
                        )
                        claimed = []
                        _back_off_everything_due(conn, now, f"SMTP unavailable: {error}")
                        break
                    except Refused as error:
                        if _retry_or_give_up(conn, message, now, str(error), permanent=error.permanent):
                            report.failed += 1
                        else:
                            report.retried += 1
                    except Exception as error:  # noqa: BLE001  one message we cannot even try must not block the rest
                        log.exception("outbox #%s cannot be sent", message.id)
                        _retry_or_give_up(conn, message, now, f"{type(error).__name__}: {error}", permanent=True)
                        report.failed += 1
                    else:
                        conn.execute(_MARK_SENT, {"outbox_id": message.id, "sent_now": now})
                        report.sent += 1
        finally:
            if conn.in_transaction():
                conn.rollback()
            _release(conn, [m.id for m in claimed], now)
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
