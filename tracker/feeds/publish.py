"""Publishing: every public feed written to FEEDS_DIR, atomically, only when it changed.

The scheduler calls `publish_feeds(now)` every minute; `flask publish-feeds` calls it
by hand. Every feed exists in each language (LANGUAGES): the default language's at the
top of FEEDS_DIR, the others in a folder each (`ru/all.ics`), with the same UIDs. It
must stay cheap for 10,000 hearings in every language, so it works in three steps:

1. a snapshot: six plain (Core) queries read the ids, versions and links of what
   the feeds show, whatever the number of hearings, once for every language;
2. the events whose inputs changed since the last run (none, usually; all, on
   the first) are loaded with one ORM query and serialized into the event cache,
   once per language;
3. each feed's recipe (what its header says, the ids of its events) and its events'
   keys are compared with those last written: only changed feeds get their header
   built and their bytes joined, and are written, each to a temporary file that then
   replaces the old one (os.replace is atomic, so a reader sees the old file or the
   new one, never half of one).

The web app serves these files (views.py) or nginx/a CDN does (docs/feeds.md). A
feed not yet published is built by `build_feed`, from the same code. The snapshot is
snapshot.py; the files and their lock are files.py.
"""
from __future__ import annotations

import logging
import re
import time
from collections import defaultdict
from dataclasses import dataclass, field, replace
from datetime import datetime
from pathlib import Path
from typing import Callable, Iterable, Iterator

import sqlalchemy as sa
from flask import current_app
from flask_babel import force_locale
from flask_babel import gettext as _
from sqlalchemy.orm import Session, joinedload

from tracker.extensions import db
from tracker.feeds import calendars, ical
from tracker.feeds.files import (
    ALARM_DIR,
    publish_lock,
    published_files,
    remove_stale_temp_files,
    same_content,
    stamp,
    write_atomically,
)
from tracker.feeds.snapshot import FeedSettings, Snapshot, event_keys, take_snapshot, window_clause
from tracker.links import external_url
from tracker.records.models import Hearing, hearing_cases
from tracker.records.queries import public_hearing_clause

log = logging.getLogger(__name__)

# Slugs that can be file names as they are (no "/", no leading dot). Others are
# served on demand by the app only.
SAFE_SLUG = re.compile(r"^[\w-][\w.-]*$")
# How many changed hearings are loaded by id; above that, the whole window is read.
LOAD_BY_ID_LIMIT = 500

Progress = Callable[[str, int, int], None]


# --- step 2: serialize what changed --------------------------------------------------


def render_events(
    session: Session,
    now: datetime,
    snap: Snapshot,
    settings: FeedSettings,
    cache: calendars.EventCache,
    progress: Progress | None = None,
) -> tuple[dict[str, dict[int, tuple[tuple, bytes]]], int]:
    """Every hearing's (key, event bytes) in each language of `settings.languages`, and how
    many events were serialized: only the changed ones are loaded (once, for every
    language) and serialized (once per language)."""
    result: dict[str, dict[int, tuple[tuple, bytes]]] = {}
    missing: dict[str, dict[int, tuple]] = {}
    for locale in settings.languages:
        found = result[locale] = {}
        lost = missing[locale] = {}
        for hearing_id, key in event_keys(snap, settings.in_language(locale)).items():
            text = cache.get(ical.PUBLIC, hearing_id, key)
            if text is None:
                lost[hearing_id] = key
            else:
                found[hearing_id] = (key, text)
    wanted = {hearing_id for lost in missing.values() for hearing_id in lost}
    total = sum(len(lost) for lost in missing.values())
    if not wanted:
        return result, 0
    query = sa.select(Hearing).options(joinedload(Hearing.defendants), joinedload(Hearing.case))
    if len(wanted) <= LOAD_BY_ID_LIMIT:
        query = query.where(Hearing.id.in_(sorted(wanted)))
    else:
        query = query.where(window_clause(now, settings.past_days, settings.cancelled_days), public_hearing_clause())
    loaded = session.scalars(query.execution_options(populate_existing=True)).unique().all()
    done = 0
    for locale in settings.languages:
        lost = missing[locale]
        if not lost:
            continue
        with force_locale(locale):
            for hearing in loaded:
                key = lost.get(hearing.id)
                if key is None:
                    continue
                text = ical.hearing_event(hearing, settings.base_url, ical.PUBLIC, settings.domain).to_ical()
                cache.put(ical.PUBLIC, hearing.id, key, text)
                result[locale][hearing.id] = (key, text)
                done += 1
                if progress and (done % 250 == 0 or done == total):
                    progress("render", done, total)
    return result, total


