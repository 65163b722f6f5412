"""Courts, and the small texts admins keep (both read by every page, neither about a person).

Apart from models.py only to keep each module short; `tracker.records.models` exports both.
"""
from __future__ import annotations

from zoneinfo import ZoneInfo

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from tracker.extensions import db


class CourtPlace:
    """Where a court is and its clock, for the model and for the light rows the public lists read
    (records.lines.CourtLine): both need the same two spellings and zone."""

    __slots__ = ()  # the light rows are slotted dataclasses

    @property
    def where_latin(self) -> str:
        """Name and address in Latin letters, as one line ("Moscow City Court, Bogorodsky Val, 8")."""
        return ", ".join(part for part in (self.name, self.address) if part)

    @property
    def where_original(self) -> str:
        """Name and address as written originally, each falling back to its Latin spelling; empty
        when neither has an original (records.names.in_script then shows the Latin alone)."""
        if not (self.name_original or self.address_original):
            return ""
        parts = (self.name_original or self.name, self.address_original or self.address)
        return ", ".join(part for part in parts if part)

    @property
    def tz(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)


class Court(CourtPlace, db.Model):
    """A court building: hearings take its address and time zone."""

    __tablename__ = "courts"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(sa.String(200), unique=True)  # in Latin letters
    name_original: Mapped[str] = mapped_column(sa.String(200), default="", server_default="")
    address: Mapped[str] = mapped_column(sa.String(300), default="")
    address_original: Mapped[str] = mapped_column(sa.String(300), default="", server_default="")
    timezone: Mapped[str] = mapped_column(sa.String(64), default="Europe/Moscow")

    def __repr__(self) -> str:
        return f"<Court {self.name}>"


class SiteSetting(db.Model):
    """Small texts admins edit (practical notes for hearing-goers), keyed by name."""

    __tablename__ = "site_settings"

    key: Mapped[str] = mapped_column(sa.String(80), primary_key=True)
    value: Mapped[str] = mapped_column(sa.Text, default="")
