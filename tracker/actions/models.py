"""Solidarity actions: a vigil, a letter-writing evening, a picket, anywhere in the world.

An action is submitted by an organiser without an account and stays `pending` until an
editor approves it; only approved (and later cancelled) actions are public. Its start and
end are stored in UTC together with the IANA zone of the place, so every page and
calendar tells the time as people there read it. The organiser's contact is private:
editors only, never on a page, in a feed or in the API.
"""
from __future__ import annotations

import enum
from collections.abc import Collection
from datetime import datetime
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l
from sqlalchemy.ext.hybrid import hybrid_method
from sqlalchemy.orm import Mapped, mapped_column, relationship

from tracker.extensions import UTCDateTime, db, string_enum, utcnow
from tracker.records.models import Case, Defendant, case_defendants


class ActionStatus(str, enum.Enum):
    PENDING = "pending"  # submitted, not yet reviewed: editors only
    APPROVED = "approved"  # public
    CANCELLED = "cancelled"  # was approved, called off: public, marked so, until it would have ended
    REJECTED = "rejected"  # never public

    @property
    def label(self) -> str:
        return str(STATUS_LABELS[self.value])


STATUS_LABELS = {
    ActionStatus.PENDING.value: _l("awaiting review"),
    ActionStatus.APPROVED.value: _l("approved"),
    ActionStatus.CANCELLED.value: _l("called off"),
    ActionStatus.REJECTED.value: _l("rejected"),
}

PUBLIC_STATUSES = (ActionStatus.APPROVED, ActionStatus.CANCELLED)


action_defendants = sa.Table(
    "action_defendants",
    db.metadata,
    sa.Column("action_id", sa.ForeignKey("actions.id", ondelete="CASCADE"), primary_key=True),
    sa.Column("defendant_id", sa.ForeignKey("defendants.id", ondelete="CASCADE"), primary_key=True, index=True),
)


class ActionTimes:
    """An action's clock, for the model and for the rows /actions reads (actions.listing)."""

    __slots__ = ()  # the light rows are slotted dataclasses

    @property
    def tz(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    @property
    def local_start(self) -> datetime:
        return self.starts_at.astimezone(self.tz)


class Action(ActionTimes, db.Model):
    __tablename__ = "actions"

    id: Mapped[int] = mapped_column(primary_key=True)
    # a group's own identifier of the action: what the spreadsheet exchange matches it on first
    external_id: Mapped[str | None] = mapped_column(sa.String(120), unique=True)
    title: Mapped[str] = mapped_column(sa.String(200))
    description: Mapped[str] = mapped_column(sa.Text, default="")
    organiser: Mapped[str] = mapped_column(sa.String(200), default="")  # public: a group's name
    city: Mapped[str] = mapped_column(sa.String(120))
    country: Mapped[str] = mapped_column(sa.String(2))  # ISO 3166-1 alpha-2; named in the reader's language
    address: Mapped[str] = mapped_column(sa.String(300), default="")
    timezone: Mapped[str] = mapped_column(sa.String(64))
    starts_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    ends_at: Mapped[datetime] = mapped_column(UTCDateTime)
    case_id: Mapped[int | None] = mapped_column(sa.ForeignKey("cases.id", ondelete="SET NULL"), index=True)
    status: Mapped[ActionStatus] = mapped_column(string_enum(ActionStatus), default=ActionStatus.PENDING, index=True)
    # Private: editors only. Never rendered by a public page, feed or API.
    contact: Mapped[str] = mapped_column(sa.String(300))
    is_demo: Mapped[bool] = mapped_column(default=False)
    version: Mapped[int] = mapped_column(default=1)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    case: Mapped[Case | None] = relationship()
    defendants: Mapped[list[Defendant]] = relationship(secondary=action_defendants, order_by="Defendant.name_latin")

    # SEQUENCE of its calendar event, and editors' optimistic locking: every UPDATE raises it.
    __mapper_args__ = {"version_id_col": version}

    __table_args__ = (sa.CheckConstraint("ends_at > starts_at", name="ends_after_start"),)

    @property
    def local_end(self) -> datetime:
        return self.ends_at.astimezone(self.tz)

    @property
    def is_public(self) -> bool:
        """Approved (or called off after approval), and not tied only to hidden defendants."""
        return self.status in PUBLIC_STATUSES and (
            not self.defendants or any(d.is_public for d in self.defendants)
        )

    def public_defendants(self, reads_original: bool = False) -> list[Defendant]:
        """The people the public may see, in the order of the reader's script (as a hearing's)."""
        people = [d for d in self.defendants if d.is_public]
        return Defendant.in_reading_order(people, True) if reads_original else people

    @classmethod
    def public_clause(cls) -> sa.ColumnElement[bool]:
        """`is_public` in SQL.

        Written as `id NOT IN (linked) OR id IN (linked to a public defendant)`, two uncorrelated
        subqueries each database runs once (a hash or a temporary index), rather than the ORM's
        correlated `EXISTS` pair, which SQLite answered by scanning every public defendant for
        each action (90 ms for /actions at 500 actions and 500 defendants; 4x that at 2,000).
        """
        linked = sa.select(action_defendants.c.action_id)
        linked_public = (sa.select(action_defendants.c.action_id)
                         .join(Defendant, Defendant.id == action_defendants.c.defendant_id)
                         .where(Defendant.is_public.is_(True)))
        return sa.and_(
            cls.status.in_(PUBLIC_STATUSES),
            sa.or_(cls.id.not_in(linked), cls.id.in_(linked_public)),
        )

    # --- which editors may review it: the case-limit rule of tracker/access.py -------------
    # An action belongs to its case and to every case of its defendants. One linked to nothing
    # belongs to no case: only editors of every case (and admins) review it, as with anything
    # not yet tied to a case (`access.can_edit(user, None)`).

    @hybrid_method
    def in_cases(self, case_ids: Collection[int]) -> bool:
        if self.case_id is not None and self.case_id in case_ids:
            return True
        return any(case.id in case_ids for person in self.defendants for case in person.cases)

    @in_cases.expression
    def in_cases(cls, case_ids: Collection[int]) -> sa.ColumnElement[bool]:  # noqa: N805
        ids = sorted(case_ids)
        linked = (
            sa.select(action_defendants.c.action_id)
            .join(case_defendants, case_defendants.c.defendant_id == action_defendants.c.defendant_id)
            .where(case_defendants.c.case_id.in_(ids))
        )
        return sa.or_(cls.case_id.in_(ids), cls.id.in_(linked))

    def __repr__(self) -> str:
        return f"<Action {self.id} {self.city} {self.starts_at:%Y-%m-%d %H:%M}Z v{self.version}>"
