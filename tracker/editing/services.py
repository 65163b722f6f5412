"""Every change editors make, as plain functions on the session.

Each function changes the rows, raises the record's version exactly once (by
touching `updated_at`), and writes exactly one audit entry, all in the caller's
transaction; the caller commits. `expected_version` is the version the editor's
form was loaded at: when someone saved in between, `EditConflict` is raised and
nothing is changed. The ORM's version column guards the moment between that
check and the commit (a concurrent commit makes the UPDATE match no row).
"""
from __future__ import annotations

from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date, datetime, timezone
from functools import lru_cache
from typing import Any, Iterator
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

import sqlalchemy as sa
from flask_babel import gettext as _
from sqlalchemy.orm import Session
from sqlalchemy.orm.attributes import flag_modified
from sqlalchemy.orm.exc import StaleDataError

from tracker.auth.models import User
from tracker.editing import audit
from tracker.records.logic import current_measure, measure_in_force, sentence_in_force, status_after_decision
from tracker.records.models import (
    MEASURE_STATUS,
    Case,
    Court,
    CustodyMeasure,
    Decision,
    Defendant,
    Hearing,
    HearingStatus,
    MeasureKind,
    Placement,
)


class DomainError(ValueError):
    """A change the rules forbid; `field` names the form field the message belongs next to."""

    def __init__(self, field: str | None, message: str) -> None:
        super().__init__(message)
        self.field = field
        self.message = message


@dataclass
class EditConflict(Exception):
    """Someone saved the record after the editor loaded it."""

    entity_type: str
    entity_id: int
    loaded_version: int
    defendant_id: int | None = None


CASE_FIELDS = ("slug", "title", "case_number", "description", "charges")
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
COURT_FIELDS = ("name", "address", "timezone")
PLACEMENT_FIELDS = ("facility", "since", "note", "source_url", "source_checked_on")
HEARING_FIELDS = (
    "case_id", "court_id", "starts_at", "duration_minutes", "courtroom", "judge", "is_open",
    "video_link_note", "kind", "status", "outcome_note", "source_url", "source_checked_on", "external_id",
)


def _check_version(obj: Case | Defendant | Hearing, expected: int | None, entity_type: str) -> None:
    if expected is not None and obj.version != expected:
        raise EditConflict(entity_type, obj.id, expected, obj.id if entity_type == "defendant" else None)


@contextmanager
def _guard(session: Session, obj: Case | Defendant | Hearing, entity_type: str) -> Iterator[None]:
    """Run a change and flush it, turning a lost race on the version column into an EditConflict.

    Any flush inside (autoflush on a lazy load, say) may be the one that loses; the
    transaction is rolled back then, so nothing of this change is kept.
    """
    loaded, obj_id = obj.version, obj.id
    try:
        with session.no_autoflush:  # one UPDATE at the end: the version goes up exactly once
            yield
            _touch(obj)
        session.flush()
    except StaleDataError:
        session.rollback()
        raise EditConflict(
            entity_type, obj_id, loaded, obj_id if entity_type == "defendant" else None
        ) from None


def _touch(obj: Case | Defendant | Hearing) -> None:
    """Make the ORM update the row (and so raise its version) even when no column of it changed.

    Flagged rather than compared: `updated_at = now` is no change when two edits share a `now`.
    """
    flag_modified(obj, "updated_at")


def _set(obj: object, values: dict[str, Any], allowed: tuple[str, ...]) -> None:
    for name, value in values.items():
        if name not in allowed:
            raise TypeError(f"{type(obj).__name__} has no editable field {name!r}")
        setattr(obj, name, value)


def _check_slug(session: Session, model: type, slug: str, own_id: int | None) -> None:
    clash = session.scalar(sa.select(model.id).where(model.slug == slug, model.id != (own_id or -1)))
    if clash is not None:
        raise DomainError("slug", _("This address is already used by another record."))


# --- cases ----------------------------------------------------------------------------


