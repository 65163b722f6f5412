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

A defendant's own page reads theirs the same way, with the few columns more its timeline and
sentence show (`person_detail`): the same three statements, ~0.45 ms of CPU on SQLite where the
entities cost ~0.75 ms.
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

# A defendant's own page shows more of each row (its timeline and sentence): the lists' columns,
# then these. The same rules read both kinds of row.
_MEASURE_DETAIL = _MEASURE + (CustodyMeasure.ordered_by, CustodyMeasure.note, CustodyMeasure.source_url)
_DECISION_DETAIL = _DECISION + (Decision.court, Decision.note, Decision.source_url)
_PLACEMENT_DETAIL = _PLACEMENT + (Placement.note, Placement.source_url)
MeasureDetail = _row_class("MeasureDetail", _MEASURE_DETAIL, MeasureTerms, "A measure as a defendant's page shows it.")
DecisionDetail = _row_class("DecisionDetail", _DECISION_DETAIL, DecisionTerms,
                            "A decision as a defendant's page shows it.")
PlacementDetail = _row_class("PlacementDetail", _PLACEMENT_DETAIL, doc="A placement as a defendant's page shows it.")
PersonDetail = _row_class("PersonDetail", PERSON_COLUMNS + (Defendant.arrested_on,),
                          doc="A defendant's custody facts as their own page reads them (`custody.PersonFacts`, "
                          "and the timeline's arrest).",
                          extra=tuple((key, list, field(default_factory=list))
                                      for key in ("measures", "decisions", "placements")))

# each kind of row (the lists', then a defendant page's), its columns after the owner's id
_CHILDREN = {
    False: {
        "measures": (MeasureRow, _MEASURE, CustodyMeasure.defendant_id),
        "decisions": (DecisionRow, _DECISION, Decision.defendant_id),
        "placements": (PlacementRow, _PLACEMENT, Placement.defendant_id),
    },
    True: {
        "measures": (MeasureDetail, _MEASURE_DETAIL, CustodyMeasure.defendant_id),
        "decisions": (DecisionDetail, _DECISION_DETAIL, Decision.defendant_id),
        "placements": (PlacementDetail, _PLACEMENT_DETAIL, Placement.defendant_id),
    },
}


def custody_order(key: str) -> tuple:
    """The order of a defendant's `measures`, `decisions` or `placements`, as their relationship
    on the model declares it: the rules read "the latest" from the list's end, so every reader
    of these lists (the entities, these rows, the defendant page's statements) must keep it,
    and it is written once, on the model."""
    return tuple(Defendant.__mapper__.relationships[key].order_by)


@lru_cache(maxsize=2)
def _child_statements(detail: bool) -> list[tuple[str, type, sa.Select]]:
    """Built once with the ids as an expanding parameter: building and keying a statement costs
    more than SQLite running it."""
    ids = sa.bindparam("ids", expanding=True)
    return [(key, row, sa.select(owner, *columns).where(owner.in_(ids)).order_by(*custody_order(key)))
            for key, (row, columns, owner) in _CHILDREN[detail].items()]


def people_of(session: Session, statement: sa.Select, params: dict) -> list:
    """`statement` (a select of `PERSON_COLUMNS`) run with `params`, each person with their
    measures, decisions and placements: four statements, none when nobody is found."""
    people = [PersonRow(*row) for row in session.connection().execute(statement, params).all()]
    add_custody(session, people)
    return people


def person_detail(session: Session, person: Defendant) -> PersonDetail:
    """A defendant's custody facts for their own page, as rows with what the page shows of each
    (three statements): the status line, the sentence, the transit and the timeline read them
    through the rules the lists use, not the entity's relationships."""
    row = PersonDetail(*(getattr(person, column.key) for column in PERSON_COLUMNS), person.arrested_on)
    add_custody(session, [row], detail=True)
    return row


def add_custody(session: Session, people: list, detail: bool = False) -> None:
    """Fill each person's measures, decisions and placements, one statement for each kind
    (`detail`: with the columns a defendant's page shows)."""
    if not people:
        return
    by_id = {person.id: person for person in people}
    params = {"ids": list(by_id)}
    connection = session.connection()
    for key, row_class, statement in _child_statements(detail):
        for owner_id, *values in connection.execute(statement, params).all():
            getattr(by_id[owner_id], key).append(row_class(*values))
