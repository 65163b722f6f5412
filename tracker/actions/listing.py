"""Public actions as plain rows, not ORM objects: /actions (up to 500) and the list on each
defendant's and case's page (the 20 soonest).

A list shows each action's own columns, its case's slug and title, and the names of its
public defendants. Loading them as mapped objects (identity map, instrumented attributes,
the defendants' collections) cost ~20 ms at 500 actions, six times the statements
themselves, and a quarter of a defendant's page for its few; these read the same columns
as tuples into small records whose attributes are named as the model's, so
`rendering.actions_html` writes either.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from functools import lru_cache

import sqlalchemy as sa
from sqlalchemy.orm import Session

from tracker.actions.logic import PAGE_SHOWN, case_clause
from tracker.actions.models import PUBLIC_STATUSES, Action, ActionStatus, ActionTimes, action_defendants
from tracker.id_lists import in_id_list
from tracker.records.models import Case, Defendant
from tracker.records.names import reader_reads_original

SELECT_IN_BATCH = 500  # ids in one IN list: the second statement stays one whatever the page


@dataclass(slots=True)
class ListedCase:
    slug: str
    title: str
    title_original: str


@dataclass(slots=True)
class ListedPerson:
    slug: str
    name_latin: str
    name_original: str


@dataclass(slots=True)
class ListedAction(ActionTimes):
    """What the list shows of an action, named as `Action`'s attributes."""

    id: int
    title: str
    description: str | None
    organiser: str | None
    city: str
    country: str
    address: str | None
    timezone: str
    starts_at: datetime
    ends_at: datetime
    status: ActionStatus
    case: ListedCase | None
    people: list[ListedPerson] = field(default_factory=list)

    def public_defendants(self) -> list[ListedPerson]:
        return self.people  # only public ones were read


def upcoming_listed(session: Session, now: datetime, *, limit: int = SELECT_IN_BATCH) -> list[ListedAction]:
    """Public actions that have not ended, soonest first, with their case and public
    defendants (by name, as `Action.defendants`): two statements whatever their number."""
    listed_statement, people_statement = _statements(reader_reads_original())
    connection = session.connection()  # Core: tuples straight from the cursor, no ORM loading context
    rows = connection.execute(listed_statement, {"now": now, "limit": min(limit, SELECT_IN_BATCH)}).all()
    listed = [_action(row) for row in rows]
    if not listed:
        return listed
    by_id = {action.id: action for action in listed}
    # whether each is public is read, not filtered on: SQLite would otherwise walk the
    # is_public index (every public defendant) and probe the links for each of them
    for action_id, slug, latin, original, public in connection.execute(people_statement, {"ids": list(by_id)}).all():
        if public:
            by_id[action_id].people.append(ListedPerson(slug, latin, original))
    return listed


def of_defendant_listed(session: Session, defendant_id: int, now: datetime) -> list[ListedAction]:
    """The public, upcoming actions that name this defendant (the PAGE_SHOWN soonest)."""
    return _of_scope(session, "defendant", {"defendant_id": defendant_id, "now": now, "limit": PAGE_SHOWN})


def of_case_listed(session: Session, case_id: int, now: datetime) -> list[ListedAction]:
    """The public, upcoming actions of a case (`logic.case_clause`), the PAGE_SHOWN soonest."""
    return _of_scope(session, "case", {"case_id": case_id, "now": now, "limit": PAGE_SHOWN})


def _of_scope(session: Session, scope: str, params: dict) -> list[ListedAction]:
    """One statement (a record's page counts its queries): the limited actions with their links'
    defendants joined, a row per (action, defendant), soonest first, each action's people by name."""
    listed: list[ListedAction] = []
    last = None
    for row in session.connection().execute(_scope_statements(reader_reads_original())[scope], params).all():
        if last is None or last.id != row[0]:
            last = _action(row)
            listed.append(last)
        slug, latin, original, public = row[LISTED_COLUMNS:]
        if public:  # a public defendant (None: an action naming nobody; hidden ones are never shown)
            last.people.append(ListedPerson(slug, latin, original))
    return listed


LISTED_COLUMNS = 14  # _columns(): a scope's statement adds its defendants' after them


def _action(row: sa.Row) -> ListedAction:
    return ListedAction(*row[:11], ListedCase(row[11], row[12], row[13]) if row[11] is not None else None)


def _columns() -> tuple:
    return (Action.id, Action.title, Action.description, Action.organiser, Action.city, Action.country,
            Action.address, Action.timezone, Action.starts_at, Action.ends_at, Action.status, Case.slug, Case.title,
            Case.title_original)


def _public_upcoming(*scope: sa.ColumnElement[bool], public: sa.ColumnElement[bool] | None = None) -> sa.Select:
    return (sa.select(*_columns())
            .outerjoin(Case, Case.id == Action.case_id)
            .where(Action.public_clause() if public is None else public,
                   Action.ends_at >= sa.bindparam("now", type_=Action.ends_at.type), *scope)
            .order_by(Action.starts_at, Action.id)
            .limit(sa.bindparam("limit", type_=sa.Integer)))


@lru_cache(maxsize=2)
def _statements(reads_original: bool) -> tuple[sa.Select, sa.Select]:
    """Both statements, built once per reader's order of names (`Defendant.reading_column`; building and keying
    them anew cost ~1 ms a request). The
    actions' ids travel as one value (`in_id_list`): the statement's text stays the same for
    any page, where an expanding IN rendered 200 placeholders on every request."""
    people = (sa.select(action_defendants.c.action_id, Defendant.slug, Defendant.name_latin, Defendant.name_original,
                        Defendant.is_public)
              .join(Defendant, Defendant.id == action_defendants.c.defendant_id)
              .where(in_id_list(action_defendants.c.action_id, "ids"))
              .order_by(Defendant.reading_column(reads_original)))
    return _public_upcoming(), people


@lru_cache(maxsize=2)
def _scope_statements(reads_original: bool) -> dict[str, sa.Select]:
    """A defendant's and a case's: the limited actions, then every linked defendant joined.

    A defendant's: the actions linked to them while they are public. An action linked to a
    public defendant is public by `Action.public_clause`'s own rule (linked to nobody, or to
    someone public) once its status is, so only the status is tested besides: the general
    clause made SQLite list every public defendant's links (2,000 index probes, ~0.3 ms, the
    most of a defendant page's SQL) to keep the few this one has. A hidden defendant, whose
    page is never shown, lists nothing."""
    named = (sa.select(action_defendants.c.action_id)
             .join(Defendant, Defendant.id == action_defendants.c.defendant_id)
             .where(action_defendants.c.defendant_id == sa.bindparam("defendant_id", type_=sa.Integer),
                    Defendant.is_public.is_(True)))
    scopes = {"defendant": (Action.id.in_(named), Action.status.in_(PUBLIC_STATUSES)),
              "case": (case_clause(sa.bindparam("case_id", type_=sa.Integer)), None)}
    statements = {}
    for name, (clause, public) in scopes.items():
        picked = _public_upcoming(clause, public=public).subquery()
        statements[name] = (
            sa.select(*picked.c, Defendant.slug, Defendant.name_latin, Defendant.name_original, Defendant.is_public)
            .outerjoin(action_defendants, action_defendants.c.action_id == picked.c.id)
            .outerjoin(Defendant, Defendant.id == action_defendants.c.defendant_id)
            .order_by(picked.c.starts_at, picked.c.id, Defendant.reading_column(reads_original)))
    return statements

