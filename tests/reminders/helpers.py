"""Small helpers shared by the reminders' tests."""
from __future__ import annotations

from datetime import timedelta

import sqlalchemy as sa

from tracker.extensions import db
from tracker.mail.models import OutboxMessage, OutboxStatus
from tracker.mail.outbox import enqueue_email


def outbox(kind: str | None = None, status: OutboxStatus | None = None) -> list[OutboxMessage]:
    query = sa.select(OutboxMessage).order_by(OutboxMessage.id)
    if kind:
        query = query.where(OutboxMessage.kind == kind)
    if status:
        query = query.where(OutboxMessage.status == status)
    return list(db.session.scalars(query))


def minutes(n: int) -> timedelta:
    return timedelta(minutes=n)


def queue_plain(n: int, now, prefix: str) -> None:  # noqa: ANN001
    """`n` one-line test emails to person0..n-1@example.org, committed."""
    for i in range(n):
        enqueue_email(db.session, dedupe_key=f"{prefix}:{i}", kind="test", recipient=f"person{i}@example.org",
                      subject=f"Message {i}", text_body="Hello", now=now)
    db.session.commit()


def statuses() -> dict[str, int]:
    """How many messages the outbox holds in each state (a fresh read, no transaction left open)."""
    rows = db.session.execute(sa.select(OutboxMessage.status, sa.func.count()).group_by(OutboxMessage.status)).all()
    db.session.rollback()
    return {status.value if isinstance(status, OutboxStatus) else status: n for status, n in rows}
