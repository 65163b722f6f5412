"""Defendants and what is recorded about them: custody measures and their extensions,
transfers between facilities, court decisions. Each change raises the defendant's version."""
from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime
from typing import Any

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
from tracker.records.enums import MEASURE_STATUS
from tracker.records.models import Case, CustodyMeasure, Decision, Defendant, Placement

DEFENDANT_FIELDS = (
    "slug", "name_original", "name_latin", "bio", "charges", "birth_date", "arrested_on", "status",
    "letters_address", "letters_status", "is_public", "lawyer_contacts", "internal_notes", "external_id",
)
MEASURE_FIELDS = (
    "kind", "starts_on", "until", "next_review_on", "ordered_by", "note", "source_url", "source_checked_on",
)
DECISION_FIELDS = (
    "decided_on", "court", "instance", "outcome", "term_years", "term_months", "term_days", "regime",
    "credited_days", "release_override", "under_appeal", "note", "source_url", "source_checked_on",
)
PLACEMENT_FIELDS = ("facility", "since", "note", "source_url", "source_checked_on")


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
                                      day=starts_on.isoformat()))


def _sync_status_with_measure(defendant: Defendant, changes: dict[str, list[Any]]) -> None:
    """A new measure in force changes the status, unless a sentence already decided it."""
    current = current_measure(defendant.measures)
    if current is None or defendant.decisions:
        return
    status = MEASURE_STATUS[current.kind]
    if defendant.status is not status:
        changes["status"] = [audit.plain(defendant.status), status.value]
        defendant.status = status


def add_measure(
    session: Session, defendant: Defendant, values: dict[str, Any], *, extends: CustodyMeasure | None = None,
    expected_version: int | None, by: User, now: datetime, action: str = "create",
) -> CustodyMeasure:
    check_version(defendant, expected_version, "defendant")
    with guard(session, defendant, "defendant"):
        _check_measure_dates(values)
        measure = CustodyMeasure(created_at=now, extends=extends)
        assign(measure, values, MEASURE_FIELDS)
        defendant.measures.append(measure)
        defendant.updated_at = now
        changes = audit.diff({}, audit.snapshot(measure, MEASURE_FIELDS))
        if extends is not None:
            changes["extends_id"] = [None, extends.id]
        _sync_status_with_measure(defendant, changes)
    audit.record(session, action=action, entity_type="custody_measure", entity_id=measure.id,
                 defendant_id=defendant.id, changes=changes, by=by, now=now)
    return measure


def _correct(
    session: Session, record: CustodyMeasure | Decision | Placement, values: dict[str, Any], *,
    fields: tuple[str, ...], entity_type: str, expected_version: int | None, by: User, now: datetime,
    check: Callable[[dict[str, Any]], None] | None = None,
    then: Callable[[Defendant, dict[str, list[Any]]], None] | None = None,
) -> None:
    """Correct a row already recorded about a defendant: the defendant's version guards it.

    `check` sees the row's values as they would be after the change; `then` may add to the
    changes (a corrected measure can change the defendant's status).
    """
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


def update_measure(
    session: Session, measure: CustodyMeasure, values: dict[str, Any], *, expected_version: int | None,
    by: User, now: datetime,
) -> CustodyMeasure:
    _correct(session, measure, values, fields=MEASURE_FIELDS, entity_type="custody_measure",
             expected_version=expected_version, by=by, now=now, check=_check_measure_dates,
             then=_sync_status_with_measure)
    return measure


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
                day=sentence.decided_on.isoformat(), outcome=sentence.outcome.label))
        raise DomainError("until", _("There is no measure in force to extend. Add a measure first."))
    starts_on = current.until or current.next_review_on or now.date()
    if until <= starts_on:
        raise DomainError("until", _("The extension must end after the current measure ends (%(day)s).",
                                     day=starts_on.isoformat()))
    values = {"kind": current.kind, "starts_on": starts_on, "until": until, "ordered_by": ordered_by,
              "note": note, "source_url": source_url or None}
    return add_measure(session, defendant, values, extends=current, expected_version=expected_version,
                       by=by, now=now, action="extend")


def record_transfer(
    session: Session, defendant: Defendant, values: dict[str, Any], *, letters_address: str | None = None,
    expected_version: int | None, by: User, now: datetime,
) -> Placement:
    """Moved to another facility: a new placement, so the history of transfers is kept.

    Prisoners' addresses change with each transfer; a new address for letters, when
    given, is saved in the same change so supporters never write to the old one.
    """
    check_version(defendant, expected_version, "defendant")
    with guard(session, defendant, "defendant"):
        current = latest(defendant.placements, "since")
        if current is not None and values["since"] < current.since:
            raise DomainError("since", _("A transfer cannot come before the current placement (%(day)s).",
                                         day=current.since.isoformat()))
        placement = Placement()
        assign(placement, values, PLACEMENT_FIELDS)
        defendant.placements.append(placement)
        defendant.updated_at = now
        changes = audit.diff({}, audit.snapshot(placement, PLACEMENT_FIELDS))
        if letters_address and letters_address != defendant.letters_address:
            changes["letters_address"] = [defendant.letters_address, letters_address]
            defendant.letters_address = letters_address
    audit.record(session, action="transfer", entity_type="placement", entity_id=placement.id,
                 defendant_id=defendant.id, changes=changes, by=by, now=now)
    return placement


def update_placement(
    session: Session, placement: Placement, values: dict[str, Any], *, expected_version: int | None,
    by: User, now: datetime,
) -> Placement:
    """Correct a recorded placement (its note or source, say); a move is a new one (`record_transfer`)."""
    _correct(session, placement, values, fields=PLACEMENT_FIELDS, entity_type="placement",
             expected_version=expected_version, by=by, now=now)
    return placement


def _check_decision(values: dict[str, Any]) -> None:
    for name in ("term_years", "term_months", "term_days", "credited_days"):
        if (values.get(name) or 0) < 0:
            raise DomainError(name, _("This cannot be negative."))


def record_decision(
    session: Session, defendant: Defendant, values: dict[str, Any], *, case: Case | None = None,
    expected_version: int | None, by: User, now: datetime,
) -> Decision:
    """A verdict (or appeal decision) and the status it puts the defendant in."""
    check_version(defendant, expected_version, "defendant")
    with guard(session, defendant, "defendant"):
        _check_decision(values)
        decision = Decision(created_at=now, case=case)
        assign(decision, values, DECISION_FIELDS)
        defendant.decisions.append(decision)
        defendant.updated_at = now
        changes = audit.diff({}, audit.snapshot(decision, DECISION_FIELDS))
        if latest_decision(defendant.decisions) is decision:  # it is the sentence in force
            status = status_after_decision(decision)
            if status is not None and status is not defendant.status:
                changes["status"] = [audit.plain(defendant.status), status.value]
                defendant.status = status
    audit.record(session, action="record_decision", entity_type="decision", entity_id=decision.id,
                 defendant_id=defendant.id, changes=changes, by=by, now=now)
    return decision


def update_decision(
    session: Session, decision: Decision, values: dict[str, Any], *, expected_version: int | None,
    by: User, now: datetime,
) -> Decision:
    _correct(session, decision, values, fields=DECISION_FIELDS, entity_type="decision",
             expected_version=expected_version, by=by, now=now, check=_check_decision)
    return decision