# --- step 3: the feeds ---------------------------------------------------------------


@dataclass
class FeedPlan:
    """One feed, whatever its language: where it lives under the language's folder, what
    its header names (`subject`), and its events in order."""

    path: str  # relative to the language's folder (and to /feeds/ or /feeds/<lang>/)
    subject: tuple  # ("all",), ("case", slug, title) or ("defendant", slug, latin, original)
    hearing_ids: tuple[int, ...]


def feed_plans(snap: Snapshot) -> Iterator[FeedPlan]:
    """Every public feed: all hearings, each case, each public defendant (the alarm twins and
    the languages are added by the caller)."""
    by_case: dict[int, list[int]] = defaultdict(list)
    by_defendant: dict[int, list[int]] = defaultdict(list)
    for row in snap.hearings:
        for case_id in hearing_cases(row.case_id, (snap.defendant_cases.get(d, ()) for d in row.defendant_ids)):
            by_case[case_id].append(row.id)
        for defendant_id in row.defendant_ids:
            by_defendant[defendant_id].append(row.id)
    yield FeedPlan("all.ics", ("all",), tuple(row.id for row in snap.hearings))
    for case_id, (slug, title, _version) in snap.cases.items():
        if SAFE_SLUG.match(slug):
            yield FeedPlan(f"cases/{slug}.ics", ("case", slug, title), tuple(by_case.get(case_id, ())))
    for defendant_id, (slug, latin, original, _version) in snap.defendants.items():
        if SAFE_SLUG.match(slug):
            yield FeedPlan(f"defendants/{slug}.ics", ("defendant", slug, latin, original),
                           tuple(by_defendant.get(defendant_id, ())))


def feed_info(subject: tuple, alarm: bool, full_path: str, settings: FeedSettings) -> calendars.FeedInfo:
    """A feed's calendar properties, in the language in force (`force_locale`): built only for
    the feeds that are written."""
    base = settings.base_url
    if subject[0] == "case":
        _kind, slug, title = subject
        name = _("%(case)s: court hearings", case=title)
        url = external_url("records.case", base_url=base, slug=slug)
    elif subject[0] == "defendant":
        _kind, slug, latin, original = subject
        name = _("%(name)s: court hearings", name=ical.both_scripts(latin, original, settings.locale))
        url = external_url("records.defendant", base_url=base, slug=slug)
    else:
        name = _("Political prisoners: all court hearings")
        url = external_url("records.hearings", base_url=base)
    if alarm:
        name = _("%(name)s (reminder a day before)", name=name)
    description = _(
        "Court hearings published by %(site)s. Postponed hearings move; cancelled ones stay %(days)d days "
        "marked “Cancelled”, then leave the calendar.",
        site=base, days=settings.cancelled_days,
    )
    return calendars.FeedInfo(name, description, url, f"{settings.feeds_url}/{full_path}", settings.refresh_minutes)


def alarm_path(path: str) -> str:
    return f"{ALARM_DIR}/{path}"


def feed_bytes(
    info: calendars.FeedInfo, zones: dict, texts: Iterable[bytes],
) -> bytes:
    return calendars.assemble(info, zones, texts)


def _zones(ids: Iterable[int], rows: dict[int, tuple[str, int]]) -> dict[str, tuple[int, int]]:
    return calendars.zone_years(rows[i] for i in ids)


class AlarmTexts:
    """Each event with its alarm inserted, kept while the event's text stays the same: the
    alarm feeds need the whole set too, and slicing 10,000 events again costs."""

    def __init__(self) -> None:
        self.entries: dict[tuple[str, int], tuple[bytes, bytes]] = {}

    def get(self, locale: str, hearing_id: int, text: bytes, alarm: bytes) -> bytes:
        found = self.entries.get((locale, hearing_id))
        if found is not None and found[0] is text:
            return found[1]
        alarmed = ical.with_alarm(text, alarm)
        self.entries[(locale, hearing_id)] = (text, alarmed)
        return alarmed