def create_case(session: Session, values: dict[str, Any], *, by: User, now: datetime) -> Case:
    _check_slug(session, Case, values["slug"], None)
    case = Case(created_at=now, updated_at=now)
    _set(case, values, CASE_FIELDS)
    session.add(case)
    session.flush()
    audit.record(session, action="create", entity_type="case", entity_id=case.id,
                 changes=audit.diff({}, audit.snapshot(case, CASE_FIELDS)), by=by, now=now)
    return case


def update_case(
    session: Session, case: Case, values: dict[str, Any], *, expected_version: int | None, by: User,
    now: datetime,
) -> Case:
    _check_version(case, expected_version, "case")
    with _guard(session, case, "case"):
        _check_slug(session, Case, values.get("slug", case.slug), case.id)
        before = audit.snapshot(case, CASE_FIELDS)
        _set(case, values, CASE_FIELDS)
        case.updated_at = now
        changes = audit.diff(before, audit.snapshot(case, CASE_FIELDS))
        audit.record(session, action="update", entity_type="case", entity_id=case.id, changes=changes,
                     by=by, now=now)
    return case


# --- defendants --------------------------------------------------------------------------


def _defendant_snapshot(defendant: Defendant) -> dict[str, Any]:
    data = audit.snapshot(defendant, DEFENDANT_FIELDS)
    data["cases"] = sorted(c.id for c in defendant.cases)
    return data


def create_defendant(
    session: Session, values: dict[str, Any], *, cases: list[Case], by: User, now: datetime
) -> Defendant:
    _check_slug(session, Defendant, values["slug"], None)
    defendant = Defendant(created_at=now, updated_at=now, cases=list(cases))
    _set(defendant, values, DEFENDANT_FIELDS)
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
    _check_version(defendant, expected_version, "defendant")
    with _guard(session, defendant, "defendant"):
        _check_slug(session, Defendant, values.get("slug", defendant.slug), defendant.id)
        before = _defendant_snapshot(defendant)
        _set(defendant, values, DEFENDANT_FIELDS)
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


def _latest(rows: list, day: str):  # noqa: ANN202
    """The latest row by date; a row not yet flushed (no id) counts as recorded last."""
    return max(rows, key=lambda r: (getattr(r, day), r.id or float("inf")), default=None)


def _sync_status_with_measure(defendant: Defendant, changes: dict[str, list[Any]]) -> None:
    """A new measure in force changes the status, unless a sentence already decided it."""
    current = _latest(list(defendant.measures), "starts_on")
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
    _check_version(defendant, expected_version, "defendant")
    with _guard(session, defendant, "defendant"):
        _check_measure_dates(values)
        measure = CustodyMeasure(created_at=now, extends=extends)
        _set(measure, values, MEASURE_FIELDS)
        defendant.measures.append(measure)
        defendant.updated_at = now
        changes = audit.diff({}, audit.snapshot(measure, MEASURE_FIELDS))
        if extends is not None:
            changes["extends_id"] = [None, extends.id]
        _sync_status_with_measure(defendant, changes)
    audit.record(session, action=action, entity_type="custody_measure", entity_id=measure.id,
                 defendant_id=defendant.id, changes=changes, by=by, now=now)
    return measure


