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
feed not yet published is built by `build_feed`, from the same code.
"""
from __future__ import annotations

import fcntl
import logging
import os
import re
import tempfile
import time
from collections import defaultdict
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Callable, Iterator

import sqlalchemy as sa
from flask import current_app
from flask_babel import force_locale
from flask_babel import gettext as _
from sqlalchemy.orm import Session, aliased, joinedload

from tracker.extensions import db
from tracker.feeds import ical
from tracker.records.queries import public_hearing_clause
from tracker.records.enums import HearingStatus
from tracker.records.models import (
    Case,
    Court,
    Defendant,
    Hearing,
    case_defendants,
    hearing_cases,
    hearing_defendants,
)

log = logging.getLogger(__name__)

ALARM_DIR = "with-alarm"
# Slugs that can be file names as they are (no "/", no leading dot). Others are
# served on demand by the app only.
SAFE_SLUG = re.compile(r"^[\w-][\w.-]*$")
# How many changed hearings are loaded by id; above that, the whole window is read.
LOAD_BY_ID_LIMIT = 500

Progress = Callable[[str, int, int], None]


@dataclass(frozen=True)
class FeedSettings:
    base_url: str
    feeds_url: str
    domain: str
    past_days: int
    cancelled_days: int
    refresh_minutes: int
    locale: str

    @classmethod
    def from_app(cls) -> FeedSettings:
        config = current_app.config
        return cls(
            base_url=config["BASE_URL"],
            feeds_url=feeds_url(),
            domain=ical.uid_domain(config["BASE_URL"]),
            past_days=config["FEED_PAST_DAYS"],
            cancelled_days=config["FEED_CANCELLED_DAYS"],
            refresh_minutes=config["FEED_REFRESH_MINUTES"],
            locale=config["BABEL_DEFAULT_LOCALE"],
        )


def feeds_url() -> str:
    """Where subscribers fetch feeds: the app's /feeds, or FEEDS_URL (a CDN)."""
    return (current_app.config.get("FEEDS_URL") or current_app.config["BASE_URL"] + "/feeds").rstrip("/")


def window_clause(now: datetime, past_days: int, cancelled_days: int):
    """Hearings a feed carries: from `past_days` ago on; a cancelled one only for
    `cancelled_days` after its last change, long enough for clients to remove it."""
    return sa.and_(
        Hearing.starts_at >= now - timedelta(days=past_days),
        sa.or_(
            Hearing.status != HearingStatus.CANCELLED,
            Hearing.updated_at >= now - timedelta(days=cancelled_days),
        ),
    )


# --- step 1: the snapshot ------------------------------------------------------------


@dataclass(slots=True)
class HearingRow:
    id: int
    version: int
    case_id: int | None
    court_id: int
    starts_at: datetime
    defendant_ids: list[int] = field(default_factory=list)  # public ones, by id


@dataclass
class Snapshot:
    hearings: list[HearingRow]  # in feed order: start, then id
    defendants: dict[int, tuple]  # id -> (slug, name_latin, name_original, version), public only
    cases: dict[int, tuple]  # id -> (slug, title, version)
    courts: dict[int, tuple]  # id -> (name, address, timezone)
    defendant_cases: dict[int, list[int]]  # public defendant id -> the ids of its cases


