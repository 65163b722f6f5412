"""The event cache on disk, so that a process that has never published (a web worker
hiding a defendant, a restarted scheduler) reuses the events another one serialized.

Serializing every event with `icalendar` costs about 0.3 ms an event and a language:
20-35 s for 10,000 hearings in two languages, past gunicorn's 30 s timeout, for the
most urgent edit there is (a defendant hidden at the family's request republishes in
the request, immediate.py). The scheduler serializes them all anyway; it writes them
here, and a cold process reads them on its first publish.

Why it can never publish old content: each entry carries a digest of the key it was
built from (`calendars.event_key`: the versions of the hearing, its defendants and
case, the court's fields, the base URL and the UIDs' domain), and the file carries a
fingerprint of the code that wrote the text (the tracker's sources and catalogues, the
versions of icalendar, Babel and the time zone data). The cache trusts an entry only
when the digest of the key the current snapshot gives is the same
(`EventCache.get`); a file of other code, of another site, corrupted or cut short is
ignored as a whole, with a log line, and the events are serialized as without it. After
a database restored from a backup, keys repeat with other content: entries of hearings whose
rows changed after the file was written are dropped (`drop_rewound`).

Why not in FEEDS_DIR: nginx serves that folder as it is. Why not pickle: a file
another user could write would run code in the web app. The format is one JSON line
(what each entry is: language, hearing id, key digest, length) and the events' bytes
one after the other, with their SHA-256 in the JSON line.

Only public events are written: an editor's private events never leave the process. The
VTIMEZONE blocks follow them (icalendar takes about 70 ms to generate one).

The events alone are not enough: a process that has never published does not know which
files in FEEDS_DIR are right, and building every feed to compare it with its file costs
seconds (thousands of headers). So the file also records each feed file as its writer left
it: its stamp (inode, mtime, size) and a digest of what it was made of (the settings, the
feed's recipe, the digests of its events' texts). A cold process leaves a file alone when
its stamp is the same and the digest of what it would write now is the same (`Files`);
any other file is built and compared as before.
"""
from __future__ import annotations

import hashlib
import json
import logging
import os
import sys
import time
import zoneinfo
from array import array
from dataclasses import dataclass, field
from datetime import datetime, timezone
from functools import cache
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from flask import current_app
from sqlalchemy.orm import Session

from tracker.feeds import ical
from tracker.feeds.calendars import EventCache, vtimezones
from tracker.feeds.files import stamp, write_atomically
from tracker.feeds.snapshot import FeedSettings, Snapshot
from tracker.records.models import Case, Defendant, Hearing

log = logging.getLogger(__name__)

FORMAT = "tracker-feed-events/1"
# When the publisher writes the file again: after this many events serialized since it
# last did (a cold process then serializes at most these again), or after SAVE_SECONDS
# with any. Rewriting megabytes after each minute's single change would cost the
# scheduler more than the change.
SAVE_AFTER_EVENTS = 100
SAVE_SECONDS = 600

TRACKER_DIR = Path(__file__).resolve().parent.parent


def _fingerprint() -> str:
    """What, besides an event's key, its text is made of: the tracker's code and catalogues,
    and the libraries that format it."""
    digest = hashlib.sha256(FORMAT.encode())
    import babel
    import icalendar

    versions = [sys.version, icalendar.__version__, babel.__version__]
    try:
        import tzdata

        versions.append(tzdata.IANA_VERSION)
    except ImportError:
        pass
    for folder in zoneinfo.TZPATH:  # the system's zones, when zoneinfo reads them
        try:
            with open(os.path.join(folder, "tzdata.zi"), "rb") as handle:
                versions.append(handle.readline().decode("ascii", "replace"))
        except OSError:
            pass
    digest.update(repr(versions).encode())
    for path in sorted(TRACKER_DIR.rglob("*")):
        if path.suffix in (".py", ".mo") and path.is_file():
            digest.update(str(path.relative_to(TRACKER_DIR)).encode() + b"\0")
            digest.update(path.read_bytes())
    return digest.hexdigest()


