"""Hearings -> iCalendar bytes. Pure: no database access, no clock.

Built with the `icalendar` library, which is correct but slow (about 0.3 ms per
event). A feed of 10,000 hearings is republished every minute, so each event's
serialized text is cached by everything it is made of: the hearing's id and
version (the ORM raises the version on every change of the row), plus the
versions of the defendants, case and court it shows, the base URL and the
language. A republish then serializes only the events whose inputs changed and
joins the cached bytes of the others. The VTIMEZONE blocks and calendar headers
are cached the same way.

What calendar clients need, and why each property is what it is:
- UID never changes for a hearing, SEQUENCE is its version: a postponement is the
  same event at a new time with a higher SEQUENCE, so clients move it.
- DTSTAMP and LAST-MODIFIED come from the last change of what the event shows,
  never from the time of rendering: two polls with no change get the same bytes
  and so the same ETag.
- DTSTART/DTEND carry the court's TZID, and the calendar holds that VTIMEZONE
  before its events (no floating times, no X-WR-TIMEZONE).
"""
from __future__ import annotations

import threading
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta, timezone
from typing import Collection, Iterable, Sequence
from urllib.parse import quote, urlsplit

from flask import current_app, has_app_context
from flask_babel import get_locale
from flask_babel import gettext as _
from icalendar import Alarm, Calendar, Event, Timezone, vDuration, vText

from tracker.records.enums import HearingStatus
from tracker.records.models import CustodyMeasure, Decision, Defendant, Hearing

PRODID = "-//Prisoner support tracker//Hearing feeds//EN"
CRLF = b"\r\n"
END_EVENT = b"END:VEVENT\r\n"
END_CALENDAR = b"END:VCALENDAR\r\n"

# Event variants: what a public feed may show, and what an editor's private feed adds.
PUBLIC, PRIVATE = "public", "private"

_STATUS = {
    HearingStatus.SCHEDULED: "CONFIRMED",
    HearingStatus.HELD: "CONFIRMED",
    HearingStatus.POSTPONED: "TENTATIVE",
    HearingStatus.CANCELLED: "CANCELLED",
}


# --- identity ---------------------------------------------------------------------


def uid_domain(base_url: str | None = None) -> str:
    """The right-hand side of every UID: the site's host, so two trackers never collide.

    FEED_UID_DOMAIN pins it when the site moves to a new address (a new UID would make
    every subscriber's calendar show each hearing twice).
    """
    if has_app_context():
        pinned = current_app.config.get("FEED_UID_DOMAIN")
        if pinned:
            return pinned
        base_url = base_url or current_app.config["BASE_URL"]
    host = urlsplit(base_url or "").hostname
    return host or "tracker.invalid"


def event_uid(hearing: Hearing | int, domain: str | None = None) -> str:
    """The UID of a hearing's event: the same in every feed, download and reminder email."""
    hearing_id = hearing if isinstance(hearing, int) else hearing.id
    return f"hearing-{hearing_id}@{domain or uid_domain()}"


def _locale() -> str:
    try:
        return str(get_locale() or "en")
    except Exception:  # no app context: gettext falls back to English too
        return "en"


# --- time zones -------------------------------------------------------------------

_lock = threading.Lock()
_VTIMEZONES: dict[tuple[str, int, int], bytes] = {}


def vtimezone(tzid: str, first_year: int, last_year: int) -> bytes:
    """The VTIMEZONE block of a zone covering the given years, generated once and reused.

    Generating one takes milliseconds; a feed set has thousands of calendars.
    """
    key = (tzid, first_year, last_year)
    block = _VTIMEZONES.get(key)
    if block is None:
        zone = Timezone.from_tzid(
            tzid, first_date=date(first_year, 1, 1), last_date=date(last_year + 1, 1, 1)
        )
        block = zone.to_ical()
        with _lock:
            _VTIMEZONES[key] = block
    return block


# --- text of one hearing ----------------------------------------------------------


def _page(base_url: str, kind: str, slug: str) -> str:
    """Links to the public pages (records.views: /defendants/<slug>, /cases/<slug>)."""
    return f"{base_url}/{kind}/{quote(slug)}"


def shown_defendants(hearing: Hearing, variant: str, editable: Collection[int] = frozenset()) -> list[Defendant]:
    """Public feeds show public defendants only; an editor's feed adds the hidden ones among
    `editable`, the ids of the defendants that editor may edit (never a hidden co-defendant
    of another case on a joint hearing)."""
    if variant == PRIVATE:
        return [d for d in hearing.defendants if d.is_public or d.id in editable]
    return hearing.public_defendants()


