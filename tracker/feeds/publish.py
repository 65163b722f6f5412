"""Publishing: every public feed written to FEEDS_DIR, atomically, only when it changed.

The scheduler calls `publish_feeds(now)` every minute; `flask publish-feeds` calls it
by hand. It must stay cheap for 10,000 hearings, so it works in three steps:

1. a snapshot: five plain (Core) queries read the ids, versions and links of what
   the feeds show, whatever the number of hearings;
2. the events whose inputs changed since the last run (none, usually; all, on
   the first) are loaded with one ORM query and serialized into the event cache;
3. each feed's recipe (header, zones, the cache keys of its events) is compared
   with the one last written: only changed feeds are joined and written, each to
   a temporary file that then replaces the old one (os.replace is atomic, so a
   reader sees the old file or the new one, never half of one).

The web app serves these files (views.py) or nginx/a CDN does (docs/feeds.md). A
feed not yet published is built by `build_feed`, from the same code. The snapshot is
snapshot.py; the files and their lock are files.py.
"""
from __future__ import annotations
from __future__ import annotations

import logging
import re
import time
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Callable, Iterator

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
from tracker.feeds.snapshot import FeedSettings, HearingRow, Snapshot, event_keys, take_snapshot, window_clause
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
) -> tuple[dict[int, tuple[tuple, bytes]], int]:
    """Every hearing's (key, event bytes), and how many were serialized: only the
    changed ones are loaded and serialized."""
    result: dict[int, tuple[tuple, bytes]] = {}
    missing: dict[int, tuple] = {}
    for hearing_id, key in event_keys(snap, settings).items():
        text = cache.get(ical.PUBLIC, hearing_id, key)
        if text is None:
            missing[hearing_id] = key
        else:
            result[hearing_id] = (key, text)
    if missing:
        query = sa.select(Hearing).options(joinedload(Hearing.defendants), joinedload(Hearing.case))
        if len(missing) <= LOAD_BY_ID_LIMIT:
            query = query.where(Hearing.id.in_(list(missing)))
        else:
            query = query.where(
                window_clause(now, settings.past_days, settings.cancelled_days), public_hearing_clause()
            )
        loaded = session.scalars(query.execution_options(populate_existing=True)).unique().all()
        done = 0
        for hearing in loaded:
            key = missing.get(hearing.id)
            if key is None:
                continue
            text = ical.hearing_event(hearing, settings.base_url, ical.PUBLIC, settings.domain).to_ical()
            cache.put(ical.PUBLIC, hearing.id, key, text)
            result[hearing.id] = (key, text)
            done += 1
            if progress and (done % 250 == 0 or done == len(missing)):
                progress("render", done, len(missing))
    return result, len(missing)


# --- step 3: the feeds ---------------------------------------------------------------


@dataclass
class FeedPlan:
    path: str  # relative to FEEDS_DIR and to /feeds/
    info: calendars.FeedInfo
    hearing_ids: list[int]
    alarm: bool


def feed_plans(snap: Snapshot, settings: FeedSettings) -> Iterator[FeedPlan]:
    """Every public feed: all hearings, each case, each public defendant, each with an alarm twin."""
    by_case: dict[int, list[int]] = defaultdict(list)
    by_defendant: dict[int, list[int]] = defaultdict(list)
    for row in snap.hearings:
        for case_id in hearing_cases(row.case_id, (snap.defendant_cases.get(d, ()) for d in row.defendant_ids)):
            by_case[case_id].append(row.id)
        for defendant_id in row.defendant_ids:
            by_defendant[defendant_id].append(row.id)
    # translated once per run (gettext without arguments returns the template)
    description = _(
        "Court hearings published by %(site)s. Postponed hearings move; cancelled ones stay %(days)d days "
        "marked “Cancelled”, then leave the calendar.",
        site=settings.base_url, days=settings.cancelled_days,
    )
    with_alarm = _("%(name)s (reminder a day before)")
    case_title = _("%(case)s: court hearings")
    person_title = _("%(name)s: court hearings")
    base = settings.base_url

    def both(path: str, name: str, url: str, ids: list[int]) -> Iterator[FeedPlan]:
        yield FeedPlan(path, calendars.FeedInfo(name, description, url, f"{settings.feeds_url}/{path}",
                                           settings.refresh_minutes), ids, False)
        full = f"{ALARM_DIR}/{path}"
        info = calendars.FeedInfo(with_alarm % {"name": name}, description, url, f"{settings.feeds_url}/{full}",
                             settings.refresh_minutes)
        yield FeedPlan(full, info, ids, True)

    all_ids = [row.id for row in snap.hearings]
    yield from both("all.ics", _("Political prisoners: all court hearings"),
                    external_url("records.hearings", base_url=base), all_ids)
    for case_id, (slug, title, _version) in snap.cases.items():
        if SAFE_SLUG.match(slug):
            yield from both(
                f"cases/{slug}.ics", case_title % {"case": title},
                external_url("records.case", base_url=base, slug=slug), by_case.get(case_id, []),
            )
    for defendant_id, (slug, latin, original, _version) in snap.defendants.items():
        if SAFE_SLUG.match(slug):
            name = latin if latin == original else f"{latin} ({original})"
            yield from both(
                f"defendants/{slug}.ics", person_title % {"name": name},
                external_url("records.defendant", base_url=base, slug=slug), by_defendant.get(defendant_id, []),
            )


def feed_bytes(plan: FeedPlan, zones: dict, events: dict[int, tuple[tuple, bytes]], alarm: bytes) -> bytes:
    texts = (events[i][1] for i in plan.hearing_ids)
    if plan.alarm:
        texts = (ical.with_alarm(t, alarm) for t in texts)
    return calendars.assemble(plan.info, zones, texts)


