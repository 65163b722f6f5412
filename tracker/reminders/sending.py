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


def supersede_stale_reminders(session: Session) -> int:
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


def _claim_next(session: Session, now: datetime) -> OutboxMessage | None:
    return session.scalar(
        sa.select(OutboxMessage)
        .where(OutboxMessage.status == OutboxStatus.PENDING, OutboxMessage.next_attempt_at <= now)
        .order_by(OutboxMessage.next_attempt_at, OutboxMessage.id)
        .limit(1)
        .with_for_update(skip_locked=True)
    )


def _raw(message: OutboxMessage) -> bytes:
    if message.raw is not None:
        return message.raw
    # A row written by hand, without the composed message: compose it now, and keep it.
    message.raw = compose(
        message_id=message.message_id, sender=current_app.config["MAIL_FROM"],
        recipient=message.recipient, subject=message.subject, text_body=message.text_body,
        html_body=message.html_body, date=message.created_at,
    )
    return message.raw


def _retry_or_give_up(message: OutboxMessage, now: datetime, error: str, *, permanent: bool) -> bool:
    """Record a failed attempt; True when we gave up on the message."""
    config = current_app.config
    message.attempts += 1
    message.last_error = error[:2000]
    if permanent or message.attempts >= config["MAIL_MAX_ATTEMPTS"]:
        message.status = OutboxStatus.FAILED
        log.warning("giving up on outbox #%s to %s after %s attempt(s): %s",
                    message.id, message.kind, message.attempts, error)
        return True
    message.next_attempt_at = now + backoff(message.attempts, config["MAIL_RETRY_BASE_SECONDS"])
    log.info("outbox #%s (%s) will be retried at %s: %s", message.id, message.kind,
             message.next_attempt_at.isoformat(timespec="seconds"), error)
    return False


def _back_off_everything_due(session: Session, now: datetime, error: str) -> None:
    """The relay is unreachable: every due message waits, each by its own backoff.

    One statement: the attempts count picks the delay (CASE), and a message that
    reaches the limit is given up on, as if it had been tried on its own.
    """
    config = current_app.config
    limit, base = config["MAIL_MAX_ATTEMPTS"], config["MAIL_RETRY_BASE_SECONDS"]
    delays = {n: now + backoff(n + 1, base) for n in range(limit)}
    due = sa.and_(OutboxMessage.status == OutboxStatus.PENDING, OutboxMessage.next_attempt_at <= now)
    session.execute(
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
    with SMTPConnection(SMTPSettings.from_config(current_app.config)) as smtp:
        while limit is None or report.processed < limit:
            if should_stop is not None and should_stop():
                log.info("stopping between messages, as asked")
                break
            message = _claim_next(session, now)
            if message is None:
                break
            try:
                smtp.send(sender, message.recipient, _raw(message))
            except ConnectionProblem as error:
                log.error("SMTP unavailable, every due message waits: %s", error)
                report.connection_error = str(error)
                _back_off_everything_due(session, now, f"SMTP unavailable: {error}")
                session.commit()
                break
            except Refused as error:
                if _retry_or_give_up(message, now, str(error), permanent=error.permanent):
                    report.failed += 1
                else:
                    report.retried += 1
            else:
                message.status = OutboxStatus.SENT
                message.sent_at = now
                message.attempts += 1
                message.last_error = ""
                report.sent += 1
            session.commit()
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