# Taken when the process imports its code (a few milliseconds), not at its first publish: a
# process started before a deploy must not label its events with the deployed code's files.
CODE = _fingerprint()


def code_fingerprint() -> str:
    return CODE


def store_path(feeds_dir: Path) -> Path | None:
    """FEED_EVENT_CACHE, or None when it is off or would be served: a path inside `feeds_dir`
    is refused (nginx would publish the file), with a log line."""
    setting = current_app.config.get("FEED_EVENT_CACHE")
    if not setting:
        return None
    path = Path(setting).resolve()
    if path.is_relative_to(feeds_dir.resolve()):
        log.warning("FEED_EVENT_CACHE %s is inside FEEDS_DIR, which is served publicly: not used", path)
        return None
    return path


def read_once(events: EventCache, feeds_dir: Path) -> Path | None:
    """Read the app's file (FEED_EVENT_CACHE) into `events` unless already done; its path, or
    None when there is none to use beside `feeds_dir`."""
    path = store_path(feeds_dir)
    if path is not None:
        load(events, path)
    return path


def load(events: EventCache, path: Path) -> int:
    """Read the file into `events` once per process and path: each entry under the digest of
    its key, which `EventCache.get` compares with the current key's. Returns how many entries
    were read; a missing file reads nothing, an unusable one is logged and ignored as a whole."""
    if path in events.loaded_from:
        return 0
    events.loaded_from.add(path)
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        return 0
    except OSError as error:
        log.warning("feed event cache %s not read: %s", path, error)
        return 0
    try:
        found, written_at, zones, files = _parse(data)
    except ValueError as error:
        log.warning("feed event cache %s ignored: %s", path, error)
        return 0
    vtimezones.update(zones)
    if files is not None:
        events.files[files[0]] = Files(files[1])
    entries = events.entries
    for slot, entry in found.items():
        if slot not in entries:  # what this process serialized itself stays
            entries[slot] = entry
            events.unchecked[slot] = written_at
    return len(found)


def _parse(data: bytes) -> tuple[dict, datetime, dict, tuple[str, dict] | None]:
    """The entries ((variant, language, hearing id) -> (key digest, event)), when they were
    written, the VTIMEZONE blocks and the files' record of a file; ValueError when it is not one this code wrote whole."""
    end = data.find(b"\n")
    if end < 0:
        raise ValueError("no header")
    try:
        header = json.loads(data[:end])
    except (UnicodeDecodeError, json.JSONDecodeError) as error:
        raise ValueError(f"unreadable header ({error})") from None
    if not isinstance(header, dict) or header.get("format") != FORMAT:
        raise ValueError("not a feed event cache of this format")
    if header.get("code") != code_fingerprint():
        raise ValueError("written by other code (another version of the tracker or its libraries)")
    try:
        written_at = datetime.fromisoformat(header["written_at"])
    except (KeyError, TypeError, ValueError):
        raise ValueError("no time of writing") from None
    if written_at.tzinfo is None:
        raise ValueError("no time of writing")
    start = end + 1
    if header.get("bytes") != len(data) - start or header.get("sha256") != hashlib.sha256(
            memoryview(data)[start:]).hexdigest():
        raise ValueError("cut short or corrupted")
    found: dict[tuple[str, str, int], tuple[str, bytes]] = {}
    offset = start
    try:
        for locale, rows in header["events"].items():
            for hearing_id, digest, length in rows:  # the bytes' checksum holds: only a cheap check
                text = data[offset:offset + length]
                offset += length
                if not (text.startswith(b"BEGIN:VEVENT\r\n") and text.endswith(ical.END_EVENT)):
                    raise ValueError("an entry is not an event")
                found[(ical.PUBLIC, locale, hearing_id)] = (digest, text)
        zones = {}
        for tzid, first, last, length in header["zones"]:
            block = data[offset:offset + length]
            offset += length
            if not (block.startswith(b"BEGIN:VTIMEZONE\r\n") and block.endswith(b"END:VTIMEZONE\r\n")):
                raise ValueError("a zone is not a VTIMEZONE")
            zones[(tzid, first, last)] = block
    except (KeyError, TypeError, AttributeError) as error:
        raise ValueError(f"malformed entries ({error!r})") from None
    if offset != len(data):
        raise ValueError("entries and bytes disagree")
    return found, written_at, zones, _parse_files(header)


