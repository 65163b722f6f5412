"""Hearings: adding and editing one, and what happens to it (postponed, held, cancelled).
Each change raises the hearing's version, which calendars and reminders follow."""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from flask_babel import gettext as _
from sqlalchemy.orm import Session

from tracker.auth.models import User
from tracker.editing import audit
from tracker.editing.services.saving import DomainError, assign, check_version, guard
from tracker.records.enums import HearingStatus
from tracker.records.models import Case, Court, Defendant, Hearing

HEARING_FIELDS = (
    "case_id", "court_id", "starts_at", "duration_minutes", "courtroom", "seats", "judge", "is_open",
    "video_link_note", "kind", "status", "outcome_note", "source_url", "source_checked_on", "external_id",
)


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
    assign(hearing, data.values, HEARING_FIELDS)


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
    check_version(hearing, expected_version, "hearing")
    with guard(session, hearing, "hearing"):
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
    check_version(hearing, expected_version, "hearing")
    with guard(session, hearing, "hearing"):
        before = audit.snapshot(hearing, HEARING_FIELDS)
        assign(hearing, values, HEARING_FIELDS)
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