def last_change(hearing: Hearing, defendants: Sequence[Defendant]) -> datetime:
    """When what the event shows last changed: its DTSTAMP and LAST-MODIFIED."""
    stamps = [hearing.updated_at] + [d.updated_at for d in defendants if d.updated_at]
    if hearing.case is not None and hearing.case.updated_at:
        stamps.append(hearing.case.updated_at)
    return max(s for s in stamps if s is not None).astimezone(timezone.utc)


def hearing_summary(hearing: Hearing, defendants: Sequence[Defendant]) -> str:
    """The event's title: all most calendars show, so the status and a closed door are in it.

    STATUS can say only CONFIRMED, TENTATIVE or CANCELLED; "held" has no value of its own.
    """
    names = ", ".join(d.name_latin for d in defendants)
    text = f"{hearing.kind.label.capitalize()}: {names}"
    if not hearing.is_open:
        text = _("%(text)s (closed to the public)", text=text)
    if hearing.status is HearingStatus.CANCELLED:
        return _("Cancelled: %(text)s", text=text)
    if hearing.status is HearingStatus.POSTPONED:
        return _("Postponed: %(text)s", text=text)
    if hearing.status is HearingStatus.HELD:
        return _("Held: %(text)s", text=text)
    return text


def hearing_location(hearing: Hearing) -> str:
    parts = [hearing.court.name]
    if hearing.court.address:
        parts.append(hearing.court.address)
    if hearing.courtroom:
        parts.append(_("courtroom %(room)s", room=hearing.courtroom))
    return ", ".join(parts)


def hearing_url(hearing: Hearing, defendants: Sequence[Defendant], base_url: str) -> str:
    if defendants:
        return _page(base_url, "defendants", defendants[0].slug)
    if hearing.case is not None:
        return _page(base_url, "cases", hearing.case.slug)
    return f"{base_url}/hearings"


def hearing_description(
    hearing: Hearing, defendants: Sequence[Defendant], base_url: str, variant: str,
    editable: Collection[int] = frozenset(),
) -> str:
    lines = [
        f"{hearing.kind.label.capitalize()} ({hearing.status.label})",
        hearing_location(hearing),
    ]
    if hearing.judge:
        lines.append(_("Judge: %(judge)s", judge=hearing.judge))
    if not hearing.is_open:
        lines.append(_("closed to the public"))
    if hearing.video_link_note:
        lines.append(hearing.video_link_note)
    if hearing.outcome_note:
        lines.append(hearing.outcome_note)
    lines.append("")
    for person in defendants:
        lines.append(f"{person.name_latin} ({person.name_original}): {_page(base_url, 'defendants', person.slug)}")
        if variant == PRIVATE and person.id in editable and person.internal_notes:
            lines.append(_("Internal notes: %(notes)s", notes=person.internal_notes))
    if hearing.case is not None:
        lines.append(f"{hearing.case.title}: {_page(base_url, 'cases', hearing.case.slug)}")
    if hearing.source_url:
        lines.append(_("Source: %(url)s", url=hearing.source_url))
    return "\n".join(lines).strip()


def hearing_event(
    hearing: Hearing, base_url: str, variant: str = PUBLIC, domain: str | None = None,
    editable: Collection[int] = frozenset(),
) -> Event:
    """The VEVENT of a hearing, as every calendar client should see it. `editable`: in an
    editor's feed, the ids of the defendants whose hidden names and notes it may carry."""
    defendants = shown_defendants(hearing, variant, editable)
    changed = last_change(hearing, defendants)
    tz = hearing.court.tz
    event = Event()
    event.add("uid", event_uid(hearing, domain))
    event.add("sequence", hearing.version)
    event.add("dtstamp", changed)
    event.add("last-modified", changed)
    event.add("created", hearing.created_at.astimezone(timezone.utc))
    event.add("dtstart", hearing.starts_at.astimezone(tz))
    event.add("dtend", hearing.ends_at.astimezone(tz))
    event.add("summary", hearing_summary(hearing, defendants))
    event.add("location", hearing_location(hearing))
    event.add("description", hearing_description(hearing, defendants, base_url, variant, editable))
    event.add("url", hearing_url(hearing, defendants, base_url))
    event.add("status", _STATUS[hearing.status])
    event.add("transp", "OPAQUE")
    return event


def alarm_block() -> bytes:
    """A VALARM a day before the event, inserted into each event of an alarm feed."""
    alarm = Alarm()
    alarm.add("action", "DISPLAY")
    alarm.add("trigger", timedelta(days=-1))
    alarm.add("description", _("Court hearing tomorrow"))
    return alarm.to_ical()


