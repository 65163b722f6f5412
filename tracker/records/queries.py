"""What the public pages read: plain functions on a session, each in a fixed number of
statements whatever the data size. Every function that depends on time takes `now` or `today`.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from functools import lru_cache

import sqlalchemy as sa
from flask_babel import gettext as _
from markupsafe import Markup
from sqlalchemy.orm import Session

from tracker.records.custody import CustodyStatus, custody_status
from tracker.records.custody_rows import PERSON_COLUMNS, PersonDetail, PersonRow, people_of
from tracker.records.enums import DefendantStatus, HearingStatus
from tracker.records.dates import DatePerson, DateRow, next_birthday, upcoming_dates  # noqa: F401 (their old home)
from tracker.records.lines import HearingLine, lines_of, lines_statement
from tracker.records.courts import Court
from tracker.records.models import Case, Defendant, Hearing, hearing_defendants
from tracker.records.models import case_defendants as case_links  # case_defendants() is a query here
from tracker.records.names import query_words, reader_reads_original, reading_key, titles_as_shown
from tracker.records.staleness import (
    Freshness, StaleFact, defendant_finding, last_hearing_days, site_today, status_freshness,
)


class BadQuery(ValueError):
    """A query parameter that cannot be honoured; the message is shown to the user."""


def public_hearing_clause():
    """A hearing is public when at least one of its defendants is public."""
    return sa.exists(
        sa.select(hearing_defendants.c.hearing_id)
        .join(Defendant, Defendant.id == hearing_defendants.c.defendant_id)
        .where(hearing_defendants.c.hearing_id == Hearing.id, Defendant.is_public.is_(True))
    )


def _like_escape(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def name_patterns(text: str) -> list[str]:
    """How a search matches names as people type it (docs/search.md): every word of the query,
    keyed like the stored names (records.names), is part of a word of the key, in any order. A
    LIKE per word in the one statement, the same on SQLite and PostgreSQL: these are the
    patterns, bound to `_name_clause`'s parameters."""
    return [f"%{_like_escape(word)}%" for word in query_words(text)]


def _name_clause(patterns: list[sa.BindParameter]) -> sa.ColumnElement[bool]:
    if not patterns:  # only punctuation: nothing is a name
        return sa.false()
    return sa.and_(*(Defendant.search_name.like(pattern, escape="\\") for pattern in patterns))


@dataclass
class DefendantRow:
    """A defendant as a page shows them: the status line's facts, whether it can still be true
    (`stale`: a finding replaces a stale "now until" with "status unverified since"), and how
    fresh its facts are. `defendant` is a light row: `custody_rows.PersonRow` on the lists,
    `custody_rows.PersonDetail` on a defendant's page (the entities satisfy the same rules)."""

    defendant: Defendant | PersonRow | PersonDetail
    status: CustodyStatus
    next_hearing: NextHearing | None = None
    stale: StaleFact | None = None
    freshness: list[Freshness] = field(default_factory=list)
    # the HTML of the name, the status line and its freshness, set by records.status_text.prepare_rows
    name_html: Markup = Markup("")
    status_html: Markup = Markup("")
    fresh_html: Markup = Markup("")


def defendant_rows(
    session: Session, defendants: list[Defendant] | list[PersonRow], now: datetime, *,
    with_next_hearing: bool = False,
) -> list[DefendantRow]:
    """Rows for defendants whose measures, decisions and placements are loaded (entities or light
    rows: the same rules read both): two queries at most (their latest hearings, for the
    stale-fact rules; their next ones, if asked)."""
    today = site_today(now)
    last_hearings = last_hearing_days(session, [d.id for d in defendants])
    upcoming = next_hearing_times(session, [d.id for d in defendants], now) if with_next_hearing else {}
    rows = []
    for person in defendants:
        status = custody_status(person)
        rows.append(DefendantRow(person, status, upcoming.get(person.id),
                                 defendant_finding(person, last_hearings.get(person.id), today, status),
                                 status_freshness(person, status)))
    return rows


