"""Whole calendars: the header, the VTIMEZONE of each zone, and the events, each
serialized once and cached.

Built with the `icalendar` library, which is correct but slow (about 0.3 ms per
event). A feed of 10,000 hearings is republished every minute, so each event's
serialized text is cached by everything it is made of (`event_key`): the hearing's
id and version (the ORM raises the version on every change of the row), plus the
versions of the defendants, case and court it shows, the base URL and the
language. Each language has its own entry (the feeds of every language are
republished each run). A republish then serializes only the events whose inputs
changed and joins the cached bytes of the others. The VTIMEZONE blocks and calendar
headers are cached the same way.
"""
from __future__ import annotations

import hashlib
import threading
import time
from collections.abc import Collection, Iterable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from icalendar import Calendar, Timezone, vDuration, vText

from tracker.feeds.ical import (
    PRIVATE, PUBLIC, current_locale, hearing_event, hearing_location, hearing_url, in_reading_order, person_name,
    shown_defendants, uid_domain,
)
from tracker.records.models import Hearing

PRODID = "-//Prisoner support tracker//Hearing feeds//EN"
END_CALENDAR = b"END:VCALENDAR\r\n"


# --- time zones -------------------------------------------------------------------

_lock = threading.Lock()
_VTIMEZONES: dict[tuple[str, int, int], bytes] = {}
vtimezones = _VTIMEZONES  # (TZID, first year, last year) -> block: what event_store.py shares


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
        # icalendar adds a COMMENT with the years covered: for people reading the file, not calendars
        block = _without_comments(zone.to_ical())
        with _lock:
            _VTIMEZONES[key] = block
    return block


def _without_comments(text: bytes) -> bytes:
    """The content lines of `text` but its COMMENTs (with their folded continuations)."""
    kept, skipping = [], False
    for line in text.splitlines(keepends=True):
        if line.startswith((b" ", b"\t")):
            if not skipping:
                kept.append(line)
            continue
        skipping = line.startswith(b"COMMENT")
        if not skipping:
            kept.append(line)
    return b"".join(kept)


def zone_years(starts: Iterable[tuple[str, datetime | int]]) -> dict[str, tuple[int, int]]:
    """Each time zone the events use (TZID, start or its year) with the years its VTIMEZONE
    must cover: a year either side of each start covers its local date and its end."""
    zones: dict[str, tuple[int, int]] = {}
    for tzid, starts_at in starts:
        year = starts_at if isinstance(starts_at, int) else starts_at.year
        known = zones.get(tzid)
        if known is None:
            zones[tzid] = (year - 1, year + 1)
        elif not (known[0] <= year - 1 and year + 1 <= known[1]):
            zones[tzid] = (min(known[0], year - 1), max(known[1], year + 1))
    return zones


# --- the event cache --------------------------------------------------------------


def key_context(base_url: str, domain: str) -> tuple:
    """What every event of one feed run shares: the links' base and the UIDs' domain. The
    language is not in the key but in the cache's slot: one key serves every language."""
    return (base_url, domain)


def event_key(version: int, court: tuple, case: tuple | None, defendants: tuple, context: tuple) -> tuple:
    """Everything an event's text is made of: the one definition of the cache key, which
    `key_of` (from the ORM objects) and the publisher (from its snapshot's rows) both build.

    `version` is the hearing's; `court` is (name, address, timezone) (courts carry no
    version), `case` is (id, version), `defendants` is ((id, version), ...) of the
    defendants shown, sorted by id; `context` is `key_context`. A defendant's version
    goes up on every change of its row, hiding included, so a hidden defendant's name
    never survives in a cached event.
    """
    return (version, court, case, defendants, context)


def key_of(
    hearing: Hearing, variant: str, base_url: str, domain: str, editable: Collection[int] = frozenset()
) -> tuple:
    """The key of a hearing's event. In an editor's feed each defendant also says whether its
    notes are shown: editors with different cases get different text for the same joint hearing."""
    court = hearing.court
    shown = shown_defendants(hearing, variant, editable)
    if variant == PRIVATE:
        defendants = tuple(sorted((d.id, d.version, d.id in editable) for d in shown))
    else:
        defendants = tuple(sorted((d.id, d.version) for d in shown))
    case = (hearing.case.id, hearing.case.version) if hearing.case is not None else None
    return event_key(hearing.version, (court.name, court.address, court.timezone), case, defendants,
                     key_context(base_url, domain))


def key_digest(key: tuple) -> str:
    """A stable digest of an event key, the same in every process (the repr of ints, strings,
    None and tuples does not vary): how the event cache on disk names what an entry was built
    from (event_store.py)."""
    return hashlib.sha256(repr(key).encode()).hexdigest()[:32]


