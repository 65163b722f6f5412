"""Small helpers shared by the reminders' tests."""
from __future__ import annotations

from datetime import timedelta

import sqlalchemy as sa

from tracker.extensions import db
from tracker.mail.models import OutboxMessage, OutboxStatus


def outbox(kind: str | None = None, status: OutboxStatus | None = None) -> list[OutboxMessage]:
    query = sa.select(OutboxMessage).order_by(OutboxMessage.id)
    if kind:
        query = query.where(OutboxMessage.kind == kind)
    if status:
        query = query.where(OutboxMessage.status == status)
    return list(db.session.scalars(query))


def minutes(n: int) -> timedelta:
    return timedelta(minutes=n)
