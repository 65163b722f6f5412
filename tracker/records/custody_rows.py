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

from dataclasses import field, make_dataclass
from functools import lru_cache
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from tracker.records.models import CustodyMeasure, Decision, Defendant, Placement
from tracker.records.terms import DecisionTerms, MeasureTerms


def _row_class(name: str, columns: tuple, base: type = object, doc: str = "", extra: tuple = ()) -> type:
    """A slotted dataclass whose fields are `columns`' names, in their order (the statements
    select them so): the rows' fields are written once, their types in `records.custody`'s
    protocols (`MeasureFacts`, `DecisionFacts`, `PlacementFacts`, `PersonFacts`)."""
    row = make_dataclass(name, [(column.key, Any) for column in columns] + list(extra), bases=(base,), slots=True)
    row.__module__, row.__doc__ = __name__, doc
    return row


_MEASURE = (CustodyMeasure.id, CustodyMeasure.kind, CustodyMeasure.starts_on, CustodyMeasure.until,
            CustodyMeasure.next_review_on, CustodyMeasure.extends_id, CustodyMeasure.source_checked_on)
_DECISION = (Decision.id, Decision.decided_on, Decision.instance, Decision.outcome, Decision.term_years,
             Decision.term_months, Decision.term_days, Decision.regime, Decision.credited_days,
             Decision.release_override, Decision.under_appeal, Decision.source_checked_on)
_PLACEMENT = (Placement.id, Placement.facility, Placement.facility_original, Placement.since, Placement.in_transit,
              Placement.source_checked_on)
PERSON_COLUMNS = (Defendant.id, Defendant.slug, Defendant.name_latin, Defendant.name_original, Defendant.status,
                  Defendant.updated_at)

MeasureRow = _row_class("MeasureRow", _MEASURE, MeasureTerms, "A custody measure (`custody.MeasureFacts`).")
DecisionRow = _row_class("DecisionRow", _DECISION, DecisionTerms, "A court's decision (`custody.DecisionFacts`).")
PlacementRow = _row_class("PlacementRow", _PLACEMENT, doc="Where someone is held (`custody.PlacementFacts`).")
PersonRow = _row_class("PersonRow", PERSON_COLUMNS, doc="A public defendant as a list shows them, with their "
                       "measures, decisions and placements (`custody.PersonFacts`).",
                       extra=tuple((key, list, field(default_factory=list))
                                   for key in ("measures", "decisions", "placements")))

# each kind of row, its columns after the owner's id
_CHILDREN = {
    "measures": (MeasureRow, _MEASURE, CustodyMeasure.defendant_id),
    "decisions": (DecisionRow, _DECISION, Decision.defendant_id),
    "placements": (PlacementRow, _PLACEMENT, Placement.defendant_id),
}


def custody_order(key: str) -> tuple:
    """The order of a defendant's `measures`, `decisions` or `placements`, as their relationship
    on the model declares it: the rules read "the latest" from the list's end, so every reader
    of these lists (the entities, these rows, the defendant page's statements) must keep it,
    and it is written once, on the model."""
    return tuple(Defendant.__mapper__.relationships[key].order_by)


@lru_cache(maxsize=1)
def _child_statements() -> list[tuple[str, type, sa.Select]]:
    """Built once with the ids as an expanding parameter: building and keying a statement costs
    more than SQLite running it."""
    ids = sa.bindparam("ids", expanding=True)
    return [(key, row, sa.select(owner, *columns).where(owner.in_(ids)).order_by(*custody_order(key)))
            for key, (row, columns, owner) in _CHILDREN.items()]


def people_of(session: Session, statement: sa.Select, params: dict) -> list:
    """`statement` (a select of `PERSON_COLUMNS`) run with `params`, each person with their
    measures, decisions and placements: four statements, none when nobody is found."""
    people = [PersonRow(*row) for row in session.connection().execute(statement, params).all()]
    add_custody(session, people)
    return people


def add_custody(session: Session, people: list) -> None:
    """Fill each person's measures, decisions and placements, one statement for each kind."""
    if not people:
        return
    by_id = {person.id: person for person in people}
    params = {"ids": list(by_id)}
    connection = session.connection()
    for key, row_class, statement in _child_statements():
        for owner_id, *values in connection.execute(statement, params).all():
            getattr(by_id[owner_id], key).append(row_class(*values))
