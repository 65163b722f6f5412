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

import gc
import logging
import time
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from datetime import datetime
from pathlib import Path
from collections.abc import Collection
from typing import Callable, Iterator

import sqlalchemy as sa
from flask import current_app
from flask_babel import force_locale
from sqlalchemy.orm import Session, joinedload

from tracker.extensions import db
from tracker.feeds import calendars, event_store, ical
from tracker.feeds.files import (
    ALARM_DIR,
    feed_folders,
    folder_stamp,
    publish_lock,
    published_files,
    remove_stale_temp_files,
    same_content,
    stamp,
    write_atomically,
)
from tracker.feeds.plans import (
    FeedPlan, alarm_path, event_body, feed_info, feed_plans, feed_zones, joined_events,
)
from tracker.feeds.snapshot import FeedSettings, Snapshot, changed_hearings, event_keys, take_snapshot, window_clause
from tracker.records.models import Hearing
from tracker.records.queries import public_hearing_clause

log = logging.getLogger(__name__)

# How many changed hearings are loaded by id; above that, the whole window is read.
LOAD_BY_ID_LIMIT = 500
# How often FEEDS_DIR is listed for files no publisher wants any more (another publisher's,
# or an older version's); in between, the files this process wrote are the ones it knows.
SCAN_SECONDS = 600

Progress = Callable[[str, int, int], None]


# --- step 2: serialize what changed --------------------------------------------------


def render_events(
    session: Session,
    now: datetime,
    snap: Snapshot,
    settings: FeedSettings,
    cache: calendars.EventCache,
    texts: dict[str, dict[int, bytes]],
    changed: Collection[int] | None = None,
    progress: Progress | None = None,
) -> int:
    """Bring `texts` (language -> hearing id -> the event's `event_body`) up to date for the hearings in
    `changed` (None: every hearing), in each language of `settings.languages`; returns how
    many events were serialized. Each is looked up in the event cache by its key first;
    the others are loaded once, for every language, and serialized once per language."""
    keys = event_keys(snap, settings, changed)
    if cache.unchecked:  # entries read from the event cache's file: not trusted before this
        event_store.drop_rewound(session, cache, snap, keys)
    missing: dict[str, list[int]] = {}
    for locale in settings.languages:
        found = texts.setdefault(locale, {})
        lost = missing[locale] = []
        get = cache.get
        for hearing_id, key in keys.items():
            text = get(ical.PUBLIC, locale, hearing_id, key)
            if text is None:
                lost.append(hearing_id)
            else:
                found[hearing_id] = event_body(text)
    wanted = {hearing_id for lost in missing.values() for hearing_id in lost}
    total = sum(len(lost) for lost in missing.values())
    if not wanted:
        return 0
    query = sa.select(Hearing)
    if len(wanted) <= LOAD_BY_ID_LIMIT:
        # an inner join (each of these hearings has a public defendant; one that lost every
        # link since the snapshot is not public any more and is dropped below): for the outer
        # join's nested (links JOIN defendants), SQLite materializes every link joined with its
        # defendant, 20 ms at 13,000 links, to keep those of one hearing
        query = query.options(joinedload(Hearing.defendants, innerjoin=True), joinedload(Hearing.case))
        query = query.where(Hearing.id.in_(sorted(wanted)))
    else:
        query = query.options(joinedload(Hearing.defendants), joinedload(Hearing.case))
        query = query.where(window_clause(now, settings.past_days, settings.cancelled_days), public_hearing_clause())
    loaded = {h.id: h for h in session.scalars(query.execution_options(populate_existing=True)).unique()}
    done = 0
    for locale in settings.languages:
        if not missing[locale]:
            continue
        with force_locale(locale):
            for hearing_id in missing[locale]:
                hearing = loaded.get(hearing_id)
                if hearing is None:  # gone or left with no defendant since the snapshot (PostgreSQL reads the latest commits)
                    texts[locale].pop(hearing_id, None)
                    continue
                text = ical.hearing_event(hearing, settings.base_url, ical.PUBLIC, settings.domain).to_ical()
                cache.put(ical.PUBLIC, locale, hearing_id, keys[hearing_id], text)
                texts[locale][hearing_id] = event_body(text)
                done += 1
                if progress and (done % 250 == 0 or done == total):
                    progress("render", done, total)
    return total


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
    """What this process last wrote to a FEEDS_DIR: the snapshot it was built from, each
    event's text in each language, the feeds' plans, and each file's recipe (its subject
    and the ids of its events, in order).

    The next run compares its snapshot with this one to find the few events that changed,
    and rewrites a feed only when its recipe changed or one of its events did; deciding
    that costs a tuple comparison and a set intersection per feed, not a rebuild.
    """

    snapshot: Snapshot | None = None
    # language -> hearing id -> event, without its END:VEVENT line (plans.event_body): a copy of
    # each cached event (5.5 MB per language at 10,000 hearings), so that no alarm twin
    # costs a search through megabytes
    texts: dict[str, dict[int, bytes]] = field(default_factory=dict)
    plans: list[FeedPlan] = field(default_factory=list)
    recipes: dict[str, tuple] = field(default_factory=dict)
    # each file as this process left it (inode, mtime, size): another publisher (the web app,
    # after a defendant is hidden) may have written it since, and then its recipe is unknown
    stamps: dict[str, tuple] = field(default_factory=dict)
    # each feed folder as this process left it (files.folder_stamp): while a folder's stamp is
    # the same, no file in it was written or removed since, and its files are not stat'ed one by one
    folders: dict[str, tuple | None] = field(default_factory=dict)
    settings: FeedSettings | None = None  # a change of settings (BASE_URL...) starts afresh
    # on a process's first run: what the event cache file's writer knew of the files (event_store.Files)
    files: event_store.Files | None = None
    swept_at: float = 0.0  # when leftover temporary files were last removed
    scanned_at: float = 0.0  # when FEEDS_DIR was last listed (for files no longer wanted)


