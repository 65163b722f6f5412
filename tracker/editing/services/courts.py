"""Courts: a court's name, address and time zone, shared by the hearings of every case."""
from __future__ import annotations

from datetime import datetime
from functools import lru_cache
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

import sqlalchemy as sa
from flask_babel import gettext as _
from sqlalchemy.orm import Session

from tracker.auth.models import User
from tracker.editing import audit
from tracker.editing.services.saving import DomainError, EditConflict, assign, guard
from tracker.records import wallclock
from tracker.records.models import Court, Hearing

COURT_FIELDS = ("name", "name_original", "address", "address_original", "timezone")


def court_time(local: datetime, court: Court, *, field: str = "starts_at", choice: str | None = None) -> datetime:
    """A wall-clock time typed for a court, as an aware UTC datetime. A time the court's clocks
    skip, or repeat with no `choice` of offset made, is refused next to `field`, never moved
    silently by an hour (tracker.records.wallclock)."""
    try:
        return wallclock.chosen(local, court.tz, choice)
    except wallclock.LocalTimeError as error:
        raise DomainError(field, error.message()) from None


def _in_new_zone(typed: datetime, court: Court) -> datetime:
    try:
        return wallclock.to_utc(typed, court.tz)
    except wallclock.LocalTimeError:
        raise DomainError("timezone", _("A hearing at %(time)s falls in an hour the clocks skip or repeat in "
                                        "%(zone)s: move it first, then change the zone.",
                                        time=f"{typed:%Y-%m-%d %H:%M}", zone=court.timezone)) from None


@lru_cache(maxsize=1)
def _known_zones() -> frozenset[str]:
    return frozenset(available_timezones())


def _check_timezone(tz: str, field_name: str) -> None:
    """An IANA zone name, as the calendars' TZID needs it ("Europe/Moscow", not "MSK" or "+03:00")."""
    if tz not in _known_zones():
        raise DomainError(field_name, _("Unknown time zone '%(tz)s'. Use a name such as Europe/Moscow or "
                                        "Asia/Yekaterinburg.", tz=tz))


def get_or_create_court(
    session: Session, name: str, *, address: str = "", tz: str = "Europe/Moscow", name_original: str = "",
    address_original: str = "", by: User, now: datetime,
) -> Court:
    name = name.strip()
    court = session.scalar(sa.select(Court).where(Court.name == name))
    if court is not None:
        return court
    _check_timezone(tz, "new_court_timezone")
    court = Court(name=name, address=address.strip(), timezone=tz, name_original=name_original.strip(),
                  address_original=address_original.strip())
    session.add(court)
    session.flush()
    audit.record(session, action="create", entity_type="court", entity_id=court.id,
                 changes=audit.diff({}, audit.snapshot(court, COURT_FIELDS)), by=by, now=now)
    return court


def update_court(session: Session, court: Court, values: dict[str, Any], *, by: User, now: datetime) -> Court:
    """Correct a court's name, address or time zone: one entry for the court, one for each of its hearings.

    Its hearings change with it, like any edit of theirs: each one's version goes up
    (calendars see a new SEQUENCE, reminders a new version) with an audit entry.
    A new zone corrects a wrong one, so each hearing keeps the local time editors
    typed and moves in absolute time; volunteers are told of the upcoming ones,
    as of any move.
    """
    clash = session.scalar(sa.select(Court.id).where(Court.name == values["name"], Court.id != court.id))
    if clash is not None:
        raise DomainError("name", _("Another court already has this name."))
    _check_timezone(values["timezone"], "timezone")
    try:
        old_zone: ZoneInfo | None = court.tz
    except (ZoneInfoNotFoundError, ValueError):  # saved before zones were checked: the times stay as they are
        old_zone = None
    before = audit.snapshot(court, COURT_FIELDS)
    assign(court, values, COURT_FIELDS)
    changes = audit.diff(before, audit.snapshot(court, COURT_FIELDS))
    audit.record(session, action="update", entity_type="court", entity_id=court.id, changes=changes, by=by, now=now)
    if not changes:
        return court
    note = _("The court was changed: %(what)s.", what=", ".join(sorted(changes)))
    hearings = list(session.scalars(sa.select(Hearing).where(Hearing.court_id == court.id).order_by(Hearing.id)))
    try:
        for hearing in hearings:
            with guard(session, hearing, "hearing"):
                hearing_before = audit.snapshot(hearing, ("starts_at",))
                if "timezone" in changes and old_zone is not None:
                    typed = hearing.starts_at.astimezone(old_zone).replace(tzinfo=None)
                    hearing.starts_at = _in_new_zone(typed, court)
                hearing.updated_at = now
                audit.record(session, action="court_change", entity_type="hearing", entity_id=hearing.id,
                             changes=audit.diff(hearing_before, audit.snapshot(hearing, ("starts_at",))),
                             note=note, by=by, now=now)
    except EditConflict:
        raise DomainError(None, _("A hearing at this court was saved by someone else meanwhile. "
                                  "Nothing was changed: save again.")) from None
    return court