def with_alarm(event_text: bytes, alarm: bytes) -> bytes:
    assert event_text.endswith(END_EVENT)
    return event_text[: -len(END_EVENT)] + alarm + END_EVENT


# --- the event cache --------------------------------------------------------------


def event_key(
    *,
    version: int,
    court: tuple,
    case: tuple | None,
    defendants: tuple,
    base_url: str,
    domain: str,
    locale: str,
) -> tuple:
    """Everything an event's text is made of, besides the hearing's own (versioned) row.

    `court` is (name, address, timezone) (courts carry no version), `case` is
    (id, version), `defendants` is ((id, version), ...) of the defendants shown,
    sorted by id. A defendant's version goes up on every change of its row, hiding
    included, so a hidden defendant's name never survives in a cached event.
    """
    return (version, court, case, defendants, (base_url, domain, locale))


def key_of(
    hearing: Hearing, variant: str, base_url: str, domain: str, locale: str, editable: Collection[int] = frozenset()
) -> tuple:
    """In an editor's feed each defendant also says whether its notes are shown: editors with
    different cases get different text for the same joint hearing."""
    court = hearing.court
    shown = shown_defendants(hearing, variant, editable)
    if variant == PRIVATE:
        defendants = tuple(sorted((d.id, d.version, d.id in editable) for d in shown))
    else:
        defendants = tuple(sorted((d.id, d.version) for d in shown))
    return event_key(
        version=hearing.version,
        court=(court.name, court.address, court.timezone),
        case=(hearing.case.id, hearing.case.version) if hearing.case is not None else None,
        defendants=defendants,
        base_url=base_url,
        domain=domain,
        locale=locale,
    )


@dataclass
class EventCache:
    """Serialized events by (variant, hearing id), each stored with the key it was built from.

    One entry per hearing and variant: a new version replaces the old entry, so
    the cache never holds more than the feeds do.
    """

    entries: dict[tuple[str, int], tuple[tuple, bytes]] = field(default_factory=dict)
    hits: int = 0
    misses: int = 0

    def get(self, variant: str, hearing_id: int, key: tuple) -> bytes | None:
        found = self.entries.get((variant, hearing_id))
        if found is not None and found[0] == key:
            self.hits += 1
            return found[1]
        self.misses += 1
        return None

    def put(self, variant: str, hearing_id: int, key: tuple, text: bytes) -> None:
        self.entries[(variant, hearing_id)] = (key, text)

    def forget(self, keep: Iterable[tuple[str, int]]) -> None:
        """Drop hearings that left every feed (past the window, or deleted)."""
        keep = set(keep)
        for entry in [k for k in self.entries if k not in keep]:
            del self.entries[entry]

    def clear(self) -> None:
        self.entries.clear()
        self.hits = self.misses = 0


EVENTS = EventCache()


def event_bytes(
    hearing: Hearing,
    base_url: str,
    variant: str = PUBLIC,
    *,
    cache: EventCache = EVENTS,
    domain: str | None = None,
    editable: Collection[int] = frozenset(),
) -> bytes:
    """The serialized VEVENT of a hearing, from the cache when nothing it shows has changed."""
    domain = domain or uid_domain(base_url)
    key = key_of(hearing, variant, base_url, domain, _locale(), editable)
    text = cache.get(variant, hearing.id, key)
    if text is None:
        text = hearing_event(hearing, base_url, variant, domain, editable).to_ical()
        cache.put(variant, hearing.id, key, text)
    return text


# --- what only editors see --------------------------------------------------------


def _all_day(uid: str, day: date, summary: str, description: str, stamp: datetime, url: str) -> bytes:
    event = Event()
    event.add("uid", uid)
    event.add("sequence", 0)
    event.add("dtstamp", stamp.astimezone(timezone.utc))
    event.add("last-modified", stamp.astimezone(timezone.utc))
    event.add("dtstart", day)
    event.add("dtend", day + timedelta(days=1))
    event.add("summary", summary)
    event.add("description", description)
    event.add("url", url)
    event.add("transp", "TRANSPARENT")
    return event.to_ical()


def custody_expiry_event(measure: CustodyMeasure, base_url: str, domain: str | None = None) -> bytes:
    """The day a custody measure lapses unless a court extends it (or is due for review)."""
    person = measure.defendant
    if measure.until:
        summary = _("Custody expires: %(name)s (%(measure)s)", name=person.name_latin, measure=measure.kind.label)
    else:
        summary = _("Custody review due: %(name)s (%(measure)s)", name=person.name_latin, measure=measure.kind.label)
    details = [summary, f"{person.name_latin} ({person.name_original})"]
    if measure.ordered_by:
        details.append(_("ordered by %(court)s", court=measure.ordered_by))
    if measure.note:
        details.append(measure.note)
    if person.internal_notes:
        details.append(_("Internal notes: %(notes)s", notes=person.internal_notes))
    return _all_day(
        f"custody-{measure.id}@{domain or uid_domain(base_url)}",
        measure.ends_on,
        summary,
        "\n".join(details),
        measure.created_at,
        _page(base_url, "defendants", person.slug),
    )


