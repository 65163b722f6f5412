"""Defendants and what is recorded about them: custody measures and their extensions,
transfers between facilities, court decisions. Each change raises the defendant's version."""
from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime
from typing import Any, TypeVar

from flask_babel import gettext as _
from sqlalchemy.orm import Session

from tracker.auth.models import User
from tracker.editing import audit
from tracker.editing.services.saving import DomainError, assign, check_slug, check_version, guard
from tracker.records.custody import (
    current_measure,
    latest,
    latest_decision,
    measure_in_force,
    sentence_in_force,
    status_after_decision,
)
from tracker.records.enums import MEASURE_STATUS, LettersStatus
from tracker.records.models import Case, CustodyMeasure, Decision, Defendant, Placement
from tracker.records.transit import transit_of
from tracker.formats import short_day

DEFENDANT_FIELDS = (
    "slug", "name_original", "name_latin", "bio", "charges", "birth_date", "arrested_on", "status",
    "letters_address", "letters_address_original", "letters_status", "is_public", "lawyer_contacts", "internal_notes", "external_id",
)
MEASURE_FIELDS = (
    "kind", "starts_on", "until", "next_review_on", "ordered_by", "note", "source_url", "source_checked_on",
)
DECISION_FIELDS = (
    "decided_on", "court", "instance", "outcome", "term_years", "term_months", "term_days", "regime",
    "credited_days", "release_override", "under_appeal", "note", "source_url", "source_checked_on",
)
PLACEMENT_FIELDS = ("facility", "facility_original", "since", "in_transit", "note", "source_url", "source_checked_on")
# Each kind of row recorded about a defendant: its editable fields, its audit entity type, the
# defendant's list of them.
_KINDS: dict[type, tuple[tuple[str, ...], str, str]] = {
    CustodyMeasure: (MEASURE_FIELDS, "custody_measure", "measures"),
    Decision: (DECISION_FIELDS, "decision", "decisions"),
    Placement: (PLACEMENT_FIELDS, "placement", "placements"),
}


def _defendant_snapshot(defendant: Defendant) -> dict[str, Any]:
    data = audit.snapshot(defendant, DEFENDANT_FIELDS)
    data["cases"] = sorted(c.id for c in defendant.cases)
    return data


def create_defendant(
    session: Session, values: dict[str, Any], *, cases: list[Case], by: User, now: datetime
) -> Defendant:
    check_slug(session, Defendant, values["slug"], None)
    defendant = Defendant(created_at=now, updated_at=now, cases=list(cases))
    assign(defendant, values, DEFENDANT_FIELDS)
    session.add(defendant)
    session.flush()
    audit.record(session, action="create", entity_type="defendant", entity_id=defendant.id,
                 defendant_id=defendant.id, changes=audit.diff({}, _defendant_snapshot(defendant)),
                 by=by, now=now)
    return defendant


def update_defendant(
    session: Session, defendant: Defendant, values: dict[str, Any], *, cases: list[Case] | None = None,
    expected_version: int | None, by: User, now: datetime,
) -> Defendant:
    check_version(defendant, expected_version, "defendant")
    with guard(session, defendant, "defendant"):
        check_slug(session, Defendant, values.get("slug", defendant.slug), defendant.id)
        before = _defendant_snapshot(defendant)
        assign(defendant, values, DEFENDANT_FIELDS)
        if cases is not None:
            defendant.cases = list(cases)
        defendant.updated_at = now  # a change of cases alone must raise the version too
        changes = audit.diff(before, _defendant_snapshot(defendant))
        audit.record(session, action="update", entity_type="defendant", entity_id=defendant.id,
                     defendant_id=defendant.id, changes=changes, by=by, now=now)
    return defendant


def _check_measure_dates(values: dict[str, Any]) -> None:
    starts_on = values.get("starts_on")
    for name in ("until", "next_review_on"):
        end = values.get(name)
        if end is not None and starts_on is not None and end <= starts_on:
            raise DomainError(name, _("This date must come after the start (%(day)s).",
                                      day=short_day(starts_on)))


def _sync_status_with_measure(defendant: Defendant, changes: dict[str, list[Any]]) -> None:
    """A new measure in force changes the status, unless a sentence already decided it."""
    current = current_measure(defendant.measures)
    if current is None or defendant.decisions:
        return
    status = MEASURE_STATUS[current.kind]
    if defendant.status is not status:
        changes["status"] = [audit.plain(defendant.status), status.value]
        defendant.status = status