def update_measure(
    session: Session, measure: CustodyMeasure, values: dict[str, Any], *, expected_version: int | None,
    by: User, now: datetime,
) -> CustodyMeasure:
    defendant = measure.defendant
    _check_version(defendant, expected_version, "defendant")
    with _guard(session, defendant, "defendant"):
        _check_measure_dates({k: getattr(measure, k) if k not in values else values[k] for k in MEASURE_FIELDS})
        before = audit.snapshot(measure, MEASURE_FIELDS)
        _set(measure, values, MEASURE_FIELDS)
        defendant.updated_at = now
        changes = audit.diff(before, audit.snapshot(measure, MEASURE_FIELDS))
        _sync_status_with_measure(defendant, changes)
        audit.record(session, action="update", entity_type="custody_measure", entity_id=measure.id,
                     defendant_id=defendant.id, changes=changes, by=by, now=now)
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
    _check_version(defendant, expected_version, "defendant")
    with _guard(session, defendant, "defendant"):
        current = _latest(list(defendant.placements), "since")
        if current is not None and values["since"] < current.since:
            raise DomainError("since", _("A transfer cannot come before the current placement (%(day)s).",
                                         day=current.since.isoformat()))
        placement = Placement()
        _set(placement, values, PLACEMENT_FIELDS)
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
    defendant = placement.defendant
    _check_version(defendant, expected_version, "defendant")
    with _guard(session, defendant, "defendant"):
        before = audit.snapshot(placement, PLACEMENT_FIELDS)
        _set(placement, values, PLACEMENT_FIELDS)
        defendant.updated_at = now
        changes = audit.diff(before, audit.snapshot(placement, PLACEMENT_FIELDS))
        audit.record(session, action="update", entity_type="placement", entity_id=placement.id,
                     defendant_id=defendant.id, changes=changes, by=by, now=now)
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
    _check_version(defendant, expected_version, "defendant")
    with _guard(session, defendant, "defendant"):
        _check_decision(values)
        decision = Decision(created_at=now, case=case)
        _set(decision, values, DECISION_FIELDS)
        defendant.decisions.append(decision)
        defendant.updated_at = now
        changes = audit.diff({}, audit.snapshot(decision, DECISION_FIELDS))
        if _latest(list(defendant.decisions), "decided_on") is decision:  # it is the sentence in force
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
    defendant = decision.defendant
    _check_version(defendant, expected_version, "defendant")
    with _guard(session, defendant, "defendant"):
        _check_decision(values)
        before = audit.snapshot(decision, DECISION_FIELDS)
        _set(decision, values, DECISION_FIELDS)
        defendant.updated_at = now
        changes = audit.diff(before, audit.snapshot(decision, DECISION_FIELDS))
        audit.record(session, action="update", entity_type="decision", entity_id=decision.id,
                     defendant_id=defendant.id, changes=changes, by=by, now=now)
    return decision


# --- hearings ----------------------------------------------------------------------------


def court_time(local: datetime, court: Court) -> datetime:
    """A wall-clock time typed for a court, as an aware UTC datetime."""
    return local.replace(tzinfo=court.tz).astimezone(timezone.utc)


@lru_cache(maxsize=1)
def _known_zones() -> frozenset[str]:
    return frozenset(available_timezones())


def _check_timezone(tz: str, field_name: str) -> None:
    """An IANA zone name, as the calendars' TZID needs it ("Europe/Moscow", not "MSK" or "+03:00")."""
    if tz not in _known_zones():
        raise DomainError(field_name, _("Unknown time zone '%(tz)s'. Use a name such as Europe/Moscow or "
                                        "Asia/Yekaterinburg.", tz=tz))


def get_or_create_court(
    session: Session, name: str, *, address: str = "", tz: str = "Europe/Moscow", by: User, now: datetime
) -> Court:
    name = name.strip()
    court = session.scalar(sa.select(Court).where(Court.name == name))
    if court is not None:
        return court
    _check_timezone(tz, "new_court_timezone")
    court = Court(name=name, address=address.strip(), timezone=tz)
    session.add(court)
    session.flush()
    audit.record(session, action="create", entity_type="court", entity_id=court.id,
                 changes=audit.diff({}, audit.snapshot(court, COURT_FIELDS)), by=by, now=now)
    return court


