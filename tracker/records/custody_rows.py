"""Defendants as the public lists show them: light rows read as columns, with the measures,
decisions and placements their status line is derived from.

The home page shows 50 defendants and a case page all of its own; as ORM entities (each with
three relationships loaded) they cost more than half of the home page's time, for a name, a
link and a status line. Here they are slotted dataclasses read through Core (plain tuples, no
ORM loading context), in the same number of statements as the entities' selectin loads: the
defendants, then their measures, decisions and placements, one statement each. They carry the
models' column names and derived values (`terms.MeasureTerms`, `terms.DecisionTerms`), so
`records.custody` and `records.staleness` apply the very rules the editing pages, the
scheduler and the API apply to the entities.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from functools import lru_cache

import sqlalchemy as sa
from sqlalchemy.orm import Session

from tracker.records.enums import DefendantStatus, Instance, MeasureKind, Outcome
from tracker.records.models import CustodyMeasure, Decision, Defendant, Placement
from tracker.records.terms import DecisionTerms, MeasureTerms


@dataclass(slots=True)
class MeasureRow(MeasureTerms):
    id: int
    kind: MeasureKind
    starts_on: date
    until: date | None
    next_review_on: date | None
    extends_id: int | None
    source_checked_on: date | None


@dataclass(slots=True)
class DecisionRow(DecisionTerms):
    id: int
    decided_on: date
    instance: Instance
    outcome: Outcome
    term_years: int
    term_months: int
    term_days: int
    regime: str
    credited_days: int
    release_override: date | None
    under_appeal: bool
    source_checked_on: date | None


@dataclass(slots=True)
class PlacementRow:
    id: int
    facility: str
    facility_original: str
    since: date
    in_transit: bool
    source_checked_on: date | None


@dataclass(slots=True)
class PersonRow:
    """A public defendant as a list shows them (`custody.PersonFacts`)."""

    id: int
    slug: str
    name_latin: str
    name_original: str
    status: DefendantStatus
    updated_at: datetime | None
    measures: list[MeasureRow] = field(default_factory=list)
    decisions: list[DecisionRow] = field(default_factory=list)
    placements: list[PlacementRow] = field(default_factory=list)


PERSON_COLUMNS = (Defendant.id, Defendant.slug, Defendant.name_latin, Defendant.name_original, Defendant.status,
                  Defendant.updated_at)
# (row class, the columns after the owner's id, in the order of the model's relationship)
_CHILDREN = {
    "measures": (MeasureRow, (CustodyMeasure.id, CustodyMeasure.kind, CustodyMeasure.starts_on, CustodyMeasure.until,
                              CustodyMeasure.next_review_on, CustodyMeasure.extends_id,
                              CustodyMeasure.source_checked_on),
                 CustodyMeasure.defendant_id, (CustodyMeasure.starts_on, CustodyMeasure.id)),
    "decisions": (DecisionRow, (Decision.id, Decision.decided_on, Decision.instance, Decision.outcome,
                                Decision.term_years, Decision.term_months, Decision.term_days, Decision.regime,
                                Decision.credited_days, Decision.release_override, Decision.under_appeal,
                                Decision.source_checked_on),
                  Decision.defendant_id, (Decision.decided_on, Decision.id)),
    "placements": (PlacementRow, (Placement.id, Placement.facility, Placement.facility_original, Placement.since,
                                  Placement.in_transit, Placement.source_checked_on),
                   Placement.defendant_id, (Placement.since, Placement.id)),
}


@lru_cache(maxsize=1)
def _child_statements() -> list[tuple[str, type, sa.Select]]:
    """Built once with the ids as an expanding parameter: building and keying a statement costs
    more than SQLite running it."""
    ids = sa.bindparam("ids", expanding=True)
    return [(key, row, sa.select(owner, *columns).where(owner.in_(ids)).order_by(*order))
            for key, (row, columns, owner, order) in _CHILDREN.items()]


def people_of(session: Session, statement: sa.Select, params: dict) -> list[PersonRow]:
    """`statement` (a select of `PERSON_COLUMNS`) run with `params`, each person with their
    measures, decisions and placements: four statements, none when nobody is found."""
    people = [PersonRow(*row) for row in session.connection().execute(statement, params).all()]
    add_custody(session, people)
    return people


def add_custody(session: Session, people: list[PersonRow]) -> None:
    """Fill each person's measures, decisions and placements, one statement for each kind."""
    if not people:
        return
    by_id = {person.id: person for person in people}
    params = {"ids": list(by_id)}
    connection = session.connection()
    for key, row_class, statement in _child_statements():
        for owner_id, *values in connection.execute(statement, params).all():
            getattr(by_id[owner_id], key).append(row_class(*values))
