"""Volunteers' subscriptions, and what the reminder jobs remember.

Reminders travel through the outbox (tracker/mail) like every email; `ReminderDelivery`
adds the key that makes each reminder exactly-once: (subscription, hearing, lead time,
hearing version).
"""
from __future__ import annotations

import enum
import secrets
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from tracker.extensions import UTCDateTime, db, string_enum, utcnow
from tracker.mail.models import OutboxMessage
from tracker.records.enums import HearingStatus
from tracker.records.models import Case, Defendant, Hearing


class Scope(str, enum.Enum):
    ALL = "all"  # every public hearing
    CASE = "case"
    DEFENDANT = "defendant"
    # One hearing the volunteer said they will go to (tracker/attendance: "I'll be there").
    HEARING = "hearing"


def new_token() -> str:
    return secrets.token_urlsafe(24)


class Subscription(db.Model):
    """A volunteer's email and what they follow. No account: the token is the key."""

    __tablename__ = "subscriptions"

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(sa.String(254), index=True)
    scope: Mapped[Scope] = mapped_column(string_enum(Scope))
    case_id: Mapped[int | None] = mapped_column(sa.ForeignKey("cases.id", ondelete="CASCADE"), index=True)
    defendant_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("defendants.id", ondelete="CASCADE"), index=True
    )
    hearing_id: Mapped[int | None] = mapped_column(sa.ForeignKey("hearings.id", ondelete="CASCADE"), index=True)
    # Only for Scope.HEARING, optional: how the organisers may greet the person. Private like
    # the address: editors of the hearing see it, nobody else (docs/attendance.md).
    first_name: Mapped[str] = mapped_column(sa.String(60), default="", server_default="")
    # "all", "case:12", "defendant:7", "hearing:3": one subscription per address and scope.
    scope_key: Mapped[str] = mapped_column(sa.String(60))
    # Minutes before a hearing, e.g. [1440, 180]; ignored when `digest` is chosen.
    lead_minutes: Mapped[list[int]] = mapped_column(sa.JSON, default=list)
    digest: Mapped[bool] = mapped_column(default=False)
    # Secret for the manage/unsubscribe links; never shown anywhere but in the volunteer's mail.
    token: Mapped[str] = mapped_column(sa.String(64), unique=True, default=new_token)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    confirmed_at: Mapped[datetime | None] = mapped_column(UTCDateTime, index=True)
    # The language the sign-up was made in (the page's): every email to it is written in it.
    language: Mapped[str] = mapped_column(sa.String(16), default="en", server_default="en")

    case: Mapped[Case | None] = relationship()
    defendant: Mapped[Defendant | None] = relationship()
    hearing: Mapped[Hearing | None] = relationship()

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
    status: Mapped[HearingStatus] = mapped_column(string_enum(HearingStatus))
    court_id: Mapped[int] = mapped_column()
    courtroom: Mapped[str] = mapped_column(sa.String(100), default="")