def update_court(session: Session, court: Court, values: dict[str, Any], *, by: User, now: datetime) -> Court:
    """Correct a court's name, address or time zone: one entry for the court, one for each of its hearings.

    Its hearings change with it, like any edit of theirs: each one's version goes up
    (calendars see a new SEQUENCE, reminders a new version) with an audit entry.
    A new zone corrects a wrong one, so each hearing keeps the local time editors
    typed and moves in absolute time; volunteers are told of the upcoming ones,
    as of any move.
    """
    clash = session.scalar(sa.select(Court.id).where(Court.name == values["name"], Court.id != court.id))
    if clash is not None:
        raise DomainError("name", _("Another court already has this name."))
    _check_timezone(values["timezone"], "timezone")
    try:
        old_zone: ZoneInfo | None = court.tz
    except (ZoneInfoNotFoundError, ValueError):  # saved before zones were checked: the times stay as they are
        old_zone = None
    before = audit.snapshot(court, COURT_FIELDS)
    _set(court, values, COURT_FIELDS)
    changes = audit.diff(before, audit.snapshot(court, COURT_FIELDS))
    audit.record(session, action="update", entity_type="court", entity_id=court.id, changes=changes, by=by, now=now)
    if not changes:
        return court
    note = _("The court was changed: %(what)s.", what=", ".join(sorted(changes)))
    hearings = list(session.scalars(sa.select(Hearing).where(Hearing.court_id == court.id).order_by(Hearing.id)))
    try:
        for hearing in hearings:
            with _guard(session, hearing, "hearing"):
                hearing_before = audit.snapshot(hearing, ("starts_at",))
                if "timezone" in changes and old_zone is not None:
                    typed = hearing.starts_at.astimezone(old_zone).replace(tzinfo=None)
                    hearing.starts_at = court_time(typed, court)
                hearing.updated_at = now
                audit.record(session, action="court_change", entity_type="hearing", entity_id=hearing.id,
                             changes=audit.diff(hearing_before, audit.snapshot(hearing, ("starts_at",))),
                             note=note, by=by, now=now)
    except EditConflict:
        raise DomainError(None, _("A hearing at this court was saved by someone else meanwhile. "
                                  "Nothing was changed: save again.")) from None
    return court


def _hearing_snapshot(hearing: Hearing) -> dict[str, Any]:
    data = audit.snapshot(hearing, HEARING_FIELDS)
    data["defendants"] = sorted(d.id for d in hearing.defendants)
    return data


@dataclass
class HearingData:
    court: Court
    starts_at: datetime
    defendants: list[Defendant]
    case: Case | None = None
    values: dict[str, Any] = field(default_factory=dict)  # the other HEARING_FIELDS


def _apply_hearing(hearing: Hearing, data: HearingData) -> None:
    if not data.defendants:
        raise DomainError("defendants", _("A hearing needs at least one defendant."))
    if data.starts_at.tzinfo is None:
        raise TypeError("starts_at must be aware")
    hearing.court = data.court
    hearing.court_id = data.court.id
    hearing.case = data.case
    hearing.case_id = data.case.id if data.case is not None else None
    hearing.starts_at = data.starts_at
    hearing.defendants = list(data.defendants)
    _set(hearing, data.values, HEARING_FIELDS)


def create_hearing(session: Session, data: HearingData, *, by: User, now: datetime) -> Hearing:
    hearing = Hearing(created_at=now, updated_at=now)
    _apply_hearing(hearing, data)
    session.add(hearing)
    session.flush()
    audit.record(session, action="create", entity_type="hearing", entity_id=hearing.id,
                 changes=audit.diff({}, _hearing_snapshot(hearing)), by=by, now=now)
    return hearing


def update_hearing(
    session: Session, hearing: Hearing, data: HearingData, *, expected_version: int | None, by: User,
    now: datetime,
) -> Hearing:
    _check_version(hearing, expected_version, "hearing")
    with _guard(session, hearing, "hearing"):
        before = _hearing_snapshot(hearing)
        _apply_hearing(hearing, data)
        hearing.updated_at = now  # a change of defendants alone must raise the version too
        changes = audit.diff(before, _hearing_snapshot(hearing))
        audit.record(session, action="update", entity_type="hearing", entity_id=hearing.id,
                     changes=changes, by=by, now=now)
    return hearing


