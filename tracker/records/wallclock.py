"""Wall-clock times typed for a place <-> UTC instants, with the two daylight-saving edges made explicit.

Hearings and actions are typed, imported and exported in the place's local time. Twice a
year that is not one instant: in spring a wall time the clocks skip does not exist (Berlin,
last Sunday of March, 02:30), in autumn one they repeat happens twice (last Sunday of
October, 02:30 at UTC+02:00 and again at UTC+01:00). `datetime.replace(tzinfo=zone)` answers
both silently (fold=0: the first of the two, and a skipped time moved by an hour), which
made an export -> import move an autumn hearing an hour early.

The rule everywhere (forms, import, API; docs/import.md "Times and daylight saving"): a
UTC offset given with the time decides, and must be one the place has at that wall time; a
time without one is taken when it names one instant, and refused with a message naming the
offsets when it names two or none. Never a silent shift.
"""
from __future__ import annotations

import re
from datetime import datetime, timedelta, timezone, tzinfo
from zoneinfo import ZoneInfo

from flask_babel import gettext as _

UTC = timezone.utc
_OFFSET = re.compile(r"^(?:utc|gmt)?\s*([+\-−])(\d{1,2})(?::?(\d{2}))?$|^(z|utc|gmt)$", re.IGNORECASE)


class LocalTimeError(ValueError):
    """A wall time that names no instant (`offsets` empty: the clocks go forward through it), or
    two (`offsets` both, in order: the clocks go back), or an `offset` given that the place
    does not have then."""

    def __init__(self, local: datetime, zone: ZoneInfo, offsets: list[timedelta], given: timedelta | None = None):
        super().__init__(f"{local:%Y-%m-%d %H:%M} in {zone.key}: {[format_offset(o) for o in offsets]}")
        self.local, self.zone, self.offsets, self.given = local, zone, offsets, given

    @property
    def skipped(self) -> bool:
        return not self.offsets

    def message(self, *, in_file: bool = False) -> str:
        """Why, and what to write instead: in a file the offset goes in the cell; a form offers a choice."""
        zone, when = self.zone.key, f"{self.local:%Y-%m-%d %H:%M}"
        if self.skipped:
            return _("This time does not exist in %(zone)s: the clocks go forward then.", zone=zone)
        if self.given is not None:
            return _("In %(zone)s, %(time)s is at UTC%(right)s, not %(given)s: correct the offset or leave it out.",
                     zone=zone, time=when, right=" / UTC".join(format_offset(o) for o in self.offsets),
                     given=format_offset(self.given))
        first, second = (format_offset(o) for o in self.offsets)
        if in_file:
            return _("%(time)s happens twice in %(zone)s (the clocks go back then): write it with its UTC offset, "
                     "'%(time)s %(first)s' for the first time or '%(time)s %(second)s' for the second.",
                     time=when, zone=zone, first=first, second=second)
        return _("%(time)s happens twice in %(zone)s (the clocks go back then): choose UTC%(first)s for the "
                 "first time or UTC%(second)s for the second.", time=when, zone=zone, first=first, second=second)


def offsets_at(local: datetime, zone: ZoneInfo) -> list[timedelta]:
    """The UTC offsets the wall time `local` has in `zone`, earliest instant first: one as a
    rule, two in the repeated autumn hour, none in the skipped spring hour."""
    naive = local.replace(tzinfo=None)
    found: list[timedelta] = []
    for fold in (0, 1):
        offset = naive.replace(tzinfo=zone, fold=fold).utcoffset()
        assert offset is not None
        back = (naive - offset).replace(tzinfo=UTC).astimezone(zone).replace(tzinfo=None)
        if back == naive and offset not in found:
            found.append(offset)
    return sorted(found, reverse=True)  # the larger offset is the earlier instant


def to_utc(local: datetime, zone: ZoneInfo, offset: timedelta | None = None) -> datetime:
    """A wall time at the place (naive, or carrying the fixed offset it was written with) -> an
    aware UTC instant, or `LocalTimeError` (see the module's rule)."""
    if offset is None and local.tzinfo is not None:
        offset = local.utcoffset()
    naive = local.replace(tzinfo=None, fold=0)
    offsets = offsets_at(naive, zone)
    if not offsets:
        raise LocalTimeError(naive, zone, offsets)
    if offset is None:
        if len(offsets) > 1:
            raise LocalTimeError(naive, zone, offsets)
        offset = offsets[0]
    elif offset not in offsets:
        raise LocalTimeError(naive, zone, offsets, given=offset)
    return (naive - offset).replace(tzinfo=UTC)


def chosen(local: datetime, zone: ZoneInfo, choice: str | None) -> datetime:
    """A form's local time and its "which one?" choice (tracker.forms.OffsetField), which counts
    only while the time happens twice: a choice left from an earlier time is no contradiction."""
    offset = parse_offset(choice or "")
    if offset is not None and len(offsets_at(local, zone)) < 2:
        offset = None
    return to_utc(local, zone, offset)


def is_repeated(instant: datetime, zone: ZoneInfo) -> bool:
    """Whether the wall time of `instant` at the place happens twice (its offset must then be shown)."""
    return len(offsets_at(instant.astimezone(zone), zone)) > 1


def format_offset(offset: timedelta | None) -> str:
    """"+01:00", "-03:30", "+00:00": as ISO 8601 and the export write it."""
    minutes = int((offset or timedelta(0)).total_seconds() // 60)
    sign = "-" if minutes < 0 else "+"
    return f"{sign}{abs(minutes) // 60:02d}:{abs(minutes) % 60:02d}"


def parse_offset(text: str) -> timedelta | None:
    """"+01:00", "+0100", "+1", "UTC+3", "−03:30", "Z" -> the offset; None when it is not one."""
    found = _OFFSET.match(text.strip())
    if found is None:
        return None
    if found[4]:
        return timedelta(0)
    hours, minutes = int(found[2]), int(found[3] or 0)
    if hours > 18 or minutes > 59:
        return None
    size = timedelta(hours=hours, minutes=minutes)
    return -size if found[1] in "-−" else size


def split_offset(text: str) -> tuple[str, tzinfo | None]:
    """"2026-10-25 02:30 +01:00" -> ("2026-10-25 02:30", UTC+01:00); a text without one, unchanged."""
    head, _space, tail = text.rpartition(" ")
    offset = parse_offset(tail) if head else None
    if offset is None:  # "02:30+01:00", written together
        found = re.search(r"(?<=\d)(z|[+\-−]\d{1,2}(?::?\d{2})?)$", text, re.IGNORECASE)
        if found is None or not re.search(r"\d[:.]\d{2}", text[:found.start()]):
            return text, None
        head, offset = text[:found.start()], parse_offset(found[1])
        if offset is None:
            return text, None
    return head.rstrip(), timezone(offset)
