"""Every change editors make, as plain functions on the session (also what an import calls).

Each function changes the rows, raises the record's version exactly once (by
touching `updated_at`), and writes exactly one audit entry, all in the caller's
transaction; the caller commits. `expected_version` is the version the editor's
form was loaded at: when someone saved in between, `EditConflict` is raised and
nothing is changed. The ORM's version column guards the moment between that
check and the commit (a concurrent commit makes the UPDATE match no row).

By subject: cases.py, defendants.py (and what is recorded about them), courts.py,
hearings.py; how each change is saved is saving.py. Callers use this package's names.
"""
from __future__ import annotations

from tracker.editing.services.cases import CASE_FIELDS, create_case, update_case
from tracker.editing.services.courts import COURT_FIELDS, court_time, get_or_create_court, update_court
from tracker.editing.services.defendants import (
    DECISION_FIELDS,
    DEFENDANT_FIELDS,
    MEASURE_FIELDS,
    PLACEMENT_FIELDS,
    add_measure,
    correct_record,
    create_defendant,
    extend_custody,
    record_decision,
    record_transfer,
    update_defendant,
)
from tracker.editing.services.hearings import (
    HEARING_FIELDS,
    HearingData,
    cancel_hearing,
    create_hearing,
    mark_held,
    postpone_hearing,
    update_hearing,
)
from tracker.editing.services.saving import ConflictReport, DomainError, EditConflict, explain_conflict

__all__ = [
    "CASE_FIELDS", "COURT_FIELDS", "DECISION_FIELDS", "DEFENDANT_FIELDS", "HEARING_FIELDS", "MEASURE_FIELDS",
    "PLACEMENT_FIELDS", "ConflictReport", "DomainError", "EditConflict", "HearingData", "add_measure",
    "cancel_hearing", "correct_record", "court_time", "create_case", "create_defendant", "create_hearing",
    "explain_conflict", "extend_custody", "get_or_create_court", "mark_held", "postpone_hearing",
    "record_decision", "record_transfer", "update_case", "update_court", "update_defendant", "update_hearing",
]
