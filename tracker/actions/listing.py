"""The /actions page's data: up to 500 public actions as plain rows, not ORM objects.

The page shows each action's own columns, its case's slug and title, and the names of its
public defendants. Loading them as mapped objects (identity map, instrumented attributes,
the defendants' collections) cost ~20 ms at 500 actions, six times the two statements
themselves; these read the same two statements as tuples into small records whose
attributes are named as the model's, so `rendering.actions_html` writes either.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from functools import lru_cache

import sqlalchemy as sa
from sqlalchemy.orm import Session

from tracker.actions.models import Action, ActionStatus, ActionTimes, action_defendants
from tracker.records.models import Case, Defendant

SELECT_IN_BATCH = 500  # ids in one IN list: the second statement stays one whatever the page


@dataclass(slots=True)
class ListedCase:
    slug: str
    title: str


@dataclass(slots=True)
class ListedPerson:
    slug: str
    name_latin: str


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
    listed_statement, people_statement = _statements()
    connection = session.connection()  # Core: tuples straight from the cursor, no ORM loading context
    rows = connection.execute(listed_statement, {"now": now, "limit": min(limit, SELECT_IN_BATCH)}).all()
    listed = [ListedAction(*row[:11], ListedCase(row[11], row[12]) if row[11] is not None else None)
              for row in rows]
    if not listed:
        return listed
    by_id = {action.id: action for action in listed}
    # whether each is public is read, not filtered on: SQLite would otherwise walk the
    # is_public index (every public defendant) and probe the links for each of them
    for action_id, slug, name, public in connection.execute(people_statement, {"ids": list(by_id)}):
        if public:
            by_id[action_id].people.append(ListedPerson(slug, name))
    return listed


@lru_cache(maxsize=1)
def _statements() -> tuple[sa.Select, sa.Select]:
    """Both statements, built once (building and keying them anew cost ~1 ms a request)."""
    listed = (sa.select(Action.id, Action.title, Action.description, Action.organiser, Action.city,
                        Action.country, Action.address, Action.timezone, Action.starts_at, Action.ends_at,
                        Action.status, Case.slug, Case.title)
              .outerjoin(Case, Case.id == Action.case_id)
              .where(Action.public_clause(), Action.ends_at >= sa.bindparam("now", type_=Action.ends_at.type))
              .order_by(Action.starts_at, Action.id)
              .limit(sa.bindparam("limit", type_=sa.Integer)))
    people = (sa.select(action_defendants.c.action_id, Defendant.slug, Defendant.name_latin, Defendant.is_public)
              .join(Defendant, Defendant.id == action_defendants.c.defendant_id)
              .where(action_defendants.c.action_id.in_(sa.bindparam("ids", expanding=True)))
              .order_by(Defendant.name_latin))
    return listed, people
