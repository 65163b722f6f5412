"""Actions as iCalendar, with the hearing feeds' care (tracker/feeds/ical.py says why for each):

- UID `action-<id>@<site>` never changes; SEQUENCE is the action's version, which every
  edit, approval or calling-off raises, so subscribers' calendars move the event.
- DTSTAMP and LAST-MODIFIED are the last change, never the clock: two polls with no
  change get the same bytes and ETag.
- DTSTART/DTEND carry the place's TZID, and the calendar holds that VTIMEZONE.
- A called-off action stays, STATUS:CANCELLED and "Called off:" in its title, until it
  leaves the feed (FEED_PAST_DAYS after it would have ended).
- Text goes through icalendar's escaping: nothing an organiser typed can end a property.

Only public fields: never the organiser's contact, never a hidden defendant.
"""
from __future__ import annotations

from collections.abc import Sequence
from datetime import timezone

from flask_babel import get_locale
from flask_babel import gettext as _
from icalendar import Event

from tracker.actions import places
from tracker.actions.models import Action, ActionStatus
from tracker.feeds.calendars import EventCache, FeedInfo, assemble, zone_years
from tracker.feeds.ical import uid_domain
from tracker.links import external_url
from tracker.records.names import in_script, reader_reads_original

def action_uid(action: Action | int, domain: str | None = None) -> str:
    action_id = action if isinstance(action, int) else action.id
    return f"action-{action_id}@{domain or uid_domain()}"


def action_location(action: Action) -> str:
    parts = [part for part in (action.address, action.city, places.country_name(action.country)) if part]
    return ", ".join(parts)


def action_summary(action: Action) -> str:
    if action.status is ActionStatus.CANCELLED:
        return _("Called off: %(title)s", title=action.title)
    return action.title


def action_description(action: Action, base_url: str) -> str:
    lines = []
    if action.description:
        lines += [action.description, ""]
    if action.organiser:
        lines.append(_("Organised by %(name)s", name=action.organiser))
    for person in action.public_defendants(reader_reads_original()):
        page = external_url("records.defendant", base_url=base_url, slug=person.slug)
        lines.append(f"{in_script(person.name_latin, person.name_original)}: {page}")  # the reader's first
    if action.case is not None:
        title = in_script(action.case.title, action.case.title_original)  # both spellings, the reader's first
        lines.append(f"{title}: {external_url('records.case', base_url=base_url, slug=action.case.slug)}")
    lines.append(action_url(action, base_url))
    return "\n".join(lines).strip()


def action_url(action: Action, base_url: str) -> str:
    return external_url("actions.upcoming", base_url=base_url) + f"#action-{action.id}"


def action_event(action: Action, base_url: str, domain: str | None = None) -> Event:
    tz = action.tz
    changed = action.updated_at.astimezone(timezone.utc)
    event = Event()
    event.add("uid", action_uid(action, domain))
    event.add("sequence", action.version)
    event.add("dtstamp", changed)
    event.add("last-modified", changed)
    event.add("created", action.created_at.astimezone(timezone.utc))
    event.add("dtstart", action.starts_at.astimezone(tz))
    event.add("dtend", action.ends_at.astimezone(tz))
    event.add("summary", action_summary(action))
    event.add("location", action_location(action))
    event.add("description", action_description(action, base_url))
    event.add("url", action_url(action, base_url))
    event.add("status", "CANCELLED" if action.status is ActionStatus.CANCELLED else "CONFIRMED")
    event.add("transp", "OPAQUE")
    return event


# Serialized events, each kept with everything its text is made of (icalendar takes about
# 0.3 ms an event, more on a busy machine): a poll re-serializes only what changed.
EVENTS = EventCache()
VARIANT = "action"


def event_key(action: Action, base_url: str, domain: str) -> tuple:
    """The action's version (raised by every change of its row), the versions of the public
    defendants and the case it names, and the feed's base URL and UID domain (the cache
    keeps one text per language beside it)."""
    people = tuple(sorted((d.id, d.version) for d in action.public_defendants()))
    case = (action.case.id, action.case.version) if action.case is not None else None
    return (action.version, people, case, base_url, domain)


def event_bytes(action: Action, base_url: str, domain: str, cache: EventCache = EVENTS) -> bytes:
    key, language = event_key(action, base_url, domain), str(get_locale() or "en")  # country names are translated
    text = cache.get(VARIANT, language, action.id, key)
    if text is None:
        text = action_event(action, base_url, domain).to_ical()
        cache.put(VARIANT, language, action.id, key, text)
    return text


def actions_calendar(actions: Sequence[Action], info: FeedInfo, base_url: str) -> bytes:
    """A whole calendar of actions: the VTIMEZONE of each place's zone, then the events."""
    domain = uid_domain(base_url)
    zones = zone_years([(a.timezone, a.starts_at.astimezone(a.tz)) for a in actions])
    return assemble(info, zones, [event_bytes(a, base_url, domain) for a in actions])
