"""Reading query parameters strictly: anything odd is a 400 with a reason, never a 500.

The API is read by programs; a typo (`form=` for `from=`) silently ignored would
return the wrong data, so unknown and repeated parameters are refused too. Values
reach SQL only after they are checked: PostgreSQL refuses NUL bytes and integers
past its column range with an error, which would otherwise surface as a 500.
"""
from __future__ import annotations

import enum
from datetime import date, datetime, time, timedelta, timezone
from typing import TypeVar
from zoneinfo import ZoneInfo

from flask_babel import gettext as _
from werkzeug.datastructures import MultiDict

from tracker.records import wallclock

MAX_ID = 2**31 - 1  # INTEGER columns on PostgreSQL
MAX_VALUE_LENGTH = 200
FAR_PAST = datetime.min.replace(tzinfo=timezone.utc)
FAR_FUTURE = datetime.max.replace(tzinfo=timezone.utc)

E = TypeVar("E", bound=enum.Enum)


class BadParameter(ValueError):
    """A parameter that cannot be honoured; the message tells the client why (400)."""


def has_control_characters(text: str) -> bool:
    return any(ord(c) < 32 or 0x7F <= ord(c) < 0xA0 for c in text)


def read_args(args: MultiDict, allowed: set[str]) -> dict[str, str]:
    """The query string as a plain dict, after refusing unknown, repeated and unreadable parameters."""
    values: dict[str, str] = {}
    for name in args:
        if name not in allowed:
            known = ", ".join(sorted(allowed)) or _("none")
            raise BadParameter(_("Unknown parameter '%(name)s' (known here: %(known)s).",
                                 name=_printable(name), known=known))
        given = args.getlist(name)
        if len(given) > 1:
            raise BadParameter(_("Give '%(name)s' once.", name=name))
        value = given[0]
        if has_control_characters(value):
            raise BadParameter(_("'%(name)s' contains control characters.", name=name))
        if len(value) > MAX_VALUE_LENGTH:
            raise BadParameter(_("'%(name)s' is too long (%(max)d characters at most).",
                                 name=name, max=MAX_VALUE_LENGTH))
        if value != "":
            values[name] = value
    return values


def _printable(text: str) -> str:
    cleaned = "".join(c if not has_control_characters(c) else "?" for c in text)
    return cleaned[:40]


def parse_limit(raw: str | None, default: int, maximum: int) -> int:
    if raw is None:
        return default
    if not raw.isascii() or not raw.isdigit():
        raise BadParameter(_("'limit' must be a whole number from 1 to %(max)d.", max=maximum))
    value = int(raw) if len(raw) <= 6 else maximum + 1
    if not 1 <= value <= maximum:
        raise BadParameter(_("'limit' must be a whole number from 1 to %(max)d.", max=maximum))
    return value


def parse_id(name: str, raw: str) -> int:
    if not raw.isascii() or not raw.isdigit() or len(raw) > 10 or not 1 <= int(raw) <= MAX_ID:
        raise BadParameter(_("'%(name)s' must be a record number (a whole number from 1).", name=name))
    return int(raw)


def parse_enum(name: str, raw: str, cls: type[E]) -> E:
    try:
        return cls(raw)
    except ValueError:
        known = ", ".join(member.value for member in cls)
        raise BadParameter(_("'%(name)s' must be one of: %(known)s.", name=name, known=known)) from None


def _local_instant(name: str, local: datetime, zone: ZoneInfo) -> datetime:
    try:
        return wallclock.to_utc(local, zone)
    except wallclock.LocalTimeError as error:
        if error.skipped:
            raise BadParameter(_("'%(name)s': %(time)s does not exist in %(zone)s (the clocks go forward then).",
                                 name=name, time=local.isoformat(), zone=zone.key)) from None
        first, second = (local.isoformat() + wallclock.format_offset(o) for o in error.offsets)
        raise BadParameter(_("'%(name)s': %(time)s happens twice in %(zone)s (the clocks go back then): give its "
                             "offset, %(first)s or %(second)s.", name=name, time=local.isoformat(), zone=zone.key,
                             first=first, second=second)) from None


def parse_instant(name: str, raw: str, zone: ZoneInfo, *, end_of_day: bool) -> datetime:
    """A date-time with offset, a local date-time (in `zone`), or a date.

    A date means the start of that day in `zone`, or with `end_of_day` the start of the
    next one, so that `to=2026-12-02` includes the whole of 2 December.
    """
    try:
        if "T" in raw or " " in raw:
            moment = datetime.fromisoformat(raw)
        else:
            day = date.fromisoformat(raw)
            if end_of_day and day == date.max:
                return FAR_FUTURE
            if end_of_day:
                day += timedelta(days=1)
            moment = datetime.combine(day, time(0), tzinfo=zone)
    except ValueError:
        raise BadParameter(
            _("'%(name)s' must be a date (2026-12-02) or a date and time (2026-12-02T11:00:00+03:00).", name=name)
        ) from None
    try:
        if moment.tzinfo is None:  # a local time the clocks skip or repeat: a 400 saying so, not a guess
            moment = _local_instant(name, moment, zone)
        return moment.astimezone(timezone.utc)
    except OverflowError:  # within a day of year 1 or 9999: as good as the end of time
        return FAR_PAST if moment.year == 1 else FAR_FUTURE