Row = TypeVar("Row", CustodyMeasure, Decision, Placement)
Check = Callable[[dict[str, Any]], None]
Then = Callable[[Defendant, dict[str, list[Any]]], None]
ThenAdded = Callable[[Defendant, Row, dict[str, list[Any]]], None]


def _add(
    session: Session, defendant: Defendant, new: Callable[[], Row], values: dict[str, Any], *, action: str,
    expected_version: int | None, by: User, now: datetime, check: Check | None = None,
    then: ThenAdded | None = None,
) -> Row:
    """Add a row about a defendant (a measure, a decision, a placement): the defendant's version
    guards it. `check` may refuse the values; `then` may add to the changes (what else changes
    with the row: the defendant's status, say). Audited once the row has its id."""
    check_version(defendant, expected_version, "defendant")
    with guard(session, defendant, "defendant"):
        if check is not None:
            check(values)
        row = new()
        fields, entity_type, collection = _KINDS[type(row)]
        assign(row, values, fields)
        getattr(defendant, collection).append(row)
        defendant.updated_at = now
        changes = audit.diff({}, audit.snapshot(row, fields))
        if then is not None:
            then(defendant, row, changes)
    audit.record(session, action=action, entity_type=entity_type, entity_id=row.id, defendant_id=defendant.id,
                 changes=changes, by=by, now=now)
    return row


def add_measure(
    session: Session, defendant: Defendant, values: dict[str, Any], *, extends: CustodyMeasure | None = None,
    expected_version: int | None, by: User, now: datetime, action: str = "create",
) -> CustodyMeasure:
    def then(defendant: Defendant, _measure: CustodyMeasure, changes: dict[str, list[Any]]) -> None:
        if extends is not None:
            changes["extends_id"] = [None, extends.id]
        _sync_status_with_measure(defendant, changes)

    return _add(session, defendant, lambda: CustodyMeasure(created_at=now, extends=extends), values, action=action,
                expected_version=expected_version, by=by, now=now, check=_check_measure_dates, then=then)


def extend_custody(
    session: Session, defendant: Defendant, until: date, *, by: User, now: datetime,
    ordered_by: str = "", note: str = "", source_url: str | None = None,
    expected_version: int | None = None,
) -> CustodyMeasure:
    """"Detention extended until DATE": the next measure of the chain, of the same kind."""
    current = measure_in_force(defendant)
    if current is None:
        sentence = sentence_in_force(defendant)
        if sentence is not None and current_measure(defendant.measures) is not None:
            raise DomainError("until", _(
                "The court decided on %(day)s (%(outcome)s): the measure before the decision is history and "
                "cannot be extended. Record a transfer or an appeal decision instead.",
                day=short_day(sentence.decided_on), outcome=sentence.outcome.label))
        raise DomainError("until", _("There is no measure in force to extend. Add a measure first."))
    starts_on = current.until or current.next_review_on or now.date()
    if until <= starts_on:
        raise DomainError("until", _("The extension must end after the current measure ends (%(day)s).",
                                     day=short_day(starts_on)))
    values = {"kind": current.kind, "starts_on": starts_on, "until": until, "ordered_by": ordered_by,
              "note": note, "source_url": source_url or None}
    return add_measure(session, defendant, values, extends=current, expected_version=expected_version,
                       by=by, now=now, action="extend")


def _check_placement(values: dict[str, Any]) -> None:
    """A placement names its facility, unless the destination is not yet known (in transit)."""
    if values.get("in_transit"):
        if values.get("facility") or values.get("facility_original"):
            raise DomainError("facility", _("Leave the facility empty while the destination is not known."))
    elif not values.get("facility"):
        raise DomainError("facility", _("Name the facility, or mark the destination as not yet known."))