def _change_hearing(
    session: Session, hearing: Hearing, action: str, values: dict[str, Any], *, note: str,
    expected_version: int | None, by: User, now: datetime,
) -> Hearing:
    _check_version(hearing, expected_version, "hearing")
    with _guard(session, hearing, "hearing"):
        before = audit.snapshot(hearing, HEARING_FIELDS)
        _set(hearing, values, HEARING_FIELDS)
        hearing.updated_at = now
        changes = audit.diff(before, audit.snapshot(hearing, HEARING_FIELDS))
        audit.record(session, action=action, entity_type="hearing", entity_id=hearing.id, changes=changes,
                     note=note, by=by, now=now)
    return hearing


def _require_open(hearing: Hearing, field_name: str) -> None:
    if hearing.status in (HearingStatus.HELD, HearingStatus.CANCELLED):
        raise DomainError(field_name, _("This hearing is already %(status)s.", status=hearing.status.label))


def postpone_hearing(
    session: Session, hearing: Hearing, to: datetime | None, *, by: User, now: datetime, reason: str = "",
    expected_version: int | None = None,
) -> Hearing:
    """Move a hearing to `to`; None means postponed with no new date fixed yet.

    The old date stays in the audit entry, so calendars and reminders can say "moved from".
    """
    _require_open(hearing, "to")
    if to is None:
        if hearing.status is HearingStatus.POSTPONED:
            raise DomainError("to", _("This hearing is already postponed without a date."))
        values: dict[str, Any] = {"status": HearingStatus.POSTPONED}
    else:
        if to.tzinfo is None:
            raise TypeError("`to` must be aware")
        if to <= now:
            raise DomainError("to", _("The new date is in the past."))
        if to == hearing.starts_at and hearing.status is HearingStatus.SCHEDULED:
            raise DomainError("to", _("The hearing is already at this time."))
        values = {"starts_at": to, "status": HearingStatus.SCHEDULED}
    return _change_hearing(session, hearing, "postpone", values, note=reason,
                           expected_version=expected_version, by=by, now=now)


def cancel_hearing(
    session: Session, hearing: Hearing, reason: str, *, by: User, now: datetime,
    expected_version: int | None = None,
) -> Hearing:
    _require_open(hearing, "reason")
    if not reason.strip():
        raise DomainError("reason", _("Say why the hearing was cancelled."))
    return _change_hearing(session, hearing, "cancel",
                           {"status": HearingStatus.CANCELLED, "outcome_note": reason.strip()},
                           note=reason.strip(), expected_version=expected_version, by=by, now=now)


def mark_held(
    session: Session, hearing: Hearing, outcome_note: str, *, by: User, now: datetime,
    expected_version: int | None = None,
) -> Hearing:
    _require_open(hearing, "outcome_note")
    if hearing.starts_at > now:
        raise DomainError("outcome_note", _("This hearing has not started yet."))
    return _change_hearing(session, hearing, "mark_held",
                           {"status": HearingStatus.HELD, "outcome_note": outcome_note.strip()},
                           note="", expected_version=expected_version, by=by, now=now)


# --- conflicts -----------------------------------------------------------------------------


@dataclass
class ConflictReport:
    current_version: int
    entries: list  # AuditEntry, newest first


def explain_conflict(session: Session, conflict: EditConflict) -> ConflictReport:
    """What was saved between the editor loading the form and pressing save."""
    model = {"case": Case, "defendant": Defendant, "hearing": Hearing}[conflict.entity_type]
    current = session.scalar(sa.select(model.version).where(model.id == conflict.entity_id)) or 0
    entries = audit.changes_since(
        session, conflict.entity_type, conflict.entity_id, current - conflict.loaded_version,
        defendant_id=conflict.defendant_id,
    )
    return ConflictReport(current_version=current, entries=entries)
