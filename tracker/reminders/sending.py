"""Sending the outbox: every kind of row (reminders, notices, invitations, resets).

Each message is claimed, sent and marked in its own short transaction over one SMTP
connection for the whole batch. That is what makes delivery exactly-once in
practice: a crash between the relay's "250" and our commit leaves at most that one
row pending, and its resend carries the same Message-ID; on PostgreSQL the claim is
`FOR UPDATE SKIP LOCKED`, so two senders never pick the same row.
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


# Built once: these run for every message, and building a statement costs more than running it.
_CLAIM = (
    sa.select(OutboxMessage.id, OutboxMessage.recipient, OutboxMessage.raw, OutboxMessage.attempts,
              OutboxMessage.kind)
    .where(OutboxMessage.status == OutboxStatus.PENDING, OutboxMessage.next_attempt_at <= sa.bindparam("now"))
    .order_by(OutboxMessage.next_attempt_at, OutboxMessage.id)
    .limit(1)
    .with_for_update(skip_locked=True)
)
_MARK_SENT = (
    sa.update(OutboxMessage)
    .where(OutboxMessage.id == sa.bindparam("outbox_id"))
    .values(status=OutboxStatus.SENT, sent_at=sa.bindparam("sent_now"), attempts=OutboxMessage.attempts + 1,
            last_error="")
    .execution_options(synchronize_session=False)
)


def _claim_next(conn: sa.Connection, now: datetime) -> sa.Row | None:
    """The next due message, locked until our commit; rows another sender holds are skipped."""
    return conn.execute(_CLAIM, {"now": now}).first()


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
    report.superseded = supersede_stale_reminders(session)
    report.missed = mark_missed(session, now)
    session.commit()
    sender = current_app.config["MAIL_FROM"]
    # One short transaction per message on a plain connection: the ORM adds nothing here
    # and costs more than the database itself.
    with SMTPConnection(SMTPSettings.from_config(current_app.config)) as smtp, \
            session.get_bind().connect() as conn:
        while limit is None or report.processed < limit:
            if should_stop is not None and should_stop():
                log.info("stopping between messages, as asked")
                break
            with conn.begin():
                if report.processed and report.processed % RECHECK_EVERY == 0:
                    # a long batch: hearings may have moved since it began
                    report.superseded += supersede_stale_reminders(conn)
                claimed = _claim_next(conn, now)
                if claimed is None:
                    break
                try:
                    smtp.send(sender, claimed.recipient, _raw(conn, claimed))
                except ConnectionProblem as error:
                    log.error("SMTP unavailable, every due message waits: %s", error)
                    report.connection_error = str(error)
                    _back_off_everything_due(conn, now, f"SMTP unavailable: {error}")
                    break
                except Refused as error:
                    if _retry_or_give_up(conn, claimed, now, str(error), permanent=error.permanent):
                        report.failed += 1
                    else:
                        report.retried += 1
                except Exception as error:  # noqa: BLE001  a message we cannot even try must not block the rest
                    log.exception("outbox #%s cannot be sent", claimed.id)
                    _retry_or_give_up(conn, claimed, now, f"{type(error).__name__}: {error}", permanent=True)
                    report.failed += 1
                else:
                    conn.execute(_MARK_SENT, {"outbox_id": claimed.id, "sent_now": now})
                    report.sent += 1
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
