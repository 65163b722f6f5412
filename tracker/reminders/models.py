"""The outbox, volunteers' subscriptions, and what the reminder jobs remember.

Every email the app sends is first an `OutboxMessage` row, written in the same
transaction as the change that causes it and sent afterwards by the scheduler, so a
crash or an SMTP outage delays mail but never loses or doubles it. `dedupe_key`
makes recording the same email twice impossible; for reminders, `ReminderDelivery`
adds the key the issue asks for: (subscription, hearing, lead time, hearing version).
"""
from __future__ import annotations

import enum
import secrets
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from tracker.extensions import UTCDateTime, db, utcnow
from tracker.records.models import Case, Defendant, HearingStatus, _enum


class OutboxStatus(str, enum.Enum):
    PENDING = "pending"
    SENDING = "sending"  # claimed by the sender named in claim_token until next_attempt_at (a lease)
    SENT = "sent"
    FAILED = "failed"  # gave up after MAIL_MAX_ATTEMPTS or a permanent (5xx) refusal
    MISSED = "missed"  # its moment passed (the hearing started) before it could go out
    SUPERSEDED = "superseded"  # the hearing changed or the volunteer left; nothing to send


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
    # Whose claim a `sending` row is (tracker/reminders/sending.py): only that sender may mark
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


class Scope(str, enum.Enum):
    ALL = "all"  # every public hearing
    CASE = "case"
    DEFENDANT = "defendant"


def new_token() -> str:
    return secrets.token_urlsafe(24)


class Subscription(db.Model):
    """A volunteer's email and what they follow. No account: the token is the key."""

    __tablename__ = "subscriptions"

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(sa.String(254), index=True)
    scope: Mapped[Scope] = mapped_column(_enum(Scope))
    case_id: Mapped[int | None] = mapped_column(sa.ForeignKey("cases.id", ondelete="CASCADE"), index=True)
    defendant_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("defendants.id", ondelete="CASCADE"), index=True
    )
    # "all", "case:12", "defendant:7": one subscription per address and scope.
    scope_key: Mapped[str] = mapped_column(sa.String(60))
    # Minutes before a hearing, e.g. [1440, 180]; ignored when `digest` is chosen.
    lead_minutes: Mapped[list[int]] = mapped_column(sa.JSON, default=list)
    digest: Mapped[bool] = mapped_column(default=False)
    # Secret for the manage/unsubscribe links; never shown anywhere but in the volunteer's mail.
    token: Mapped[str] = mapped_column(sa.String(64), unique=True, default=new_token)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    confirmed_at: Mapped[datetime | None] = mapped_column(UTCDateTime, index=True)

    case: Mapped[Case | None] = relationship()
    defendant: Mapped[Defendant | None] = relationship()

    __table_args__ = (sa.UniqueConstraint("email", "scope_key"),)

    @property
    def is_confirmed(self) -> bool:
        return self.confirmed_at is not None

    def __repr__(self) -> str:
        return f"<Subscription {self.id} {self.scope_key}>"


class ReminderDelivery(db.Model):
    """One reminder of one hearing for one subscription, carried by an outbox message.

    Same-day hearings at one court travel in one message, so several deliveries may
    share an outbox row; the unique key keeps each from being recorded twice.
    """

    __tablename__ = "reminder_deliveries"

    id: Mapped[int] = mapped_column(primary_key=True)
    subscription_id: Mapped[int] = mapped_column(sa.ForeignKey("subscriptions.id", ondelete="CASCADE"))
    hearing_id: Mapped[int] = mapped_column(sa.ForeignKey("hearings.id", ondelete="CASCADE"), index=True)
    lead_minutes: Mapped[int] = mapped_column()
    hearing_version: Mapped[int] = mapped_column()
    # The start this reminder announced: a move makes it stale, a mere edit does not.
    hearing_starts_at: Mapped[datetime] = mapped_column(UTCDateTime)
    outbox_id: Mapped[int] = mapped_column(sa.ForeignKey("outbox.id", ondelete="CASCADE"), index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    outbox: Mapped[OutboxMessage] = relationship()

    __table_args__ = (
        sa.UniqueConstraint("subscription_id", "hearing_id", "lead_minutes", "hearing_version"),
    )


class HearingSnapshot(db.Model):
    """The last state of a hearing the change-notice job has seen.

    Comparing it with the hearing finds postponements, moves and cancellations however
    they were made; writing it in the same transaction as the notices makes the job
    idempotent.
    """

    __tablename__ = "reminder_hearing_snapshots"

    hearing_id: Mapped[int] = mapped_column(sa.ForeignKey("hearings.id", ondelete="CASCADE"), primary_key=True)
    version: Mapped[int] = mapped_column()
    starts_at: Mapped[datetime] = mapped_column(UTCDateTime)
    status: Mapped[HearingStatus] = mapped_column(_enum(HearingStatus))
    court_id: Mapped[int] = mapped_column()
    courtroom: Mapped[str] = mapped_column(sa.String(100), default="")