def take_snapshot(session: Session, now: datetime, settings: FeedSettings, scope=None) -> Snapshot:
    """What the public feeds show, in five queries whatever the data size.

    `scope` narrows it for one feed built on demand: ("case", slug) or ("defendant", slug).
    """
    window = window_clause(now, settings.past_days, settings.cancelled_days)
    hearing_filter = [window, public_hearing_clause()]
    case_filter = []
    if scope is not None:
        kind, slug = scope
        if kind == "case":
            case_id = session.scalar(sa.select(Case.id).where(Case.slug == slug))
            hearing_filter.append(Hearing.in_cases([case_id], public_only=True) if case_id else sa.false())
            case_filter.append(Case.slug == slug)
        elif kind == "defendant":
            linked = (
                sa.select(hearing_defendants.c.hearing_id)
                .join(Defendant, Defendant.id == hearing_defendants.c.defendant_id)
                .where(Defendant.slug == slug, Defendant.is_public.is_(True))
            )
            hearing_filter.append(Hearing.id.in_(linked))

    rows = session.execute(
        sa.select(
            Hearing.id, Hearing.version, Hearing.case_id, Hearing.court_id, Hearing.starts_at,
        )
        .where(*hearing_filter)
        .order_by(Hearing.starts_at, Hearing.id)
    ).all()
    hearings = {r[0]: HearingRow(*r) for r in rows}
    defendants: dict[int, tuple] = {}
    # with each public defendant's cases, for the hearings that have no case of their own
    defendant_cases: dict[int, list[int]] = defaultdict(list)
    for r in session.execute(
        sa.select(Defendant.id, Defendant.slug, Defendant.name_latin, Defendant.name_original, Defendant.version,
                  case_defendants.c.case_id)
        .outerjoin(case_defendants, case_defendants.c.defendant_id == Defendant.id)
        .where(Defendant.is_public.is_(True))
        .order_by(Defendant.name_latin, Defendant.id, case_defendants.c.case_id)
    ):
        defendants.setdefault(r.id, (r.slug, r.name_latin, r.name_original, r.version))
        if r.case_id is not None:
            defendant_cases[r.id].append(r.case_id)
    # aliases, so that the filters' own subqueries on these tables stay uncorrelated
    link = hearing_defendants.alias("link")
    person = aliased(Defendant, name="person")
    links = session.execute(
        sa.select(link.c.hearing_id, link.c.defendant_id)
        .join(Hearing, Hearing.id == link.c.hearing_id)
        .join(person, person.id == link.c.defendant_id)
        .where(person.is_public.is_(True), *hearing_filter)
        .order_by(link.c.hearing_id, link.c.defendant_id)
    ).all()
    for hearing_id, defendant_id in links:
        # on PostgreSQL each statement sees the latest commits: skip a link to a
        # defendant made public after the query above
        if hearing_id in hearings and defendant_id in defendants:
            hearings[hearing_id].defendant_ids.append(defendant_id)
    cases = {
        r.id: (r.slug, r.title, r.version)
        for r in session.execute(
            sa.select(Case.id, Case.slug, Case.title, Case.version).where(*case_filter).order_by(Case.title, Case.id)
        )
    }
    courts = {
        r.id: (r.name, r.address, r.timezone)
        for r in session.execute(sa.select(Court.id, Court.name, Court.address, Court.timezone))
    }
    return Snapshot(list(hearings.values()), defendants, cases, courts, defendant_cases)


def event_keys(snap: Snapshot, settings: FeedSettings) -> dict[int, tuple]:
    """Each hearing's event key, as `ical.key_of` computes it from the ORM objects.

    Built from shared pieces (one tuple per court, case and defendant): this runs
    for every hearing every minute.
    """
    context = (settings.base_url, settings.domain, settings.locale)
    courts = snap.courts
    cases = {case_id: (case_id, values[2]) for case_id, values in snap.cases.items()}
    people = {person_id: (person_id, values[3]) for person_id, values in snap.defendants.items()}
    keys = {}
    for row in snap.hearings:
        case = None if row.case_id is None else cases.get(row.case_id, (row.case_id, None))
        # defendant_ids come ordered by id, as key_of sorts them
        keys[row.id] = (row.version, courts[row.court_id], case, tuple([people[d] for d in row.defendant_ids]),
                        context)
    return keys


# --- step 2: serialize what changed --------------------------------------------------