def _parse_files(header: dict) -> tuple[str, dict[str, tuple[tuple, str]]] | None:
    feeds_dir, files = header.get("feeds_dir"), header.get("files")
    if feeds_dir is None and files is None:
        return None
    if not isinstance(feeds_dir, str) or not isinstance(files, dict):
        raise ValueError("malformed files")
    records = {}
    for path, row in files.items():
        if not (isinstance(row, list) and len(row) == 4 and all(type(v) is int for v in row[:3])
                and isinstance(row[3], str)):
            raise ValueError("malformed file record")
        records[path] = (tuple(row[:3]), row[3])
    return feeds_dir, records


def text_digests(texts: dict[int, bytes]) -> dict[int, bytes]:
    return {hearing_id: hashlib.sha256(text).digest()[:16] for hearing_id, text in texts.items()}


@cache
def _made_by(settings: FeedSettings) -> bytes:
    return repr((code_fingerprint(), settings)).encode()


def feed_digest(settings: FeedSettings, path: str, recipe: tuple, digests: dict[int, bytes]) -> str:
    """What a feed file is made of: the code, the settings in its language, its path, its
    recipe (subject, alarm, event ids) and its events' texts, by their digests."""
    subject, alarm, hearing_ids = recipe
    made_of = hashlib.sha256(_made_by(settings))
    made_of.update(repr((path, subject, alarm, len(hearing_ids))).encode())
    made_of.update(array("q", hearing_ids).tobytes())  # thousands of ids: repr would cost more than the hashing
    made_of.update(b"".join([digests.get(hearing_id, b"") for hearing_id in hearing_ids]))
    return made_of.hexdigest()[:32]


@dataclass
class Files:
    """The feed files of one FEEDS_DIR as the event cache file's writer left them: path ->
    (stamp, digest of what it was made of)."""

    records: dict[str, tuple[tuple, str]]
    _digests: dict[str, dict[int, bytes]] = field(default_factory=dict)  # language -> hearing id -> text's

    def vouches(self, settings: FeedSettings, path: str, target: str, recipe: tuple,
                texts: dict[int, bytes]) -> tuple | None:
        """The file's stamp when it is untouched since and holds what `recipe` and `texts` make."""
        record = self.records.get(path)
        if record is None or record[0] != stamp(target):
            return None
        digests = self._digests.get(settings.locale)
        if digests is None:
            digests = self._digests[settings.locale] = text_digests(texts)
        return record[0] if record[1] == feed_digest(settings, path, recipe, digests) else None


def files_record(settings: FeedSettings, state: Any) -> dict[str, list]:
    """What the header records of the files a publisher (`state`: publish.PublishedState) knows."""
    digests = {locale: text_digests(state.texts.get(locale, {})) for locale in settings.languages}
    record = {}
    for path, recipe in state.recipes.items():
        known = state.stamps.get(path)
        if known is not None:
            locale, _rest = settings.split_path(path)
            record[path] = [*known, feed_digest(settings.in_language(locale), path, recipe, digests[locale])]
    return record