_STATE: dict[str, PublishedState] = {}


@contextmanager
def collector_paused() -> Iterator[None]:
    """Python's cyclic garbage collector off for the run, on again after.

    A run allocates tens of thousands of short-lived objects (rows, tuples, lists of
    event bytes), and every so many allocations the collector walks every object the
    process holds (about 160,000 in a scheduler with the feeds' state of 10,000
    hearings): measured, those passes were a third of a republish. Nothing a run creates
    needs the collector: reference counting frees it (the few ORM objects of changed
    hearings, which hold cycles, wait for the collector's next pass after the run).
    """
    if not gc.isenabled():  # paused by a caller: leave it as it is
        yield
        return
    gc.disable()
    try:
        yield
    finally:
        gc.enable()


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
    # the collector paused out here, so that it runs again only once the run's locals are
    # freed: on again inside, its next pass would walk every tuple of the run still referenced
    with collector_paused():
        return _publish_feeds(now, session, feeds_dir, cache, progress)


def _publish_feeds(
    now: datetime, session: Session | None, feeds_dir: str | Path | None, cache: calendars.EventCache | None,
    progress: Progress | None,
) -> PublishReport:
    started = time.perf_counter()
    session = session or db.session
    cache = cache if cache is not None else calendars.EVENTS
    root = Path(feeds_dir or current_app.config["FEEDS_DIR"])
    root.mkdir(parents=True, exist_ok=True)
    settings = FeedSettings.from_app()
    key = str(root.resolve())
    state = _STATE.get(key)
    if state is None or state.settings != settings:
        state = _STATE[key] = PublishedState(settings=settings, swept_at=state.swept_at if state else 0.0)
    report = PublishReport()
    with publish_lock(root):
        stored = event_store.read_once(cache, root)  # what another process serialized: a cold process's first run
        state.files = None if state.recipes else cache.files.pop(key, None)
        snap = take_snapshot(session, now, settings)
        last, state.snapshot = state.snapshot, None  # known again only once every file is written
        changed = changed_hearings(snap, last)
        report.events_rendered = render_events(session, now, snap, settings, cache, state.texts, changed, progress)
        if changed is None:
            changed = {row.id for row in snap.hearings}
        if not snap.same_feeds_as(last) or not state.plans:
            state.plans = list(feed_plans(snap))
        plans = state.plans
        starts = {row.id: (snap.courts[row.court_id][2], row.year) for row in snap.hearings}
        folder = str(root)
        folders = feed_folders(settings.languages, settings.default_locale)
        if not state.recipes or time.time() - state.scanned_at > SCAN_SECONDS:
            on_disk = published_files(root, settings.languages, settings.default_locale)
            state.scanned_at = time.time()
            unchanged: set[str] = set()  # every file stat'ed: one edited in place is found too
        else:  # the files this process knows of: listing thousands of files each minute costs
            on_disk = set(state.recipes)
            unchanged = {sub for sub, known in state.folders.items()
                         if known is not None and folder_stamp(f"{folder}/{sub}" if sub else folder) == known}
        state.folders = {}  # known again only once every file is written
        zones_of: dict[str, dict] = {}  # by plan path: a feed's languages and alarm twin share them
        wanted: set[str] = set()
        total = len(plans) * 2 * len(settings.languages)
        for locale in settings.languages:
            with force_locale(locale):
                _write_language(folder, settings.in_language(locale), plans, state.texts[locale], changed, starts,
                                zones_of, on_disk, unchanged, wanted, state, report)
            if progress:
                progress("write", len(wanted), total)
        for stale in sorted(on_disk - wanted):
            (root / stale).unlink(missing_ok=True)
            report.removed.append(stale)
        # every wanted file has its recipe and stamp by now: more entries are feeds gone
        if len(state.recipes) > len(wanted):
            state.recipes = {path: recipe for path, recipe in state.recipes.items() if path in wanted}
        if len(state.stamps) > len(wanted):
            state.stamps = {path: stamp for path, stamp in state.stamps.items() if path in wanted}
        state.folders = {sub: folder_stamp(f"{folder}/{sub}" if sub else folder) for sub in folders}
        state.snapshot = snap  # only now: a failure above leaves every changed feed to rewrite
        kept = len(snap.hearings)
        for locale, texts in state.texts.items():
            if len(texts) > kept + 1000:  # hearings left the feeds: drop them
                state.texts[locale] = {row.id: texts[row.id] for row in snap.hearings if row.id in texts}
        if len(cache.entries) > 2 * kept * len(settings.languages) + 1000:
            cache.forget((ical.PUBLIC, locale, row.id) for locale in settings.languages for row in snap.hearings)
        if stored is not None:
            event_store.save_if_due(cache, stored, settings, key, state)
        state.files = None
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
    root: str, settings: FeedSettings, plans: list[FeedPlan], texts: dict[int, bytes], changed: set[int],
    starts: dict[int, tuple[str, int]], zones_of: dict[str, dict], on_disk: set[str], unchanged: set[str],
    wanted: set[str], state: PublishedState, report: PublishReport,
) -> None:
    """Write the feeds of one language (`settings.locale`, in force) whose content changed.

    A feed and its alarm twin share their events' bodies, each written by one join
    (`joined_events`). A file this process wrote is stat'ed, to notice another publisher's
    write, only when its folder changed since this process left it (`unchanged`: the folders
    that did not). Plain string paths: pathlib's objects would cost more than the stat() they
    wrap, for thousands of feeds every minute.
    """
    locale = settings.locale
    alarm = ical.alarm_block()
    prefix = settings.prefix(locale)
    recipes, stamps = state.recipes, state.stamps
    trusted = {  # plan folder -> (its files trusted, its alarm twins' trusted)
        sub: tuple(f"{prefix}{ALARM_DIR + '/' if twin else ''}{sub}".rstrip("/") in unchanged for twin in (False, True))
        for sub in ("", "cases", "defendants")
    }
    for plan in plans:
        bodies = None
        trust = trusted[plan.folder]
        for with_alarm in (False, True):
            full = prefix + (alarm_path(plan.path) if with_alarm else plan.path)
            wanted.add(full)
            recipe = (plan.subject, alarm if with_alarm else None, plan.hearing_ids)
            target = f"{root}/{full}"
            known = recipes.get(full)
            if known is not None and not trust[with_alarm] and stamps.get(full) != stamp(target):
                known = None  # deleted, or written by another publisher since: compare with the file
            if known == recipe and changed.isdisjoint(plan.hearing_ids):
                continue
            if known is None and state.files is not None:
                vouched = state.files.vouches(settings, full, target, recipe, texts)
                if vouched:  # as the publisher that wrote the event cache's file left it
                    recipes[full], stamps[full] = recipe, vouched
                    continue
            zones = zones_of.get(plan.path)
            if zones is None:  # a feed's alarm twin and its other languages share them
                zones = zones_of[plan.path] = feed_zones(plan.hearing_ids, starts)
            if bodies is None:
                bodies = [texts[i] for i in plan.hearing_ids if i in texts]
            info = feed_info(plan.subject, with_alarm, full, settings)
            # in parts: joining the header to megabytes of events would copy them once more
            parts = calendars.calendar_parts(info, zones, joined_events(bodies, alarm if with_alarm else None))
            if known is None and full in on_disk and same_content(target, b"".join(parts)):
                recipes[full] = recipe  # after a restart: the file is already right
                stamps[full] = stamp(target)
                continue
            recipes.pop(full, None)  # unknown until the write succeeds
            write_atomically(Path(target), parts)
            recipes[full] = recipe
            stamps[full] = stamp(target)
            report.written.append(full)


def build_feed(
    path: str, now: datetime, *, session: Session | None = None, cache: calendars.EventCache | None = None
) -> bytes | None:
    """One public feed built on demand (not yet published); None if there is no such feed.
    `path` as under FEEDS_DIR: "all.ics", "ru/with-alarm/cases/x.ics"..."""
    session = session or db.session
    cache = cache if cache is not None else calendars.EVENTS
    settings = FeedSettings.from_app()
    locale, in_language = settings.split_path(path)
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
    event_store.read_once(cache, Path(current_app.config["FEEDS_DIR"]))
    texts: dict[str, dict[int, bytes]] = {}
    render_events(session, now, snap, settings, cache, texts)
    starts = {row.id: (snap.courts[row.court_id][2], row.year) for row in snap.hearings}
    with force_locale(locale):
        for plan in feed_plans(snap):
            if plan.path == relative:
                bodies = [texts[locale][i] for i in plan.hearing_ids if i in texts[locale]]
                events = joined_events(bodies, ical.alarm_block() if alarm else None)
                info = feed_info(plan.subject, alarm, path, settings)
                return calendars.assemble(info, feed_zones(plan.hearing_ids, starts), events)
    return None
