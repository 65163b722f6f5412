"""What the editing pages read: the records an editor may choose from, and the dashboard.

Each list is narrowed to what the user may edit by `access.limit_to_editable`, the
same rule `can_edit` applies to one record.
"""
from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import datetime, timedelta
from typing import Any, TypeVar

import sqlalchemy as sa
from sqlalchemy.orm import Session, contains_eager, selectinload

from tracker.access import limit_to_editable
from tracker.records.models import Case, Court, Defendant, Hearing, Placement
from tracker.records.names import reader_reads_original, reading_key
from tracker.records.transit import transits_query

T = TypeVar("T")
DASHBOARD_HEARINGS = 100  # the dashboard lists this many, from a week ago on


def editable_cases(session: Session, user: Any) -> list[Case]:
    """The cases `user` may attach things to, by title as the reader reads it."""
    cases = session.scalars(limit_to_editable(sa.select(Case).order_by(Case.title), Case, user))
    return _as_read(cases, lambda case: (case.title, case.title_original))


def editable_cases_by_id(session: Session, user: Any, ids: list[int]) -> list[Case]:
    """The cases among `ids` that `user` may attach things to, in the order given."""
    allowed = {case.id: case for case in editable_cases(session, user)}
    return [allowed[i] for i in ids if i in allowed]


def editable_defendants(session: Session, user: Any) -> list[Defendant]:
    query = sa.select(Defendant).options(selectinload(Defendant.cases)).order_by(Defendant.name_latin)
    return _as_read(session.scalars(limit_to_editable(query, Defendant, user)),
                    lambda person: (person.name_latin, person.name_original))


def dashboard_hearings(session: Session, user: Any, now: datetime) -> list[Hearing]:
    query = (
        sa.select(Hearing)
        .where(Hearing.starts_at >= now - timedelta(days=7))
        .options(selectinload(Hearing.defendants).selectinload(Defendant.cases))
        .order_by(Hearing.starts_at)
        .limit(DASHBOARD_HEARINGS)
    )
    return list(session.scalars(limit_to_editable(query, Hearing, user)))


def editable_transits(session: Session, user: Any) -> list[Placement]:
    """The placements holding the defendants `user` may edit in transit now, longest first."""
    query = transits_query().options(contains_eager(Placement.defendant))
    return list(session.scalars(limit_to_editable(query, Defendant, user)))


def defendants_by_id(session: Session, ids: set[int]) -> list[Defendant]:
    return list(session.scalars(sa.select(Defendant).where(Defendant.id.in_(ids)))) if ids else []


def courts_by_name(session: Session) -> list[Court]:
    courts = session.scalars(sa.select(Court).order_by(Court.name))
    return _as_read(courts, lambda court: (court.name, court.name_original))


def courts_with_hearing_counts(session: Session) -> list[tuple[Court, int]]:
    rows = session.execute(
        sa.select(Court, sa.func.count(Hearing.id)).outerjoin(Hearing).group_by(Court.id).order_by(Court.name))
    return _as_read((tuple(row) for row in rows), lambda row: (row[0].name, row[0].name_original))


def _as_read(items: Iterable[T], pair: Callable[[T], tuple[str | None, str | None]]) -> list[T]:
    """`items` in the order the reader reads their names (records.names.reading_key): an editor
    reading Russian looks for «Вера» near the top of a choice, not after «Тимур»."""
    reads_original = reader_reads_original()
    return sorted(items, key=lambda item: reading_key(*pair(item), reads_original))
