"""Accounts of the people who edit: admins and editors."""
from __future__ import annotations

import enum
import secrets
from datetime import datetime

import sqlalchemy as sa
from flask_login import UserMixin
from sqlalchemy.orm import Mapped, mapped_column, relationship

from tracker.extensions import UTCDateTime, db, string_enum, utcnow
from tracker.records.models import Case


class Role(str, enum.Enum):
    ADMIN = "admin"
    EDITOR = "editor"


editor_cases = sa.Table(
    "editor_cases",
    db.metadata,
    sa.Column("user_id", sa.ForeignKey("users.id", ondelete="CASCADE"), primary_key=True),
    sa.Column("case_id", sa.ForeignKey("cases.id", ondelete="CASCADE"), primary_key=True),
)


def new_feed_token() -> str:
    return secrets.token_urlsafe(24)


def new_login_id() -> str:
    return secrets.token_urlsafe(32)


class User(db.Model, UserMixin):
    __tablename__ = "users"

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(sa.String(254), unique=True)
    name: Mapped[str] = mapped_column(sa.String(200), default="")
    password_hash: Mapped[str | None] = mapped_column(sa.String(300))  # None until an invitation is accepted
    role: Mapped[Role] = mapped_column(string_enum(Role), default=Role.EDITOR)
    active: Mapped[bool] = mapped_column(default=True)
    # Secret for the private calendar feed; replacing it revokes every old URL.
    feed_token: Mapped[str | None] = mapped_column(sa.String(64), unique=True, default=new_feed_token)
    # What sessions and "Stay logged in" cookies carry instead of the row id (see get_id).
    # Replacing it (tracker.auth.logic.end_all_sessions) ends every session on every device.
    login_id: Mapped[str] = mapped_column(sa.String(64), unique=True, default=new_login_id)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_login_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # The language of every email to this account (alerts, invitations, password resets),
    # chosen on the account page; an invitation takes the inviting admin's choice.
    language: Mapped[str] = mapped_column(sa.String(16), default="en", server_default="en")

    # Empty means: may edit every case.
    cases: Mapped[list[Case]] = relationship(secondary=editor_cases)

    def get_id(self) -> str:  # Flask-Login
        """A random secret rather than the row id: a remember cookie is an HMAC of this value,
        so with the row id anyone holding a copy (or the signing key) could log in for ever."""
        return self.login_id

    @property
    def is_active(self) -> bool:  # Flask-Login
        return self.active

    @property
    def is_admin(self) -> bool:
        return self.role is Role.ADMIN

    @property
    def case_ids(self) -> frozenset[int] | None:
        """The cases this account may edit; None for every case (admins, and editors with no
        case assigned). tracker.access reads it for every check of an editor's limits."""
        if self.is_admin or not self.cases:
            return None
        return frozenset(case.id for case in self.cases)

    def __repr__(self) -> str:
        return f"<User {self.email} {self.role.value}>"
