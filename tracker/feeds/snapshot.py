"""What the public feeds show, read in a fixed number of plain (Core) queries: the ids,
versions and links of every hearing in the window, its public defendants, cases and courts,
and each hearing's event key. The publisher and an on-demand feed both start from it.
"""
from __future__ import annotations

from collections import defaultdict
from collections.abc import Collection
from dataclasses import dataclass, replace
from typing import NamedTuple
from functools import cached_property
from datetime import datetime, timedelta

import sqlalchemy as sa
from flask import current_app
from sqlalchemy.orm import Session

from tracker.feeds.calendars import event_key, key_context
from tracker.feeds.ical import uid_domain
from tracker.records.enums import HearingStatus
from tracker.records.models import Case, Court, Defendant, Hearing, case_defendants, hearing_defendants


@dataclass(frozen=True)
class FeedSettings:
    base_url: str
    feeds_url: str
    domain: str
    past_days: int
    cancelled_days: int
    refresh_minutes: int
    locale: str  # the language of the texts: the site's default unless `in_language` says
    default_locale: str = "en"
    languages: tuple[str, ...] = ("en",)  # every language the feeds are published in, default first

    @classmethod
    def from_app(cls, locale: str | None = None) -> FeedSettings:
        config = current_app.config
        default = config["BABEL_DEFAULT_LOCALE"]
        return cls(
            base_url=config["BASE_URL"],
            feeds_url=feeds_url(),
            domain=uid_domain(config["BASE_URL"]),
            past_days=config["FEED_PAST_DAYS"],
            cancelled_days=config["FEED_CANCELLED_DAYS"],
            refresh_minutes=config["FEED_REFRESH_MINUTES"],
            locale=locale if locale in feed_languages() else default,
            default_locale=default,
            languages=feed_languages(),
        )

    def in_language(self, locale: str) -> FeedSettings:
        return replace(self, locale=locale)

    def split_path(self, path: str) -> tuple[str, str]:
        """("ru", "cases/x.ics") for "ru/cases/x.ics"; the default language for a path without one."""
        head, _slash, rest = path.partition("/")
        if rest and head in self.languages and head != self.default_locale:
            return head, rest
        return self.default_locale, path

    def prefix(self, locale: str | None = None) -> str:
        """Where a language's feeds live under FEEDS_DIR and /feeds/: the default language at
        the top (the addresses subscribers already have), the others in a folder each ("ru/")."""
        locale = locale or self.locale
        return "" if locale == self.default_locale else f"{locale}/"


def feed_languages() -> tuple[str, ...]:
    """The languages the feeds are published in: every interface language (LANGUAGES), the
    default first. A new language is a catalogue and nothing more: its feeds follow."""
    config = current_app.config
    default = config["BABEL_DEFAULT_LOCALE"]
    others = [lang for lang in config.get("LANGUAGES", ()) if lang != default]
    return (default, *others)


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


class HearingRow(NamedTuple):
    """A hearing as the feeds see it: what of its event's inputs its own row holds (its case,
    court and defendants are compared on their own: Snapshot.cases, courts, defendants).

    A tuple, compared whole with the last run's: 10,000 are made every minute, a tuple costs
    a fraction of an object with attributes to make and to compare, and the cyclic collector
    stops walking a tuple of numbers after its first pass."""

    id: int
    version: int
    case_id: int | None
    court_id: int
    year: int  # of its start (UTC): which years the VTIMEZONE must cover
    defendant_ids: tuple[int, ...] = ()  # public ones, by id


_new_row = tuple.__new__  # HearingRow from a tuple, without the Python-level __new__ of a NamedTuple


@dataclass
class Snapshot:
    hearings: list[HearingRow]  # in feed order: start, then id
    defendants: dict[int, tuple]  # id -> (slug, name_latin, name_original, version), public only
    cases: dict[int, tuple]  # id -> (slug, title, title_original, version)
    courts: dict[int, tuple]  # id -> (name, address, timezone)
    defendant_cases: dict[int, list[int]]  # public defendant id -> the ids of its cases

    @cached_property
    def by_id(self) -> dict[int, HearingRow]:
        """Each hearing's row by id, to compare the next snapshot with this one."""
        return {row[0]: row for row in self.hearings}

    @cached_property
    def shape(self) -> list[tuple]:
        """What the list of feeds and the order of their events follow: the hearings in order,
        each with its case and public defendants (feed_plans reads nothing else of them)."""
        return [(row.id, row.case_id, row.defendant_ids) for row in self.hearings]

    def same_feeds_as(self, last: Snapshot | None) -> bool:
        """Whether `last`'s feeds (their names, their events in order) are this one's too."""
        return (
            last is not None and (self.hearings == last.hearings or self.shape == last.shape) and self.cases == last.cases
            and self.defendants == last.defendants and self.defendant_cases == last.defendant_cases
        )