@dataclass
class DefendantPage:
    rows: list[DefendantRow]
    total: int
    page: int
    pages: int


def next_hearings(session: Session, defendant_ids: list[int], now: datetime) -> dict[int, Hearing]:
    """The next scheduled hearing of each defendant, in one query."""
    if not defendant_ids:
        return {}
    rows = session.execute(
        sa.select(hearing_defendants.c.defendant_id, Hearing)
        .join(Hearing, Hearing.id == hearing_defendants.c.hearing_id)
        .where(
            hearing_defendants.c.defendant_id.in_(defendant_ids),
            Hearing.starts_at >= now,
            Hearing.status == HearingStatus.SCHEDULED,
        )
        .order_by(Hearing.starts_at)
    ).all()
    result: dict[int, Hearing] = {}
    for defendant_id, hearing in rows:
        result.setdefault(defendant_id, hearing)
    return result


@dataclass(slots=True)
class NextHearing:
    """What the home page says of a defendant's next hearing: when, where (read as columns)."""

    starts_at: datetime
    timezone: str
    court: str
    court_original: str
    # the text, set by records.lines.prepare_next
    when: Markup = Markup("")
    when_attr: str = ""
    where: str = ""


def next_hearing_times(session: Session, defendant_ids: list[int], now: datetime) -> dict[int, NextHearing]:
    """The next scheduled hearing of each defendant, ranked in SQL (one row per defendant, not
    every upcoming hearing as entities), in one query."""
    if not defendant_ids:
        return {}
    rows = session.connection().execute(_statements()["next_hearings"], {"ids": defendant_ids, "now": now}).all()
    return {defendant_id: NextHearing(*rest) for defendant_id, *rest in rows}


def _next_hearings_statement() -> sa.Select:
    ranked = (
        sa.select(hearing_defendants.c.defendant_id, Hearing.starts_at, Court.timezone, Court.name,
                  Court.name_original,
                  sa.func.row_number().over(partition_by=hearing_defendants.c.defendant_id,
                                            order_by=(Hearing.starts_at, Hearing.id)).label("rank"))
        .join(Hearing, Hearing.id == hearing_defendants.c.hearing_id)
        .join(Court, Court.id == Hearing.court_id)
        .where(
            hearing_defendants.c.defendant_id.in_(sa.bindparam("ids", expanding=True)),
            Hearing.starts_at >= sa.bindparam("now", type_=Hearing.starts_at.type),
            Hearing.status == HearingStatus.SCHEDULED,
        )
        .subquery()
    )
    return sa.select(*list(ranked.c)[:-1]).where(ranked.c.rank == 1)


