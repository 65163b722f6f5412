"""How each audited field and action is named when the history is read: its label (through
gettext, so a translation needs no code) and how its stored value is read back."""
from __future__ import annotations

import enum
from dataclasses import dataclass
from typing import Any

from flask_babel import lazy_gettext as _l

from tracker.records.enums import (
    DefendantStatus, HearingKind, HearingStatus, Instance, LettersStatus, MeasureKind, Outcome,
)

# How a stored value is read back.
TEXT, NUMBER, MINUTES, DAY, MOMENT, YES_NO = "text", "number", "minutes", "day", "moment", "yes_no"
CASE, CASES, COURT, DEFENDANTS, MEASURE = "case", "cases", "court", "defendants", "measure"


@dataclass(frozen=True)
class Field:
    label: Any  # a lazy string
    kind: str = TEXT
    enum: type[enum.Enum] | None = None


SOURCE = {
    "source_url": Field(_l("Source (web address)")),
    "source_checked_on": Field(_l("Source checked on"), DAY),
}
NOTE = Field(_l("Note"))
STATUS = Field(_l("Status"), enum=DefendantStatus)  # a change that sets the defendant's status

# Each record's fields in the order its form shows them.
FIELDS: dict[str, dict[str, Field]] = {
    "case": {
        "title": Field(_l("Title")),
        "title_original": Field(_l("Title in the original script")),
        "slug": Field(_l("Address (slug)")),
        "case_number": Field(_l("Case number")),
        "description": Field(_l("Description")),
        "charges": Field(_l("Charges")),
    },
    "defendant": {
        "name_latin": Field(_l("Name in latin letters")),
        "name_original": Field(_l("Name as written originally")),
        "slug": Field(_l("Address (slug)")),
        "cases": Field(_l("Cases"), CASES),
        "status": STATUS,
        "is_public": Field(_l("Public (shown on the site)"), YES_NO),
        "birth_date": Field(_l("Born on"), DAY),
        "arrested_on": Field(_l("Arrested on"), DAY),
        "bio": Field(_l("Biography")),
        "charges": Field(_l("Charges")),
        "letters_address": Field(_l("Address for letters")),
        "letters_address_original": Field(_l("Address for letters as written originally")),
        "letters_status": Field(_l("Letters"), enum=LettersStatus),
        "lawyer_contacts": Field(_l("Lawyers' contacts (private)")),
        "internal_notes": Field(_l("Internal notes (private)")),
    },
    "custody_measure": {
        "extends_id": Field(_l("Continues"), MEASURE),
        "kind": Field(_l("Measure"), enum=MeasureKind),
        "starts_on": Field(_l("From"), DAY),
        "until": Field(_l("Until"), DAY),
        "next_review_on": Field(_l("Next review"), DAY),
        "ordered_by": Field(_l("Ordered by (court)")),
        "note": NOTE,
        **SOURCE,
        "status": STATUS,
    },
    "placement": {
        "facility": Field(_l("Held at")),
        "facility_original": Field(_l("Facility as written originally")),
        "since": Field(_l("Since"), DAY),
        "in_transit": Field(_l("In transit, destination not yet known"), YES_NO),
        "letters_address": Field(_l("Address for letters")),
        "letters_address_original": Field(_l("Address for letters as written originally")),
        "letters_status": Field(_l("Letters"), enum=LettersStatus),
        "note": NOTE,
        **SOURCE,
    },
    "decision": {
        "decided_on": Field(_l("Decided on"), DAY),
        "court": Field(_l("Court")),
        "instance": Field(_l("Instance"), enum=Instance),
        "outcome": Field(_l("Outcome"), enum=Outcome),
        "term_years": Field(_l("Term: years"), NUMBER),
        "term_months": Field(_l("Term: months"), NUMBER),
        "term_days": Field(_l("Term: days"), NUMBER),
        "regime": Field(_l("Regime")),
        "credited_days": Field(_l("Days already served, credited"), NUMBER),
        "release_override": Field(_l("Release date stated by the court"), DAY),
        "under_appeal": Field(_l("Under appeal"), YES_NO),
        "note": NOTE,
        **SOURCE,
        "status": STATUS,
    },
    "hearing": {
        "kind": Field(_l("Kind"), enum=HearingKind),
        "starts_at": Field(_l("Date and time"), MOMENT),
        "status": Field(_l("Status"), enum=HearingStatus),
        "defendants": Field(_l("Defendants"), DEFENDANTS),
        "case_id": Field(_l("Case"), CASE),
        "court_id": Field(_l("Court"), COURT),
        "duration_minutes": Field(_l("Expected duration"), MINUTES),
        "courtroom": Field(_l("Courtroom")),
        "seats": Field(_l("Seats for the public")),
        # a message to those going (tracker/attendance): how many it went to
        "recipients": Field(_l("Recipients")),
        "judge": Field(_l("Judge")),
        "is_open": Field(_l("Open to the public"), YES_NO),
        "video_link_note": Field(_l("Video link or broadcast note")),
        "outcome_note": Field(_l("Outcome note (public)")),
        **SOURCE,
    },
    "court": {
        "name": Field(_l("Name in latin letters")),
        "name_original": Field(_l("Name as written originally")),
        "address": Field(_l("Address in latin letters")),
        "address_original": Field(_l("Address as written originally")),
        "timezone": Field(_l("Time zone")),
    },
}

ACTIONS: dict[tuple[str, str], Any] = {
    ("create", "case"): _l("Created the case"),
    ("update", "case"): _l("Edited the case"),
    ("message_attendees", "hearing"): _l("Message to those going"),
    ("create", "defendant"): _l("Added the defendant"),
    ("update", "defendant"): _l("Edited the defendant"),
    ("create", "custody_measure"): _l("Added a custody measure"),
    ("extend", "custody_measure"): _l("Extended custody"),
    ("update", "custody_measure"): _l("Corrected a custody measure"),
    ("transfer", "placement"): _l("Recorded a transfer"),
    ("record_decision", "decision"): _l("Recorded a decision"),
    ("update", "decision"): _l("Corrected a decision"),
    ("create", "hearing"): _l("Added the hearing"),
    ("update", "hearing"): _l("Edited the hearing"),
    ("postpone", "hearing"): _l("Postponed the hearing"),
    ("cancel", "hearing"): _l("Cancelled the hearing"),
    ("mark_held", "hearing"): _l("Marked the hearing held"),
    ("create", "court"): _l("Added a court"),
    ("update", "court"): _l("Corrected the court"),
    ("court_change", "hearing"): _l("Its court was corrected"),
}


# Actions that add a record: their fields had no value before, so only the new one is shown.
ADDING = {"create", "extend", "transfer", "record_decision"}