def take_snapshot(session: Session, now: datetime, settings: FeedSettings, scope=None) -> Snapshot:
    """What the public feeds show, in five queries whatever the data size; the same for
    every language.

    `scope` narrows it for one feed built on demand: ("case", slug) or ("defendant", slug).
    A hearing is public when one of its defendants is: the links to public defendants
    say which, so no query repeats that test per hearing.
    """
    hearing_filter = [window_clause(now, settings.past_days, settings.cancelled_days)]
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

    # plain Core rows through the connection: the ORM's result machinery would cost more
    # than the reading itself, at 10,000 hearings every minute
    connection = session.connection()
    rows = connection.execute(
        sa.select(
            # the start as the driver gives it (SQLite: text, PostgreSQL: a datetime), for its year
            # alone: converting 10,000 datetimes to aware ones costs more than the query
            Hearing.id, Hearing.version, Hearing.case_id, Hearing.court_id,
            sa.type_coerce(Hearing.starts_at, sa.String()),
        )
        .where(*hearing_filter)
        .order_by(Hearing.starts_at, Hearing.id)
    ).all()
    defendants: dict[int, tuple] = {
        r.id: (r.slug, r.name_latin, r.name_original, r.version)
        for r in connection.execute(
            sa.select(Defendant.id, Defendant.slug, Defendant.name_latin, Defendant.name_original, Defendant.version)
            .where(Defendant.is_public.is_(True))
            .order_by(Defendant.name_latin, Defendant.id)
        ).all()
    }
    # The links of those hearings: read along hearing_defendants' primary key, the range of
    # ids in the window (a superset), without joins; the dictionaries above say which hearings
    # are in the window and which defendants are public. A hearing is public when one of its
    # defendants is.
    public_links: dict[int, list[int]] = defaultdict(list)
    if rows:
        ids = [r[0] for r in rows]
        for hearing_id, defendant_id in connection.execute(
            sa.select(hearing_defendants.c.hearing_id, hearing_defendants.c.defendant_id)
            .where(hearing_defendants.c.hearing_id.between(min(ids), max(ids)))
        ).all():  # all at once: iterating fetches row by row
            # on PostgreSQL each statement sees the latest commits: a link to a defendant made
            # public after the query above is skipped
            if defendant_id in defendants:
                public_links[hearing_id].append(defendant_id)
    hearings = []
    for hearing_id, version, case_id, court_id, starts_at in rows:
        shown = public_links.get(hearing_id)
        if shown:  # no public defendant: not a public hearing
            shown.sort()
            year = int(starts_at[:4]) if isinstance(starts_at, str) else starts_at.year
            hearings.append(_new_row(HearingRow, (hearing_id, version, case_id, court_id, year, tuple(shown))))
    # the cases with their defendants: each public defendant's cases, for the hearings that
    # have no case of their own (joined from the case side, along case_defendants' primary key)
    cases: dict[int, tuple] = {}
    defendant_cases: dict[int, list[int]] = defaultdict(list)
    for r in connection.execute(
        sa.select(Case.id, Case.slug, Case.title, Case.title_original, Case.version, case_defendants.c.defendant_id)
        .outerjoin(case_defendants, case_defendants.c.case_id == Case.id)
        .where(*case_filter)
        .order_by(Case.title, Case.id, case_defendants.c.defendant_id)
    ).all():
        cases.setdefault(r.id, (r.slug, r.title, r.title_original, r.version))
        if r.defendant_id in defendants:
            defendant_cases[r.defendant_id].append(r.id)
    for linked_cases in defendant_cases.values():
        linked_cases.sort()
    courts = {
        r.id: (r.name, r.address, r.timezone)
        for r in connection.execute(sa.select(Court.id, Court.name, Court.address, Court.timezone))
    }
    return Snapshot(hearings, defendants, cases, courts, defendant_cases)


def event_keys(snap: Snapshot, settings: FeedSettings, only: Collection[int] | None = None) -> dict[int, tuple]:
    """Each hearing's event key (`calendars.event_key`), as `calendars.key_of` builds it from
    the ORM objects, so a feed and a single download share each cached event.

    Built from shared pieces (one tuple per court, case and defendant): this runs
    for every hearing every minute.
    """
    context = key_context(settings.base_url, settings.domain)
    courts = snap.courts
    cases = {case_id: (case_id, values[3]) for case_id, values in snap.cases.items()}
    people = {person_id: (person_id, values[3]) for person_id, values in snap.defendants.items()}
    keys = {}
    for row in snap.hearings:
        if only is not None and row.id not in only:
            continue
        case = None if row.case_id is None else cases.get(row.case_id, (row.case_id, None))
        # defendant_ids come ordered by id, as key_of sorts them
        keys[row.id] = event_key(row.version, courts[row.court_id], case,
                                 tuple([people[d] for d in row.defendant_ids]), context)
    return keys


def changed_hearings(snap: Snapshot, last: Snapshot | None) -> set[int] | None:
    """The hearings whose events may read differently from `last`'s (None: all of them).

    Compares plain rows rather than building every event's key: a hearing's own row
    (its version goes up on every change; its links to public defendants), then the few
    defendants, cases and courts that changed, which change the events that show them.
    """
    if last is None:
        return None
    if snap.hearings == last.hearings:  # one comparison of tuples, in C
        changed = set()
    else:
        before = last.by_id
        changed = {row[0] for row in snap.hearings if before.get(row[0]) != row}
    people = _changed_keys(snap.defendants, last.defendants)
    cases = _changed_keys(snap.cases, last.cases)
    courts = _changed_keys(snap.courts, last.courts)
    if people or cases or courts:
        for row in snap.hearings:
            if row.court_id in courts or row.case_id in cases or not people.isdisjoint(row.defendant_ids):
                changed.add(row.id)
    return changed


def _changed_keys(now: dict, before: dict) -> set:
    if now == before:
        return set()
    return {key for key, value in now.items() if before.get(key) != value} | (before.keys() - now.keys())