# --- publishing ----------------------------------------------------------------------


@dataclass
class PublishReport:
    feeds: int = 0
    written: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    events_rendered: int = 0
    seconds: float = 0.0

    @property
    def unchanged(self) -> int:
        return self.feeds - len(self.written)


@dataclass
class PublishedState:
    """What this process last wrote to a FEEDS_DIR: each language's event keys, and each
    file's recipe (its subject and the ids of its events, in order).

    A feed is rewritten when its recipe changed or one of its events did; deciding
    that costs a tuple comparison and a set intersection per feed, not a rebuild.
    """

    keys: dict[str, dict[int, tuple]] = field(default_factory=dict)  # language -> hearing id -> key
    recipes: dict[str, tuple] = field(default_factory=dict)
    # each file as this process left it (inode, mtime, size): another publisher (the web app,
    # after a defendant is hidden) may have written it since, and then its recipe is unknown
    stamps: dict[str, tuple] = field(default_factory=dict)
    settings: FeedSettings | None = None  # a change of settings (BASE_URL...) rewrites everything
    alarms: AlarmTexts = field(default_factory=AlarmTexts)
    swept_at: float = 0.0  # when leftover temporary files were last removed


_STATE: dict[str, PublishedState] = {}


def forget_published_state() -> None:
    """As after a restart: the next run compares with the files on disk."""
    _STATE.clear()


def publish_feeds(
    now: datetime,
    *,
    session: Session | None = None,
    feeds_dir: str | Path | None = None,
    cache: calendars.EventCache | None = None,
    progress: Progress | None = None,
) -> PublishReport:
    """Write every public feed, in every language, to FEEDS_DIR; rewrite only the feeds whose
    content changed."""
    started = time.perf_counter()
    session = session or db.session
    cache = cache if cache is not None else calendars.EVENTS
    root = Path(feeds_dir or current_app.config["FEEDS_DIR"])
    root.mkdir(parents=True, exist_ok=True)
    settings = FeedSettings.from_app()
    state = _STATE.setdefault(str(root.resolve()), PublishedState())
    if state.settings != settings:
        state.recipes.clear()
        state.settings = settings
    report = PublishReport()
    with publish_lock(root):
        snap = take_snapshot(session, now, settings)
        events, report.events_rendered = render_events(session, now, snap, settings, cache, progress)
        plans = list(feed_plans(snap))
        starts = {row.id: (snap.courts[row.court_id][2], row.year) for row in snap.hearings}
        on_disk = published_files(root, settings.languages, settings.default_locale)
        zones_of: dict[str, dict] = {}  # by plan path: a feed's languages and alarm twin share them
        wanted: set[str] = set()
        total = len(plans) * 2 * len(settings.languages)
        for locale in settings.languages:
            with force_locale(locale):
                _write_language(root, settings.in_language(locale), plans, events[locale], starts, zones_of,
                                on_disk, wanted, state, report)
            if progress:
                progress("write", len(wanted), total)
        for stale in sorted(on_disk - wanted):
            (root / stale).unlink(missing_ok=True)
            report.removed.append(stale)
        state.recipes = {path: recipe for path, recipe in state.recipes.items() if path in wanted}
        state.stamps = {path: stamp for path, stamp in state.stamps.items() if path in wanted}
        # only now: a failure above leaves every changed feed to rewrite
        state.keys = {locale: {i: key for i, (key, _text) in texts.items()} for locale, texts in events.items()}
        kept = len(snap.hearings) * len(settings.languages)
        if len(cache.entries) > 2 * kept + 1000:  # hearings left the feeds: drop them
            cache.forget((ical.PUBLIC, locale, row.id) for locale in settings.languages for row in snap.hearings)
        if len(state.alarms.entries) > 2 * kept + 1000:
            state.alarms = AlarmTexts()
    if time.time() - state.swept_at > 600:
        remove_stale_temp_files(root, time.time() - 600)
        state.swept_at = time.time()
    report.feeds = len(wanted)
    report.seconds = time.perf_counter() - started
    if report.written or report.removed:
        log.info(
            "published feeds: %d written, %d removed, %d unchanged, %d events serialized, %.2fs",
            len(report.written), len(report.removed), report.unchanged, report.events_rendered, report.seconds,
        )
    return report


