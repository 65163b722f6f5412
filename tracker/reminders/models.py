"""The outbox: every email the app sends is first a row here.

A row is written in the same transaction as the change that causes it and sent
afterwards by the scheduler, so a crash or an SMTP outage delays mail but never
loses or doubles it. `dedupe_key` makes recording the same email twice impossible.
"""
from __future__ import annotations

import enum
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from tracker.extensions import UTCDateTime, db, utcnow
from tracker.records.models import _enum


class OutboxStatus(str, enum.Enum):
    PENDING = "pending"
    SENT = "sent"
    FAILED = "failed"  # gave up after MAIL_MAX_ATTEMPTS or a permanent (5xx) refusal
    MISSED = "missed"  # its moment passed (the hearing started) before it could go out
    SUPERSEDED = "superseded"  # the hearing changed; a newer row replaces this one


class OutboxMessage(db.Model):
    __tablename__ = "outbox"

    id: Mapped[int] = mapped_column(primary_key=True)
    dedupe_key: Mapped[str] = mapped_column(sa.String(255), unique=True)
    kind: Mapped[str] = mapped_column(sa.String(40))  # "invitation", "reminder", ...
    recipient: Mapped[str] = mapped_column(sa.String(254))
    subject: Mapped[str] = mapped_column(sa.String(300), default="")
    text_body: Mapped[str] = mapped_column(sa.Text, default="")
    html_body: Mapped[str | None] = mapped_column(sa.Text)
    message_id: Mapped[str] = mapped_column(sa.String(255), unique=True)
    status: Mapped[OutboxStatus] = mapped_column(_enum(OutboxStatus), default=OutboxStatus.PENDING)
    attempts: Mapped[int] = mapped_column(default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # Not sent after this moment (a reminder is useless once its hearing started).
    expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_error: Mapped[str] = mapped_column(sa.Text, default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    __table_args__ = (sa.Index("ix_outbox_due", "status", "next_attempt_at"),)