def render_events(
    session: Session,
    now: datetime,
    snap: Snapshot,
    settings: FeedSettings,
    cache: ical.EventCache,
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
    info: ical.FeedInfo
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
        yield FeedPlan(path, ical.FeedInfo(name, description, url, f"{settings.feeds_url}/{path}",
                                           settings.refresh_minutes), ids, False)
        full = f"{ALARM_DIR}/{path}"
        info = ical.FeedInfo(with_alarm % {"name": name}, description, url, f"{settings.feeds_url}/{full}",
                             settings.refresh_minutes)
        yield FeedPlan(full, info, ids, True)

    all_ids = [row.id for row in snap.hearings]
    yield from both("all.ics", _("Political prisoners: all court hearings"), f"{base}/hearings", all_ids)
    for case_id, (slug, title, _version) in snap.cases.items():
        if SAFE_SLUG.match(slug):
            yield from both(
                f"cases/{slug}.ics", case_title % {"case": title},
                ical._page(base, "cases", slug), by_case.get(case_id, []),
            )
    for defendant_id, (slug, latin, original, _version) in snap.defendants.items():
        if SAFE_SLUG.match(slug):
            name = latin if latin == original else f"{latin} ({original})"
            yield from both(
                f"defendants/{slug}.ics", person_title % {"name": name},
                ical._page(base, "defendants", slug), by_defendant.get(defendant_id, []),
            )


def zones_of(ids: list[int], rows: dict[int, HearingRow], snap: Snapshot) -> dict[str, tuple[int, int]]:
    """Each time zone the events use, with the years its VTIMEZONE must cover."""
    zones: dict[str, tuple[int, int]] = {}
    for hearing_id in ids:
        row = rows[hearing_id]
        tzid = snap.courts[row.court_id][2]
        year = row.starts_at.year  # a year either side covers local dates and the end
        if tzid in zones:
            first, last = zones[tzid]
            if first <= year - 1 and year + 1 <= last:
                continue
            zones[tzid] = (min(first, year - 1), max(last, year + 1))
        else:
            zones[tzid] = (year - 1, year + 1)
    return zones


def feed_bytes(plan: FeedPlan, zones: dict, events: dict[int, tuple[tuple, bytes]], alarm: bytes) -> bytes:
    texts = (events[i][1] for i in plan.hearing_ids)
    if plan.alarm:
        texts = (ical.with_alarm(t, alarm) for t in texts)
    return ical.assemble(plan.info, zones, texts)


# --- writing -------------------------------------------------------------------------


def write_atomically(path: Path, content: bytes) -> None:
    """Write to a temporary file beside `path`, then rename it over `path`.

    A reader (the app, nginx) sees the old file or the new one, never a partial
    one; a failure midway leaves the old file as it was.

    No fsync: it would cost a disk flush per file (2,000 files on a first publish)
    and only guards against a power loss, after which the restarted scheduler
    compares every file with what it should hold and rewrites the ones that differ.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, temp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(content)
        os.chmod(temp, 0o644)  # mkstemp makes it 0600; nginx must read it
        os.replace(temp, path)
    except BaseException:
        try:
            os.unlink(temp)
        except FileNotFoundError:
            pass
        raise


def published_files(root: Path) -> set[str]:
    """The .ics files under FEEDS_DIR that publishing manages, as relative paths."""
    found = set()
    for folder in ("", "cases", "defendants", ALARM_DIR, f"{ALARM_DIR}/cases", f"{ALARM_DIR}/defendants"):
        directory = root / folder if folder else root
        if not directory.is_dir():
            continue
        with os.scandir(directory) as entries:
            for entry in entries:
                if entry.is_file() and entry.name.endswith(".ics") and not entry.name.startswith("."):
                    found.add(f"{folder}/{entry.name}" if folder else entry.name)
    return found


def remove_stale_temp_files(root: Path, older_than: float) -> None:
    """Temporary files a killed publisher left behind."""
    for temp in root.rglob(".*.tmp"):
        try:
            if temp.stat().st_mtime < older_than:
                temp.unlink()
        except FileNotFoundError:
            pass


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


def _stamp(path: Path) -> tuple | None:
    try:
        found = path.stat()
    except FileNotFoundError:
        return None
    return (found.st_ino, found.st_mtime_ns, found.st_size)


@contextmanager
def publish_lock(root: Path) -> Iterator[None]:
    """One publisher at a time per FEEDS_DIR (the scheduler, and the web app after a change
    that takes something out of public view), across processes.

    Held from the snapshot to the last write: a publish that read the database before a
    change finishes writing before a publish that read it after begins, so older files
    never land over newer ones. An flock, released by the kernel if the process dies.
    """
    with open(root / ".publish.lock", "a") as handle:
        fcntl.flock(handle.fileno(), fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle.fileno(), fcntl.LOCK_UN)


def publish_feeds(
    now: datetime,
    *,
    session: Session | None = None,
    feeds_dir: str | Path | None = None,
    cache: ical.EventCache | None = None,
    progress: Progress | None = None,
) -> PublishReport:
    """Write every public feed to FEEDS_DIR; rewrite only the feeds whose content changed."""
    started = time.perf_counter()
    session = session or db.session
    cache = cache if cache is not None else ical.EVENTS
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
            if known is not None and state.stamps.get(plan.path) != _stamp(target):
                known = None  # deleted, or written by another publisher since: compare with the file
            if known == recipe and changed.isdisjoint(plan.hearing_ids):
                continue
            zones = zones_by_list.get(id(plan.hearing_ids))  # a feed and its alarm twin share them
            if zones is None:
                zones = zones_by_list[id(plan.hearing_ids)] = zones_of(plan.hearing_ids, rows, snap)
            content = feed_bytes(plan, zones, events, alarm)
            if known is None and plan.path in on_disk and _same_content(target, content):
                state.recipes[plan.path] = recipe  # after a restart: the file is already right
                state.stamps[plan.path] = _stamp(target)
                continue
            state.recipes.pop(plan.path, None)  # unknown until the write succeeds
            write_atomically(target, content)
            state.recipes[plan.path] = recipe
            state.stamps[plan.path] = _stamp(target)
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


def _same_content(path: Path, content: bytes) -> bool:
    try:
        return path.stat().st_size == len(content) and path.read_bytes() == content
    except FileNotFoundError:
        return False


def build_feed(
    path: str, now: datetime, *, session: Session | None = None, cache: ical.EventCache | None = None
) -> bytes | None:
    """One public feed built on demand (not yet published); None if there is no such feed."""
    session = session or db.session
    cache = cache if cache is not None else ical.EVENTS
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
                return feed_bytes(plan, zones_of(plan.hearing_ids, rows, snap), events, ical.alarm_block())
    return None
