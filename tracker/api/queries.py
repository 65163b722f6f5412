"""The public records the API lists, a page at a time, with a fixed number of statements.

Only what the public pages show: defendants with `is_public`, hearings that concern
at least one of them (`records.logic.public_hearing_clause`), every case and court.
Related rows come with one select-in per relation; pages are capped under
SQLAlchemy's select-in batch of 500, so a page costs the same statements whatever
the data size. Pages are keyset-paginated: `after` is the sort key of the last item
of the previous page.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Generic, Sequence, TypeVar

import sqlalchemy as sa
from flask_babel import gettext as _
from sqlalchemy.orm import Session, selectinload

from tracker.actions import logic as action_logic
from tracker.actions.models import Action, action_defendants
from tracker.api.params import BadParameter
from tracker.records.queries import next_hearings, public_hearing_clause
from tracker.records.enums import DefendantStatus, HearingStatus
from tracker.records.models import Case, Court, Defendant, Hearing, hearing_defendants

T = TypeVar("T")


@dataclass
class Page(Generic[T]):
    items: list[T]
    # the sort key of the last item when more follow, else None
    next_key: tuple | None


def _page(rows: Sequence[T], limit: int, key) -> Page[T]:  # noqa: ANN001
    """`rows` was fetched with limit + 1: the extra row only says whether another page follows."""
    items = list(rows[:limit])
    more = len(rows) > limit
    return Page(items, key(items[-1]) if more else None)


def _after(columns: tuple, key: tuple | None):  # noqa: ANN202
    """Rows strictly after `key` in the order of `columns` (portable: no row-value comparison).

    The leading `first >= key` is implied by the rest; it is there so that the database
    starts its index scan at the key instead of reading and discarding every earlier row.
    """
    if key is None:
        return sa.true()
    first, *rest = columns
    if not rest:
        return first > key[0]
    return sa.and_(first >= key[0],
                   sa.or_(first > key[0], sa.and_(first == key[0], _after(tuple(rest), key[1:]))))


# --- resolving filters: an unknown or hidden record reads the same ----------------------


def case_id_for(session: Session, slug: str) -> int:
    found = session.scalar(sa.select(Case.id).where(Case.slug == slug))
    if found is None:
        raise BadParameter(_("There is no case '%(slug)s'.", slug=slug))
    return found


def defendant_id_for(session: Session, slug: str) -> int:
    found = session.scalar(sa.select(Defendant.id).where(Defendant.slug == slug, Defendant.is_public.is_(True)))
    if found is None:
        raise BadParameter(_("There is no defendant '%(slug)s'.", slug=slug))
    return found


def court_exists(session: Session, court_id: int) -> int:
    if session.get(Court, court_id) is None:
        raise BadParameter(_("There is no court %(id)d.", id=court_id))
    return court_id


# --- hearings ---------------------------------------------------------------------


def _public_hearings():  # noqa: ANN202
    return (
        sa.select(Hearing)
        .where(public_hearing_clause())
        .options(selectinload(Hearing.defendants), selectinload(Hearing.case))
    )


@dataclass
class HearingFilter:
    starts_from: datetime | None = None  # inclusive
    starts_before: datetime | None = None  # exclusive
    case_id: int | None = None
    defendant_id: int | None = None
    court_id: int | None = None
    status: HearingStatus | None = None


def list_hearings(session: Session, where: HearingFilter, *, limit: int, after: tuple | None = None) -> Page[Hearing]:
    """Public hearings in start order; a case's hearings are those on its page (`Hearing.in_cases`)."""
    query = _public_hearings()
    if where.starts_from is not None:
        query = query.where(Hearing.starts_at >= where.starts_from)
    if where.starts_before is not None:
        query = query.where(Hearing.starts_at < where.starts_before)
    if where.case_id is not None:
        query = query.where(Hearing.in_cases([where.case_id], public_only=True))
    if where.defendant_id is not None:
        query = query.where(
            Hearing.id.in_(
                sa.select(hearing_defendants.c.hearing_id).where(hearing_defendants.c.defendant_id == where.defendant_id)
            )
        )
    if where.court_id is not None:
        query = query.where(Hearing.court_id == where.court_id)
    if where.status is not None:
        query = query.where(Hearing.status == where.status)
    columns = (Hearing.starts_at, Hearing.id)
    rows = session.scalars(query.where(_after(columns, after)).order_by(*columns).limit(limit + 1)).all()
    return _page(rows, limit, lambda h: (h.starts_at, h.id))