@lru_cache(maxsize=1)
def _statements() -> dict[str, sa.Select]:
    """The public pages' fixed statements, built once with bound parameters: building and
    keying a statement anew cost ~0.1-0.3 ms each, more than SQLite takes to run most of them."""
    upcoming = sa.select(Hearing.id).where(
        Hearing.starts_at >= sa.bindparam("since", type_=Hearing.starts_at.type),
        Hearing.starts_at < sa.bindparam("until", type_=Hearing.starts_at.type),
        Hearing.status != HearingStatus.HELD,
        public_hearing_clause(),
    )
    in_case = Hearing.in_cases(sa.bindparam("case_ids", expanding=True), public_only=True)

    defendant_id = sa.bindparam("defendant_id", type_=sa.Integer)

    def first(query: sa.Select) -> sa.ScalarSelect:
        return query.order_by(Hearing.starts_at, Hearing.id).limit(sa.bindparam("limit", type_=sa.Integer)) \
            .scalar_subquery()

    return {
        "next_hearings": _next_hearings_statement(),
        "upcoming": lines_statement(first(upcoming)),
        "upcoming_in_case": lines_statement(first(upcoming.where(in_case))),
        "case_hearings": lines_statement(
            sa.select(Hearing.id).where(in_case, public_hearing_clause()).scalar_subquery()),
        "defendant_hearings": lines_statement(
            sa.select(hearing_defendants.c.hearing_id)
            .where(hearing_defendants.c.defendant_id == sa.bindparam("defendant_id", type_=sa.Integer))
            .scalar_subquery()),
        "defendant": sa.select(Defendant)
        .where(Defendant.slug == sa.bindparam("slug", type_=sa.String), Defendant.is_public.is_(True)),
        "defendant_cases": sa.select(Case.slug, Case.title, Case.title_original)
        .join(case_links, case_links.c.case_id == Case.id)
        .where(case_links.c.defendant_id == defendant_id).order_by(Case.title),
        "case": sa.select(Case).where(Case.slug == sa.bindparam("slug", type_=sa.String)),
        "case_id": sa.select(Case.id).where(Case.slug == sa.bindparam("slug", type_=sa.String)),
        "case_defendants": sa.select(*PERSON_COLUMNS)
        .where(Defendant.cases.any(Case.id == sa.bindparam("case_id", type_=sa.Integer)),
               Defendant.is_public.is_(True))
        .order_by(Defendant.name_latin),
        "case_choices": sa.select(Case.slug, Case.title, Case.title_original).order_by(Case.title),
    }


