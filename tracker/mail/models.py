"""The outbox: every email the app sends, first as a row.

A message is written in the same transaction as the change that causes it and sent
afterwards by the scheduler (sending.py), so a crash or an SMTP outage delays mail but
never loses or doubles it. `dedupe_key` makes recording the same email twice impossible.
"""
from __future__ import annotations

import enum
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from tracker.extensions import UTCDateTime, db, string_enum, utcnow


class OutboxStatus(str, enum.Enum):
    PENDING = "pending"
    SENDING = "sending"  # claimed by the sender named in claim_token until next_attempt_at (a lease)
    SENT = "sent"
    FAILED = "failed"  # gave up after MAIL_MAX_ATTEMPTS or a permanent (5xx) refusal
    MISSED = "missed"  # its moment passed (the hearing started) before it could go out
    SUPERSEDED = "superseded"  # what it was about changed (a reminder's hearing moved): nothing to send


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
    status: Mapped[OutboxStatus] = mapped_column(string_enum(OutboxStatus), default=OutboxStatus.PENDING)
    # Whose claim a `sending` row is (tracker/mail/claims.py): only that sender may mark
    # it sent or give it back, and a new leader can tell a dead owner from a live one.
    claim_token: Mapped[str | None] = mapped_column(sa.String(40))
    attempts: Mapped[int] = mapped_column(default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # Not sent after this moment (a reminder is useless once its hearing started).
    expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_error: Mapped[str] = mapped_column(sa.Text, default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # The whole RFC 5322 message, composed once when the row is written: a resend after
    # a crash is byte for byte the same message, Message-ID and Date included.
    raw: Mapped[bytes | None] = mapped_column(sa.LargeBinary)
    # Set for mail to volunteers, so leaving cancels whatever is still pending.
    subscription_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("subscriptions.id", ondelete="SET NULL"), index=True
    )

    # The sender's claim reads this index in order and stops at the first unlocked row;
    # without `id` in it, PostgreSQL sorts every row due at the same moment (10,000 at once).
    __table_args__ = (sa.Index("ix_outbox_due", "status", "next_attempt_at", "id"),)

    def __repr__(self) -> str:
        return f"<OutboxMessage {self.id} {self.kind} {self.status.value}>"
