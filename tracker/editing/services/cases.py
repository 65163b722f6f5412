"""Creating and editing a case."""
from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from tracker.auth.models import User
from tracker.editing import audit
from tracker.editing.services.saving import assign, check_slug, check_version, guard
from tracker.records.models import Case

CASE_FIELDS = ("slug", "title", "title_original", "case_number", "description", "charges")


def create_case(session: Session, values: dict[str, Any], *, by: User, now: datetime) -> Case:
    check_slug(session, Case, values["slug"], None)
    case = Case(created_at=now, updated_at=now)
    assign(case, values, CASE_FIELDS)
    session.add(case)
    session.flush()
    audit.record(session, action="create", entity_type="case", entity_id=case.id,
                 changes=audit.diff({}, audit.snapshot(case, CASE_FIELDS)), by=by, now=now)
    return case


def update_case(
    session: Session, case: Case, values: dict[str, Any], *, expected_version: int | None, by: User,
    now: datetime,
) -> Case:
    check_version(case, expected_version, "case")
    with guard(session, case, "case"):
        check_slug(session, Case, values.get("slug", case.slug), case.id)
        before = audit.snapshot(case, CASE_FIELDS)
        assign(case, values, CASE_FIELDS)
        case.updated_at = now
        changes = audit.diff(before, audit.snapshot(case, CASE_FIELDS))
        audit.record(session, action="update", entity_type="case", entity_id=case.id, changes=changes,
                     by=by, now=now)
    return case