def drop_rewound(session: Session, events: EventCache, snap: Snapshot, keys: dict[int, tuple]) -> int:
    """Drop the entries read from a file, for the hearings of `keys`, whose event shows a row
    changed after the file was written; returns how many would have been trusted.

    A key holds versions, and versions repeat after the database is restored from a backup:
    the edit redone after the restore gets the version the lost edit had, with other content,
    and the same key. It is made after the restore, so after the file was written: its
    `updated_at` says so. In normal times a row changed since has a new version and the
    entry is not trusted anyway. Three plain queries, each returning the rows changed since
    the file (a few), on a process's first publish.
    """
    slots = [slot for slot in events.unchecked if slot[2] in keys]
    if not slots:
        return 0
    connection = session.connection()
    changed: set[int] = set()
    for since in {events.unchecked[slot] for slot in slots}:  # one file, so one time
        changed.update(connection.scalars(sa.select(Hearing.id).where(Hearing.updated_at > since)))
        people = set(connection.scalars(sa.select(Defendant.id).where(Defendant.updated_at > since)))
        cases = set(connection.scalars(sa.select(Case.id).where(Case.updated_at > since)))
        if people or cases:
            changed.update(row.id for row in snap.hearings
                           if row.case_id in cases or not people.isdisjoint(row.defendant_ids))
    trusted = 0
    entries = events.entries
    for slot in slots:
        del events.unchecked[slot]
        entry = entries.get(slot)
        if slot[2] in changed and entry is not None and entry[0].__class__ is str:
            del entries[slot]
            trusted += entry[0] == events.digest(slot[2], keys[slot[2]])
    if trusted:
        log.warning("feed event cache: %d events with today's keys but rows changed after the file was written "
                    "(a database restored from a backup?) dropped", trusted)
    return trusted


def save(events: EventCache, path: Path, languages: tuple[str, ...], files: tuple[str, dict] | None = None) -> int:
    """Write the public events of `languages` that this process knows by their full key,
    atomically (a temporary file beside `path`, then a rename): a reader gets the old file or
    the new one. Returns how many entries were written."""
    written_at = datetime.now(timezone.utc)  # before the entries are read: no later change is in them
    index: dict[str, list] = {locale: [] for locale in languages}
    parts = []
    for (variant, locale, hearing_id), (key, text) in events.entries.items():
        if variant != ical.PUBLIC or locale not in index or not isinstance(key, tuple):
            continue  # private events never; entries read and not confirmed since: not known
        index[locale].append([hearing_id, events.digest(hearing_id, key), len(text)])
        parts.append(text)
    zones = []
    for (tzid, first, last), block in list(vtimezones.items()):  # generating them costs 70 ms a zone
        zones.append([tzid, first, last, len(block)])
        parts.append(block)
    blob = b"".join(parts)
    header = {"format": FORMAT, "code": code_fingerprint(), "written_at": written_at.isoformat(), "bytes": len(blob),
              "sha256": hashlib.sha256(blob).hexdigest(), "events": index, "zones": zones}
    if files is not None:
        header["feeds_dir"], header["files"] = files
    # mode 0644: the web app's user may not be the scheduler's; it holds public events only
    write_atomically(path, [json.dumps(header, separators=(",", ":")).encode(), b"\n", blob])
    events.unsaved = 0
    events.saved_at = time.monotonic()
    return len(parts)


def save_if_due(events: EventCache, path: Path, settings: FeedSettings, feeds_dir: str, state: Any) -> None:
    """After a publish: write the file when this process serialized enough since it last did,
    or a while ago, or when there is no file yet. A failure is logged: the feeds are written."""
    if not events.unsaved:
        return
    due = (events.unsaved >= SAVE_AFTER_EVENTS or time.monotonic() - events.saved_at >= SAVE_SECONDS
           or not path.exists())
    if not due:
        return
    try:
        started = time.perf_counter()
        count = save(events, path, settings.languages, (feeds_dir, files_record(settings, state)))
        log.info("feed event cache written: %d events, %.2fs", count, time.perf_counter() - started)
    except OSError as error:
        log.warning("feed event cache %s not written: %s", path, error)