def appeal_deadline(decision: Decision, appeal_days: int) -> date:
    return decision.decided_on + timedelta(days=appeal_days)


def appeal_deadline_event(
    decision: Decision, appeal_days: int, base_url: str, domain: str | None = None
) -> bytes:
    """The last day to appeal a first-instance decision."""
    person = decision.defendant
    summary = _("Appeal deadline: %(name)s", name=person.name_latin)
    details = [
        summary,
        f"{decision.decided_on.isoformat()}, {decision.court}: {decision.outcome.label}",
        _("%(days)d days from the decision", days=appeal_days),
    ]
    if person.internal_notes:
        details.append(_("Internal notes: %(notes)s", notes=person.internal_notes))
    return _all_day(
        f"appeal-{decision.id}@{domain or uid_domain(base_url)}",
        appeal_deadline(decision, appeal_days),
        summary,
        "\n".join(details),
        decision.created_at,
        _page(base_url, "defendants", person.slug),
    )


# --- whole calendars --------------------------------------------------------------


@dataclass(frozen=True)
class FeedInfo:
    """The calendar-level properties of a feed."""

    name: str
    description: str
    url: str  # the page the feed belongs to
    source: str  # the feed's own URL
    refresh_minutes: int = 60


_HEADERS: dict[tuple, bytes] = {}


def calendar_header(info: FeedInfo, method: str = "PUBLISH") -> bytes:
    """BEGIN:VCALENDAR and its properties, without the closing line; cached."""
    key = (info, method)
    header = _HEADERS.get(key)
    if header is None:
        cal = Calendar()
        cal.add("prodid", PRODID)
        cal.add("version", "2.0")
        cal.add("calscale", "GREGORIAN")
        cal.add("method", method)
        cal.add("name", vText(info.name))  # RFC 7986 NAME is TEXT too: icalendar does not know it
        cal.add("x-wr-calname", vText(info.name))  # escaped like any TEXT value
        cal.add("description", info.description)
        cal.add("x-wr-caldesc", vText(info.description))
        cal.add("url", info.url)
        if info.source:
            cal.add("source", info.source, parameters={"VALUE": "URI"})
        refresh = timedelta(minutes=info.refresh_minutes)
        cal.add("refresh-interval", refresh, parameters={"VALUE": "DURATION"})
        cal.add("x-published-ttl", vDuration(refresh))
        text = cal.to_ical()
        assert text.endswith(END_CALENDAR)
        header = text[: -len(END_CALENDAR)]
        if len(_HEADERS) > 50_000:  # feeds renamed many times over: start afresh
            _HEADERS.clear()
        with _lock:
            _HEADERS[key] = header
    return header


def assemble(
    info: FeedInfo,
    zones: dict[str, tuple[int, int]],
    events: Iterable[bytes],
    method: str = "PUBLISH",
) -> bytes:
    """A whole calendar: header, the VTIMEZONE of every zone the events use, the events.

    `zones` maps each TZID used to the first and last year of its events.
    """
    parts = [calendar_header(info, method)]
    for tzid in sorted(zones):
        first, last = zones[tzid]
        parts.append(vtimezone(tzid, first, last))
    parts.extend(events)
    parts.append(END_CALENDAR)
    return b"".join(parts)


def hearing_ics(hearing: Hearing, base_url: str, method: str = "PUBLISH") -> bytes:
    """One hearing as a complete calendar: the "add to my calendar" download and the
    attachment of reminder emails. Same UID and SEQUENCE as in the feeds.

    METHOD:PUBLISH for a plain copy; METHOD:CANCEL is allowed for a cancelled hearing.
    """
    if method not in ("PUBLISH", "CANCEL"):
        raise ValueError(f"unsupported iTIP method {method!r}")
    defendants = hearing.public_defendants()
    names = ", ".join(d.name_latin for d in defendants)
    info = FeedInfo(
        name=f"{hearing.kind.label.capitalize()}: {names}",
        description=hearing_location(hearing),
        url=hearing_url(hearing, defendants, base_url),
        source="",
    )
    tz = hearing.court.tz
    years = (hearing.starts_at.astimezone(tz).year, hearing.ends_at.astimezone(tz).year)
    return assemble(info, {hearing.court.timezone: years}, [event_bytes(hearing, base_url)], method)