def _zones(ids: list[int], rows: dict[int, HearingRow], snap: Snapshot) -> dict[str, tuple[int, int]]:
    return calendars.zone_years((snap.courts[rows[i].court_id][2], rows[i].starts_at) for i in ids)


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
    """What this process last wrote to a FEEDS_DIR: each hearing's event key, and each
    feed's recipe (its properties and the ids of its events, in order).

    A feed is rewritten when its recipe changed or one of its events did; deciding
    that costs a tuple comparison and a set intersection per feed, not a rebuild.
    """

    keys: dict[int, tuple] = field(default_factory=dict)
    recipes: dict[str, tuple] = field(default_factory=dict)
    # each file as this process left it (inode, mtime, size): another publisher (the web app,
    # after a defendant is hidden) may have written it since, and then its recipe is unknown
    stamps: dict[str, tuple] = field(default_factory=dict)
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
    """Write every public feed to FEEDS_DIR; rewrite only the feeds whose content changed."""
    started = time.perf_counter()
    session = session or db.session
    cache = cache if cache is not None else calendars.EVENTS
    root = Path(feeds_dir or current_app.config["FEEDS_DIR"])
    root.mkdir(parents=True, exist_ok=True)
    settings = FeedSettings.from_app()
    state = _STATE.setdefault(str(root.resolve()), PublishedState())
    report = PublishReport()
    with publish_lock(root), force_locale(settings.locale):
        snap = take_snapshot(session, now, settings)
        events, report.events_rendered = render_events(session, now, snap, settings, cache, progress)
        keys = {hearing_id: key for hearing_id, (key, _text) in events.items()}
        changed = {hearing_id for hearing_id, key in keys.items() if state.keys.get(hearing_id) != key}
        rows = {row.id: row for row in snap.hearings}
        alarm = ical.alarm_block()
        plans = list(feed_plans(snap, settings))
        on_disk = published_files(root)
        zones_by_list: dict[int, dict] = {}
        for number, plan in enumerate(plans, 1):
            recipe = (plan.info, alarm if plan.alarm else None, tuple(plan.hearing_ids))
            target = root / plan.path
            known = state.recipes.get(plan.path)
            if known is not None and state.stamps.get(plan.path) != stamp(target):
                known = None  # deleted, or written by another publisher since: compare with the file
            if known == recipe and changed.isdisjoint(plan.hearing_ids):
                continue
            zones = zones_by_list.get(id(plan.hearing_ids))  # a feed and its alarm twin share them
            if zones is None:
                zones = zones_by_list[id(plan.hearing_ids)] = _zones(plan.hearing_ids, rows, snap)
            content = feed_bytes(plan, zones, events, alarm)
            if known is None and plan.path in on_disk and same_content(target, content):
                state.recipes[plan.path] = recipe  # after a restart: the file is already right
                state.stamps[plan.path] = stamp(target)
                continue
            state.recipes.pop(plan.path, None)  # unknown until the write succeeds
            write_atomically(target, content)
            state.recipes[plan.path] = recipe
            state.stamps[plan.path] = stamp(target)
            report.written.append(plan.path)
            if progress and len(report.written) % 100 == 0:
                progress("write", number, len(plans))
        if progress:
            progress("write", len(plans), len(plans))
        wanted = {plan.path for plan in plans}
        for stale in sorted(on_disk - wanted):
            (root / stale).unlink(missing_ok=True)
            report.removed.append(stale)
        state.recipes = {path: recipe for path, recipe in state.recipes.items() if path in wanted}
        state.stamps = {path: stamp for path, stamp in state.stamps.items() if path in wanted}
        state.keys = keys  # only now: a failure above leaves every changed feed to rewrite
        if len(cache.entries) > 2 * len(keys) + 1000:  # hearings left the feeds: drop them
            cache.forget((ical.PUBLIC, hearing_id) for hearing_id in keys)
    if time.time() - state.swept_at > 600:
        remove_stale_temp_files(root, time.time() - 600)
        state.swept_at = time.time()
    report.feeds = len(plans)
    report.seconds = time.perf_counter() - started
    if report.written or report.removed:
        log.info(
            "published feeds: %d written, %d removed, %d unchanged, %d events serialized, %.2fs",
            len(report.written), len(report.removed), report.unchanged, report.events_rendered, report.seconds,
        )
    return report


def build_feed(
    path: str, now: datetime, *, session: Session | None = None, cache: calendars.EventCache | None = None
) -> bytes | None:
    """One public feed built on demand (not yet published); None if there is no such feed."""
    session = session or db.session
    cache = cache if cache is not None else calendars.EVENTS
    settings = FeedSettings.from_app()
    relative = path[len(ALARM_DIR) + 1:] if path.startswith(ALARM_DIR + "/") else path
    scope = None
    if relative.startswith("cases/"):
        scope = ("case", relative[len("cases/"):-len(".ics")])
    elif relative.startswith("defendants/"):
        scope = ("defendant", relative[len("defendants/"):-len(".ics")])
    elif relative != "all.ics":
        return None
    with force_locale(settings.locale):
        snap = take_snapshot(session, now, settings, scope)
        events, _count = render_events(session, now, snap, settings, cache)
        rows = {row.id: row for row in snap.hearings}
        for plan in feed_plans(snap, settings):
            if plan.path == path:
                return feed_bytes(plan, _zones(plan.hearing_ids, rows, snap), events, ical.alarm_block())
    return None