def get_hearing(session: Session, hearing_id: int) -> Hearing | None:
    return session.scalar(_public_hearings().where(Hearing.id == hearing_id))


# --- defendants -------------------------------------------------------------------


@dataclass
class DefendantRecord:
    """A public defendant with what is derived for them at `now`."""

    defendant: Defendant
    next_hearing: Hearing | None


def _public_defendants():  # noqa: ANN202
    return (
        sa.select(Defendant)
        .where(Defendant.is_public.is_(True))
        .options(
            selectinload(Defendant.measures),
            selectinload(Defendant.decisions),
            selectinload(Defendant.placements),
            selectinload(Defendant.cases),
        )
    )


def _with_next_hearings(session: Session, defendants: Sequence[Defendant], now: datetime) -> list[DefendantRecord]:
    upcoming = next_hearings(session, [d.id for d in defendants], now)
    return [DefendantRecord(d, upcoming.get(d.id)) for d in defendants]


def list_defendants(
    session: Session,
    *,
    now: datetime,
    limit: int,
    after: tuple | None = None,
    case_id: int | None = None,
    status: DefendantStatus | None = None,
) -> Page[DefendantRecord]:
    """Public defendants by Latin name (then id), as the home page lists them."""
    query = _public_defendants()
    if case_id is not None:
        query = query.where(Defendant.cases.any(Case.id == case_id))
    if status is not None:
        query = query.where(Defendant.status == status)
    columns = (Defendant.name_latin, Defendant.id)
    rows = session.scalars(query.where(_after(columns, after)).order_by(*columns).limit(limit + 1)).all()
    page = _page(rows, limit, lambda d: (d.name_latin, d.id))
    return Page(_with_next_hearings(session, page.items, now), page.next_key)


def get_defendant(session: Session, slug: str, *, now: datetime) -> DefendantRecord | None:
    found = session.scalar(_public_defendants().where(Defendant.slug == slug))
    if found is None:
        return None
    return _with_next_hearings(session, [found], now)[0]


# --- cases and courts -------------------------------------------------------------


def list_cases(session: Session, *, limit: int, after: tuple | None = None) -> Page[Case]:
    rows = session.scalars(
        sa.select(Case)
        .where(_after((Case.id,), after))
        .options(selectinload(Case.defendants))
        .order_by(Case.id)
        .limit(limit + 1)
    ).all()
    return _page(rows, limit, lambda c: (c.id,))


def get_case(session: Session, slug: str) -> Case | None:
    return session.scalar(sa.select(Case).where(Case.slug == slug).options(selectinload(Case.defendants)))


def list_courts(session: Session, *, limit: int, after: tuple | None = None) -> Page[Court]:
    rows = session.scalars(
        sa.select(Court).where(_after((Court.id,), after)).order_by(Court.id).limit(limit + 1)
    ).all()
    return _page(rows, limit, lambda c: (c.id,))


def get_court(session: Session, court_id: int) -> Court | None:
    return session.get(Court, court_id)


# --- solidarity actions --------------------------------------------------------------


def list_actions(session: Session, now: datetime, *, case_id: int | None = None, defendant_id: int | None = None,
                 limit: int, after: tuple | None = None) -> Page[Action]:
    """Public actions that have not ended, in start order (`tracker.actions`: approved or called
    off, and not tied only to hidden defendants); a case's are those on its page."""
    query = (sa.select(Action).where(Action.public_clause(), Action.ends_at >= now)
             .options(selectinload(Action.defendants), selectinload(Action.case)))
    if case_id is not None:
        query = query.where(action_logic.case_clause(case_id))
    if defendant_id is not None:
        query = query.where(Action.id.in_(
            sa.select(action_defendants.c.action_id).where(action_defendants.c.defendant_id == defendant_id)))
    columns = (Action.starts_at, Action.id)
    rows = session.scalars(query.where(_after(columns, after)).order_by(*columns).limit(limit + 1)).all()
    return _page(rows, limit, lambda a: (a.starts_at, a.id))