def list_defendants(
    session: Session,
    *,
    now: datetime,
    case_slug: str | None = None,
    status: str | None = None,
    q: str | None = None,
    page: int = 1,
    per_page: int = 50,
) -> DefendantPage:
    """The home page's list of public defendants, filtered and paginated, as light rows with
    their custody (`custody_rows`): seven statements, one more with a case filter."""
    params: dict = {}
    connection = session.connection()
    if case_slug:
        params["case_id"] = connection.execute(_statements()["case_id"], {"slug": case_slug}).scalar()
        if params["case_id"] is None:
            raise BadQuery(_("There is no case “%(slug)s”.", slug=case_slug))
    if status:
        try:
            params["status"] = DefendantStatus(status)
        except ValueError:
            raise BadQuery(_("Unknown status “%(status)s”.", status=status)) from None
    words = None
    if q:
        q = q.strip()
        if len(q) > 100:
            raise BadQuery(_("The search text is too long (100 characters at most)."))
        patterns = name_patterns(q)
        words = len(patterns)
        params.update((f"word_{i}", pattern) for i, pattern in enumerate(patterns))
    if page < 1:
        raise BadQuery(_("Page numbers start at 1."))

    count, listing = _listing_statements(bool(case_slug), bool(status), words, reader_reads_original())
    total = connection.execute(count, params).scalar() or 0
    pages = max(1, -(-total // per_page))
    if page > pages:
        raise BadQuery(f"There are only {pages} pages.")
    defendants = people_of(session, listing, {**params, "limit": per_page, "offset": (page - 1) * per_page})
    rows = defendant_rows(session, defendants, now, with_next_hearing=True)
    return DefendantPage(rows=rows, total=total, page=page, pages=pages)


@lru_cache(maxsize=128)
def _listing_statements(by_case: bool, by_status: bool, words: int | None,
                        reads_original: bool) -> tuple[sa.Select, sa.Select]:
    """The home list's count and page statements for one combination of filters (a case, a
    status, a search of so many words: at most 2 x 2 x 8 of them) and the reader's order
    (a Russian reader's list goes by the stored `sort_key_original`, an English reader's by the
    Latin name: records.names "Order of lists" in docs/search.md), built once with bound
    parameters, like the pages' fixed statements (`_statements`)."""
    query = sa.select(*PERSON_COLUMNS).where(Defendant.is_public.is_(True))
    if by_case:
        query = query.where(Defendant.cases.any(Case.id == sa.bindparam("case_id", type_=sa.Integer)))
    if by_status:
        query = query.where(Defendant.status == sa.bindparam("status", type_=Defendant.status.type))
    if words is not None:
        query = query.where(_name_clause([sa.bindparam(f"word_{i}", type_=sa.String) for i in range(words)]))
    count = sa.select(sa.func.count()).select_from(query.subquery())
    return count, query.order_by(Defendant.reading_column(reads_original), Defendant.id).limit(sa.bindparam("limit", type_=sa.Integer)) \
        .offset(sa.bindparam("offset", type_=sa.Integer))


def get_public_defendant(session: Session, slug: str) -> Defendant | None:
    """A public defendant (one statement); their page reads the custody facts as rows
    (`custody_rows.person_detail`)."""
    return session.scalar(_statements()["defendant"], {"slug": slug})


def defendant_cases(session: Session, defendant: Defendant) -> list[tuple[str, str]]:
    """(slug, title) of a defendant's cases, each title in the reader's script and sorted as
    shown: what their page links (columns, not entities)."""
    return titles_as_shown(
        session.connection().execute(_statements()["defendant_cases"], {"defendant_id": defendant.id}).all())


def defendant_hearings(session: Session, defendant: Defendant) -> list[HearingLine]:
    """All hearings of a defendant, as lines with their public co-defendants (two statements)."""
    return lines_of(session, _statements()["defendant_hearings"], {"defendant_id": defendant.id})


def all_cases(session: Session) -> list[Case]:
    """Every case, by title (the filters of the public lists, the choices of the admins' forms)."""
    return list(session.scalars(sa.select(Case).order_by(Case.title)))


def cases_by_id(session: Session, ids: list[int]) -> list[Case]:
    return list(session.scalars(sa.select(Case).where(Case.id.in_(ids)))) if ids else []


def get_case(session: Session, slug: str) -> Case | None:
    return session.scalar(_statements()["case"], {"slug": slug})


def case_defendants(session: Session, case: Case) -> list[PersonRow]:
    """A case's public defendants as light rows with their custody (four statements), in the
    reader's order (`reading_key`)."""
    reads_original = reader_reads_original()
    people = people_of(session, _statements()["case_defendants"], {"case_id": case.id})
    return sorted(people, key=lambda person: reading_key(person.name_latin, person.name_original, reads_original))


def case_hearings(session: Session, case: Case) -> list[HearingLine]:
    """The public hearings of a case (`Hearing.in_cases`: the feeds and reminders use it too),
    as lines (two statements)."""
    return lines_of(session, _statements()["case_hearings"], {"case_ids": [case.id]})


def upcoming_hearings(
    session: Session, now: datetime, days: int = 30, *, case_slug: str | None = None, limit: int = 300
) -> list[HearingLine]:
    """Public hearings that have not ended and start within `days`; cancelled ones stay visible.

    Read as lines (records.lines: columns, not entities), in two statements after the case's
    id: the hearings with their courts, then their public defendants. `limit` keeps the page
    readable.
    """
    params = {"since": now - timedelta(hours=12), "until": now + timedelta(days=days), "limit": limit}
    statement = _statements()["upcoming"]
    if case_slug:
        case_id = session.connection().execute(_statements()["case_id"], {"slug": case_slug}).scalar()
        if case_id is None:
            raise BadQuery(_("There is no case “%(slug)s”.", slug=case_slug))
        statement, params["case_ids"] = _statements()["upcoming_in_case"], [case_id]
    return lines_of(session, statement, params)


def case_choices(session: Session) -> list[tuple[str, str]]:
    """(slug, title) of every case, in the reader's script and sorted as shown: the case
    filter of the public lists."""
    return titles_as_shown(session.connection().execute(_statements()["case_choices"]).all())



def has_demo_data(session: Session) -> bool:
    return session.scalar(sa.select(sa.exists().where(Case.is_demo.is_(True)))) or False