def record_transfer(
    session: Session, defendant: Defendant, values: dict[str, Any], *, letters_address: str | None = None,
    letters_address_original: str | None = None, letters_status: LettersStatus | None = None, expected_version: int | None, by: User, now: datetime,
) -> Placement:
    """Moved to another facility: a new placement, so the history of transfers is kept.

    Prisoners' addresses change with each transfer; a new address for letters, when
    given, is saved in the same change so supporters never write to the old one.

    A transfer whose destination is not yet known (`in_transit`, no facility) marks letters
    as not delivered: nobody can tell supporters where to write. The first facility after
    it makes them "unknown" until someone learns whether letters reach the new place;
    `letters_status`, when given, is what the editor (or an imported file) says instead.
    """
    values = {**values, "facility": values.get("facility") or "",
              "facility_original": values.get("facility_original") or ""}
    was_in_transit = transit_of(defendant) is not None

    def check(values: dict[str, Any]) -> None:
        current = latest(defendant.placements, "since")
        if current is not None and values["since"] < current.since:
            raise DomainError("since", _("A transfer cannot come before the current placement (%(day)s).",
                                         day=short_day(current.since)))
        _check_placement(values)
        if values.get("in_transit") and was_in_transit:
            raise DomainError("in_transit", _("Already in transit since %(day)s: record the destination once it "
                                              "is known.", day=short_day(current.since)))

    def then(defendant: Defendant, placement: Placement, changes: dict[str, list[Any]]) -> None:
        if letters_address and letters_address != defendant.letters_address:
            changes["letters_address"] = [defendant.letters_address, letters_address]
            defendant.letters_address = letters_address
        if letters_address_original and letters_address_original != defendant.letters_address_original:
            changes["letters_address_original"] = [defendant.letters_address_original, letters_address_original]
            defendant.letters_address_original = letters_address_original
        wanted = letters_status
        if wanted is None and placement.in_transit:
            wanted = LettersStatus.BLOCKED
        elif wanted is None and was_in_transit:
            wanted = LettersStatus.UNKNOWN
        if wanted is not None and wanted is not defendant.letters_status:
            changes["letters_status"] = [audit.plain(defendant.letters_status), wanted.value]
            defendant.letters_status = wanted

    return _add(session, defendant, Placement, values, action="transfer", expected_version=expected_version,
                by=by, now=now, check=check, then=then)


def _check_decision(values: dict[str, Any]) -> None:
    for name in ("term_years", "term_months", "term_days", "credited_days"):
        if (values.get(name) or 0) < 0:
            raise DomainError(name, _("This cannot be negative."))


def record_decision(
    session: Session, defendant: Defendant, values: dict[str, Any], *, case: Case | None = None,
    expected_version: int | None, by: User, now: datetime,
) -> Decision:
    """A verdict (or appeal decision) and the status it puts the defendant in."""
    def then(defendant: Defendant, decision: Decision, changes: dict[str, list[Any]]) -> None:
        if latest_decision(defendant.decisions) is decision:  # it is the sentence in force
            status = status_after_decision(decision)
            if status is not None and status is not defendant.status:
                changes["status"] = [audit.plain(defendant.status), status.value]
                defendant.status = status

    return _add(session, defendant, lambda: Decision(created_at=now, case=case), values, action="record_decision",
                expected_version=expected_version, by=by, now=now, check=_check_decision, then=then)


# What correcting each kind of row checks first, and what else changes with it.
_CORRECTIONS: dict[type, tuple[Check | None, Then | None]] = {
    CustodyMeasure: (_check_measure_dates, _sync_status_with_measure),
    Decision: (_check_decision, None),
    Placement: (_check_placement, None),
}


def correct_record(
    session: Session, record: CustodyMeasure | Decision | Placement, values: dict[str, Any], *,
    expected_version: int | None, by: User, now: datetime,
) -> CustodyMeasure | Decision | Placement:
    """Correct a measure, decision or placement already recorded about a defendant (a typo, a
    source); the defendant's version guards it. A new fact is a new row instead
    (`extend_custody`, `record_transfer`, `record_decision`); a corrected measure may change
    the defendant's status.
    """
    fields, entity_type, _collection = _KINDS[type(record)]
    check, then = _CORRECTIONS[type(record)]
    defendant = record.defendant
    check_version(defendant, expected_version, "defendant")
    with guard(session, defendant, "defendant"):
        if check is not None:
            check({name: values[name] if name in values else getattr(record, name) for name in fields})
        before = audit.snapshot(record, fields)
        assign(record, values, fields)
        defendant.updated_at = now
        changes = audit.diff(before, audit.snapshot(record, fields))
        if then is not None:
            then(defendant, changes)
        audit.record(session, action="update", entity_type=entity_type, entity_id=record.id,
                     defendant_id=defendant.id, changes=changes, by=by, now=now)
    return record