def _write_language(
    root: Path, settings: FeedSettings, plans: list[FeedPlan], texts: dict[int, tuple[tuple, bytes]],
    starts: dict[int, tuple[str, int]], zones_of: dict[str, dict], on_disk: set[str], wanted: set[str],
    state: PublishedState, report: PublishReport,
) -> None:
    """Write the feeds of one language (`settings.locale`, in force) whose content changed."""
    locale = settings.locale
    old_keys = state.keys.get(locale, {})
    changed = {i for i, (key, _text) in texts.items() if old_keys.get(i) != key}
    alarm = ical.alarm_block()
    prefix = settings.prefix(locale)
    for plan in plans:
        for with_alarm in (False, True):
            full = prefix + (alarm_path(plan.path) if with_alarm else plan.path)
            wanted.add(full)
            recipe = (plan.subject, alarm if with_alarm else None, plan.hearing_ids)
            target = root / full
            known = state.recipes.get(full)
            if known is not None and state.stamps.get(full) != stamp(target):
                known = None  # deleted, or written by another publisher since: compare with the file
            if known == recipe and changed.isdisjoint(plan.hearing_ids):
                continue
            zones = zones_of.get(plan.path)
            if zones is None:  # a feed's alarm twin and its other languages share them
                zones = zones_of[plan.path] = _zones(plan.hearing_ids, starts)
            info = feed_info(plan.subject, with_alarm, full, settings)
            if with_alarm:
                bodies = [state.alarms.get(locale, i, texts[i][1], alarm) for i in plan.hearing_ids]
            else:
                bodies = [texts[i][1] for i in plan.hearing_ids]
            content = feed_bytes(info, zones, bodies)
            if known is None and full in on_disk and same_content(target, content):
                state.recipes[full] = recipe  # after a restart: the file is already right
                state.stamps[full] = stamp(target)
                continue
            state.recipes.pop(full, None)  # unknown until the write succeeds
            write_atomically(target, content)
            state.recipes[full] = recipe
            state.stamps[full] = stamp(target)
            report.written.append(full)


def split_path(path: str, settings: FeedSettings) -> tuple[str, str]:
    """("ru", "cases/x.ics") for "ru/cases/x.ics"; the default language for a path without one."""
    head, _slash, rest = path.partition("/")
    if rest and head in settings.languages and head != settings.default_locale:
        return head, rest
    return settings.default_locale, path


def build_feed(
    path: str, now: datetime, *, session: Session | None = None, cache: calendars.EventCache | None = None
) -> bytes | None:
    """One public feed built on demand (not yet published); None if there is no such feed.
    `path` as under FEEDS_DIR: "all.ics", "ru/with-alarm/cases/x.ics"..."""
    session = session or db.session
    cache = cache if cache is not None else calendars.EVENTS
    settings = FeedSettings.from_app()
    locale, in_language = split_path(path, settings)
    settings = replace(settings.in_language(locale), languages=(locale,))
    alarm = in_language.startswith(ALARM_DIR + "/")
    relative = in_language[len(ALARM_DIR) + 1:] if alarm else in_language
    scope = None
    if relative.startswith("cases/"):
        scope = ("case", relative[len("cases/"):-len(".ics")])
    elif relative.startswith("defendants/"):
        scope = ("defendant", relative[len("defendants/"):-len(".ics")])
    elif relative != "all.ics":
        return None
    snap = take_snapshot(session, now, settings, scope)
    events, _count = render_events(session, now, snap, settings, cache)
    texts = events[locale]
    starts = {row.id: (snap.courts[row.court_id][2], row.year) for row in snap.hearings}
    with force_locale(locale):
        for plan in feed_plans(snap):
            if plan.path == relative:
                alarm_text = ical.alarm_block()
                bodies = [texts[i][1] for i in plan.hearing_ids]
                if alarm:
                    bodies = [ical.with_alarm(text, alarm_text) for text in bodies]
                info = feed_info(plan.subject, alarm, path, settings)
                return feed_bytes(info, _zones(plan.hearing_ids, starts), bodies)
    return None
