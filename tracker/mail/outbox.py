"""Writing emails to the outbox, and what admins see of it. Sending is the scheduler's job (sending.py)."""
from __future__ import annotations

import logging
import secrets
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime, time, timedelta
from email.utils import make_msgid
from typing import Sequence
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from flask import current_app
from sqlalchemy.orm import Session

from tracker.mail.message import compose
from tracker.mail.models import OutboxBody, OutboxMessage, OutboxStatus

log = logging.getLogger(__name__)


def weekly_slot(now: datetime, tz: ZoneInfo, hour: int) -> tuple[datetime, str] | None:
    """This week's moment for a weekly email (Monday at `hour`, local) and the ISO week that keys
    it ("2026-W10"), once the moment has come; None before it. The key in each message's
    dedupe key makes it go once a week, however often the planner runs and whenever it starts.
    """
    local = now.astimezone(tz)
    monday = local.date() - timedelta(days=local.weekday())
    start = datetime.combine(monday, time(hour), tzinfo=tz)
    if local < start:
        return None
    year, week, _day = monday.isocalendar()
    return start, f"{year}-W{week:02d}"


def new_message_id() -> str:
    """A Message-ID on the app's own domain, fixed when the row is written.

    A message sent again after a crash keeps its id, so mail systems drop the copy.
    """
    domain = urlsplit(current_app.config["BASE_URL"]).hostname or "tracker.localhost"
    return make_msgid(idstring=secrets.token_hex(4), domain=domain)


def enqueue_email(
    session: Session,
    *,
    dedupe_key: str,
    kind: str,
    recipient: str,
    subject: str,
    text_body: str,
    html_body: str | None = None,
    now: datetime,
    expires_at: datetime | None = None,
    unsubscribe_url: str | None = None,
    ics: bytes | Sequence[tuple[str, bytes]] | None = None,
    subscription_id: int | None = None,
    check_existing: bool = True,
) -> OutboxMessage | None:
    """Record an email to send; returns None when one with this key is already recorded.

    Part of the caller's transaction: the email exists exactly when the change that
    caused it is committed. The whole message is composed here, once, so every
    attempt sends the same bytes with the same Message-ID. `check_existing=False`
    is for callers that already know the key is new (they loaded the keys in bulk).
    """
    if check_existing:
        exists = session.scalar(sa.select(OutboxMessage.id).where(OutboxMessage.dedupe_key == dedupe_key))
        if exists is not None:
            return None
    message_id = new_message_id()
    raw = compose(
        message_id=message_id,
        sender=current_app.config["MAIL_FROM"],
        recipient=recipient,
        subject=subject,
        text_body=text_body,
        html_body=html_body,
        date=now,
        unsubscribe_url=unsubscribe_url,
        ics=ics,
    )
    message = OutboxMessage(
        dedupe_key=dedupe_key,
        kind=kind,
        recipient=recipient,
        subject=subject,
        message_id=message_id,
        next_attempt_at=now,
        created_at=now,
        expires_at=expires_at,
        body=OutboxBody(raw=raw),
        subscription_id=subscription_id,
    )
    session.add(message)
    return message


@contextmanager
def skip_on_error(what: str, *ids: object) -> Iterator[None]:
    """Compose one message; if it cannot be, log it with its ids and go on with the others.

    Bad data in one record (a court whose time zone no longer exists, say) must not
    stop every other recipient's mail. Nothing of the message is kept: composing
    comes before its outbox row is added, so the next run tries again, and once the
    record is fixed it goes out. A database error is not skipped: the transaction is
    broken, and the step as a whole is rolled back (scheduler/jobs.py).
    """
    try:
        yield
    except sa.exc.SQLAlchemyError:
        raise
    except Exception:
        log.exception("skipped %s %s: it could not be composed; the next run tries again", what,
                      " ".join(str(i) for i in ids))


# --- admins --------------------------------------------------------------------------


def failed_messages(session: Session, limit: int = 200) -> list[OutboxMessage]:
    return list(session.scalars(
        sa.select(OutboxMessage).where(OutboxMessage.status == OutboxStatus.FAILED)
        .order_by(OutboxMessage.created_at.desc(), OutboxMessage.id.desc()).limit(limit)
    ))


def outbox_counts(session: Session) -> dict[str, int]:
    return {status.value if hasattr(status, "value") else status: count for status, count in session.execute(
        sa.select(OutboxMessage.status, sa.func.count()).group_by(OutboxMessage.status)
    )}


def retry_failed(session: Session, message_id: int, now: datetime) -> bool:
    """An admin sends a failed message again (after fixing an address, say)."""
    message = session.get(OutboxMessage, message_id)
    if message is None or message.status is not OutboxStatus.FAILED:
        return False
    message.status = OutboxStatus.PENDING
    message.attempts = 0
    message.next_attempt_at = now
    return True