@dataclass
class EventCache:
    """Serialized events by (variant, language, hearing id), each stored with the key it was
    built from.

    One entry per hearing, variant and language: a new version replaces the old entry,
    so the cache never holds more than the feeds do, and the feeds of two languages
    published in turn never evict each other's events.

    Entries read from the file of another process (event_store.py) carry the digest of
    their key instead of the key: `get` trusts one only once the database said none of its
    rows changed since the file was written (`unchecked`: event_store.drop_rewound) and when
    the current key has the same digest, and then keeps it under the key.
    """

    entries: dict[tuple[str, str, int], tuple[tuple | str, bytes]] = field(default_factory=dict)
    hits: int = 0
    misses: int = 0
    unsaved: int = 0  # public events serialized since the file was last written
    saved_at: float = field(default_factory=time.monotonic)
    loaded_from: set = field(default_factory=set)  # the files read into it, each once
    unchecked: dict = field(default_factory=dict)  # entries read, not yet checked -> when their file was written
    files: dict = field(default_factory=dict)  # FEEDS_DIR -> what the file's writer knew of it (event_store)
    _digests: dict[int, tuple[tuple, str]] = field(default_factory=dict)  # hearing id -> its key's digest

    def get(self, variant: str, locale: str, hearing_id: int, key: tuple) -> bytes | None:
        found = self.entries.get((variant, locale, hearing_id))
        if found is not None:
            if found[0] == key:
                self.hits += 1
                return found[1]
            if (found[0].__class__ is str and found[0] == self.digest(hearing_id, key)
                    and (variant, locale, hearing_id) not in self.unchecked):
                self.entries[(variant, locale, hearing_id)] = (key, found[1])
                self.hits += 1
                return found[1]
        self.misses += 1
        return None

    def digest(self, hearing_id: int, key: tuple) -> str:
        """`key_digest(key)`, computed once for the languages that share the key."""
        known = self._digests.get(hearing_id)
        if known is not None and known[0] == key:
            return known[1]
        digest = key_digest(key)
        self._digests[hearing_id] = (key, digest)
        return digest

    def put(self, variant: str, locale: str, hearing_id: int, key: tuple, text: bytes) -> None:
        self.entries[(variant, locale, hearing_id)] = (key, text)
        if variant == PUBLIC:
            self.unsaved += 1

    def forget(self, keep: Iterable[tuple[str, str, int]]) -> None:
        """Drop hearings that left every feed (past the window, or deleted)."""
        keep = set(keep)
        for entry in [k for k in self.entries if k not in keep]:
            del self.entries[entry]
        self.unchecked = {slot: at for slot, at in self.unchecked.items() if slot in keep}
        self._digests.clear()

    def clear(self) -> None:
        """Empty, as in a new process: the file on disk is read again on the next publish."""
        self.entries.clear()
        self._digests.clear()
        self.loaded_from.clear()
        self.unchecked.clear()
        self.files.clear()
        self.hits = self.misses = self.unsaved = 0
        self.saved_at = time.monotonic()


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
    key = key_of(hearing, variant, base_url, domain, editable)
    locale = current_locale()
    text = cache.get(variant, locale, hearing.id, key)
    if text is None:
        text = hearing_event(hearing, base_url, variant, domain, editable).to_ical()
        cache.put(variant, locale, hearing.id, key, text)
    return text


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
        cal.add("version", "2.0")  # no CALSCALE: GREGORIAN is the default
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
    return b"".join(calendar_parts(info, zones, [b"".join(events)], method))


def calendar_parts(
    info: FeedInfo, zones: dict[str, tuple[int, int]], events: list[bytes], method: str = "PUBLISH"
) -> list[bytes]:
    """`assemble`'s pieces, in order, with the events in a few large parts: to write as they are."""
    parts = [calendar_header(info, method)]
    for tzid in sorted(zones):
        first, last = zones[tzid]
        parts.append(vtimezone(tzid, first, last))
    parts.extend(events)
    parts.append(END_CALENDAR)
    return parts


def hearing_ics(hearing: Hearing, base_url: str, method: str = "PUBLISH") -> bytes:
    """One hearing as a complete calendar: the "add to my calendar" download and the
    attachment of reminder emails. Same UID and SEQUENCE as in the feeds.

    METHOD:PUBLISH for a plain copy; METHOD:CANCEL is allowed for a cancelled hearing.
    """
    if method not in ("PUBLISH", "CANCEL"):
        raise ValueError(f"unsupported iTIP method {method!r}")
    locale = current_locale()
    defendants = in_reading_order(hearing.public_defendants(), locale)
    names = ", ".join(person_name(d, locale) for d in defendants)
    info = FeedInfo(
        name=f"{hearing.kind.label.capitalize()}: {names}",
        description=hearing_location(hearing),
        url=hearing_url(hearing, defendants, base_url),
        source="",
    )
    zones = zone_years([(hearing.court.timezone, hearing.starts_at)])
    return assemble(info, zones, [event_bytes(hearing, base_url)], method)
