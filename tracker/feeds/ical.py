"""One hearing as an iCalendar event (VEVENT). Pure: no database access, no clock.

Whole calendars, the VTIMEZONE blocks and the cache of serialized events are in
calendars.py; an editor's private events (custody expiry, appeal deadlines) in private.py.

What calendar clients need, and why each property is what it is:
- UID never changes for a hearing, SEQUENCE is its version: a postponement is the
  same event at a new time with a higher SEQUENCE, so clients move it.
- DTSTAMP and LAST-MODIFIED come from the last change of what the event shows,
  never from the time of rendering: two polls with no change get the same bytes
  and so the same ETag.
- DTSTART/DTEND carry the court's TZID, and the calendar holds that VTIMEZONE
  before its events (no floating times, no X-WR-TIMEZONE).
- Nothing a calendar does not use: no CREATED, no TRANSP (OPAQUE is the default of
  a timed event), no LAST-MODIFIED (DTSTAMP says the same), no URL (Google and
  Outlook ignore it; the DESCRIPTION's links work everywhere), and the DESCRIPTION
  does not repeat the title or the LOCATION. A feed of 10,000 hearings is fetched
  every hour by every subscriber.
- The texts are in the language of the locale in force (`flask_babel.force_locale`):
  each language has its own feeds, with the same UIDs, so a subscriber who switches
  language sees each hearing once.
"""
from __future__ import annotations

from collections.abc import Collection, Sequence
from datetime import datetime, timedelta, timezone
from urllib.parse import urlsplit

from flask import current_app, has_app_context
from flask_babel import get_locale
from flask_babel import gettext as _
from icalendar import Alarm, Event

from tracker.links import external_url
from tracker.records.enums import HearingStatus
from tracker.records.models import Defendant, Hearing
from tracker.records.names import reads_latin  # noqa: F401  (ical.reads_latin: one rule, records.names)

END_EVENT = b"END:VEVENT\r\n"

# Event variants: what a public feed may show, and what an editor's private feed adds.
PUBLIC, PRIVATE = "public", "private"

_STATUS = {
    HearingStatus.SCHEDULED: "CONFIRMED",
    HearingStatus.HELD: "CONFIRMED",
    HearingStatus.POSTPONED: "TENTATIVE",
    HearingStatus.CANCELLED: "CANCELLED",
}


# --- language ---------------------------------------------------------------------


def current_locale() -> str:
    """The language the texts are written in: the locale in force, English without an app."""
    try:
        return str(get_locale() or "en")
    except Exception:  # no app context: gettext falls back to the source strings (English) too
        return "en"


def person_name(person: Defendant, locale: str) -> str:
    """A defendant's name as readers of `locale` write it."""
    return name_in_script(person.name_latin, person.name_original, locale)


def name_in_script(latin: str, original: str | None, locale: str) -> str:
    """Of a name or title kept in two scripts, the one readers of `locale` read (the Latin
    one when there is no original)."""
    if reads_latin(locale):
        return latin
    return original or latin


def both_scripts(latin: str, original: str, locale: str) -> str:
    """"Ivan Petrov (Иван Петров)" for English readers, "Иван Петров (Ivan Petrov)" for Russian ones."""
    if not original or original == latin:
        return latin
    return f"{latin} ({original})" if reads_latin(locale) else f"{original} ({latin})"


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


# --- text of one hearing ----------------------------------------------------------


def in_reading_order(people: Sequence[Defendant], locale: str) -> list[Defendant]:
    """The people of an event as its reader lists them (`Defendant.in_reading_order`). Sorted
    once per event serialized: never on a republish that serializes nothing."""
    return Defendant.in_reading_order(people, len(people) > 1 and not reads_latin(locale))


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
    locale = current_locale()
    names = ", ".join(person_name(d, locale) for d in defendants)
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
        return external_url("records.defendant", base_url=base_url, slug=defendants[0].slug)
    if hearing.case is not None:
        return external_url("records.case", base_url=base_url, slug=hearing.case.slug)
    return external_url("records.hearings", base_url=base_url)


def hearing_description(
    hearing: Hearing, defendants: Sequence[Defendant], base_url: str, variant: str,
    editable: Collection[int] = frozenset(),
) -> str:
    """What the title and LOCATION do not say: the judge, notes, who is on trial (in both
    scripts, each with their page) and the case. Calendars show it a click away."""
    locale = current_locale()
    lines = []
    if hearing.judge:
        lines.append(_("Judge: %(judge)s", judge=hearing.judge))
    if not hearing.is_open:
        lines.append(_("closed to the public"))
    if hearing.video_link_note:
        lines.append(hearing.video_link_note)
    if hearing.outcome_note:
        lines.append(hearing.outcome_note)
    for person in defendants:
        page = external_url("records.defendant", base_url=base_url, slug=person.slug)
        lines.append(f"{both_scripts(person.name_latin, person.name_original, locale)}: {page}")
        if variant == PRIVATE and person.id in editable and person.internal_notes:
            lines.append(_("Internal notes: %(notes)s", notes=person.internal_notes))
    if hearing.case is not None:
        lines.append(both_scripts(hearing.case.title, hearing.case.title_original, locale))
    if hearing.source_url:
        lines.append(_("Source: %(url)s", url=hearing.source_url))
    return "\n".join(lines).strip()


def hearing_event(
    hearing: Hearing, base_url: str, variant: str = PUBLIC, domain: str | None = None,
    editable: Collection[int] = frozenset(),
) -> Event:
    """The VEVENT of a hearing, as every calendar client should see it. `editable`: in an
    editor's feed, the ids of the defendants whose hidden names and notes it may carry."""
    defendants = in_reading_order(shown_defendants(hearing, variant, editable), current_locale())
    changed = last_change(hearing, defendants)
    tz = hearing.court.tz
    event = Event()
    event.add("uid", event_uid(hearing, domain))
    event.add("sequence", hearing.version)
    event.add("dtstamp", changed)
    event.add("dtstart", hearing.starts_at.astimezone(tz))
    event.add("dtend", hearing.ends_at.astimezone(tz))
    event.add("summary", hearing_summary(hearing, defendants))
    event.add("location", hearing_location(hearing))
    event.add("description", hearing_description(hearing, defendants, base_url, variant, editable))
    event.add("status", _STATUS[hearing.status])
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
