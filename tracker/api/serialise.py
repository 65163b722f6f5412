"""Public records as JSON-ready dicts: the one place that decides what the API shows.

Each function picks fields one by one (never "all columns"), so a private column
added to a model later stays out until someone writes it here on purpose. Hidden
co-defendants are dropped from hearings and cases. Times are ISO 8601 in the
court's own zone, with the zone named; enums are their stable value plus a label
in the reader's language. `tracker/api/openapi.py` describes the same shapes, and
the tests validate every answer against it.
"""
from __future__ import annotations

from datetime import date, datetime
from typing import Any

from flask import url_for

from tracker.actions.models import Action
from tracker.actions.places import country_name
from tracker.api.queries import DefendantRecord
from tracker.records.custody import custody_summary, expected_release, sentence_in_force
from tracker.records.enums import LabelledEnum
from tracker.records.models import Case, Court, CustodyMeasure, Decision, Defendant, Hearing, Placement, SourceMixin


def enum_value(member: LabelledEnum) -> dict[str, str]:
    return {"value": member.value, "label": member.label}


def day(value: date | None) -> str | None:
    return value.isoformat() if value else None


def local_time(moment: datetime, court: Court) -> str:
    return moment.astimezone(court.tz).isoformat()


def source(item: SourceMixin) -> dict[str, Any] | None:
    if not item.source_url and not item.source_checked_on:
        return None
    return {"url": item.source_url or None, "checked_on": day(item.source_checked_on)}


def api_url(endpoint: str, **values: Any) -> str:
    return url_for(endpoint, _external=True, **values)


def court(found: Court) -> dict[str, Any]:
    return {"id": found.id, "name": found.name, "name_original": found.name_original, "address": found.address,
            "address_original": found.address_original, "timezone": found.timezone,
            "url": api_url("api.court", court_id=found.id)}


def case_ref(found: Case) -> dict[str, Any]:
    return {"id": found.id, "slug": found.slug, "title": found.title, "title_original": found.title_original,
            "url": api_url("api.case", slug=found.slug)}


def defendant_ref(person: Defendant) -> dict[str, Any]:
    return {"id": person.id, "slug": person.slug, "name_latin": person.name_latin,
            "name_original": person.name_original, "url": api_url("api.defendant", slug=person.slug)}


def hearing_ref(hearing: Hearing) -> dict[str, Any]:
    """A hearing named from elsewhere (a defendant's next hearing)."""
    return {"id": hearing.id, "starts_at": local_time(hearing.starts_at, hearing.court),
            "timezone": hearing.court.timezone, "court": {"id": hearing.court.id, "name": hearing.court.name,
                                                         "name_original": hearing.court.name_original},
            "url": api_url("api.hearing", hearing_id=hearing.id)}


def hearing(found: Hearing) -> dict[str, Any]:
    return {
        "id": found.id,
        "starts_at": local_time(found.starts_at, found.court),
        "ends_at": local_time(found.ends_at, found.court),
        "timezone": found.court.timezone,
        "duration_minutes": found.duration_minutes,
        "kind": enum_value(found.kind),
        "status": enum_value(found.status),
        "is_open": found.is_open,
        "court": court(found.court),
        "courtroom": found.courtroom,
        "judge": found.judge,
        "video_link_note": found.video_link_note,
        "outcome_note": found.outcome_note,
        "case": case_ref(found.case) if found.case is not None else None,
        "defendants": [defendant_ref(d) for d in found.public_defendants()],
        "source": source(found),
        "version": found.version,
        "url": api_url("api.hearing", hearing_id=found.id),
    }


def measure(found: CustodyMeasure) -> dict[str, Any]:
    return {
        "id": found.id,
        "kind": enum_value(found.kind),
        "starts_on": day(found.starts_on),
        "until": day(found.until),
        "next_review_on": day(found.next_review_on),
        "ordered_by": found.ordered_by,
        "extends_id": found.extends_id,
        "note": found.note,
        "source": source(found),
    }


def decision(found: Decision) -> dict[str, Any]:
    return {
        "id": found.id,
        "decided_on": day(found.decided_on),
        "court": found.court,
        "instance": enum_value(found.instance),
        "outcome": enum_value(found.outcome),
        "term": {"years": found.term_years, "months": found.term_months, "days": found.term_days,
                 "label": found.term_text},
        "regime": found.regime,
        "credited_days": found.credited_days,
        "expected_release": day(found.expected_release),
        "under_appeal": found.under_appeal,
        "note": found.note,
        "source": source(found),
    }


def placement(found: Placement) -> dict[str, Any]:
    return {"id": found.id, "facility": found.facility, "facility_original": found.facility_original,
            "since": day(found.since), "in_transit": found.in_transit, "note": found.note, "source": source(found)}


def defendant(record: DefendantRecord) -> dict[str, Any]:
    person = record.defendant
    custody = custody_summary(person)
    sentence = sentence_in_force(person)
    return {
        **defendant_ref(person),
        "status": enum_value(person.status),
        "birth_date": day(person.birth_date),
        "arrested_on": day(person.arrested_on),
        "bio": person.bio,
        "charges": [line.strip() for line in person.charges.splitlines() if line.strip()],
        "cases": [case_ref(c) for c in person.cases],
        "custody": None if custody is None else {
            "measure": enum_value(custody.kind),
            "since": day(custody.since),
            "extensions": custody.extensions,
            "until": day(custody.until),
            "next_review_on": day(custody.next_review_on),
            "measure_id": custody.current.id,
        },
        "custody_measures": [measure(m) for m in person.measures],
        "sentence_in_force_id": sentence.id if sentence is not None else None,
        "expected_release": day(expected_release(person)),
        "decisions": [decision(d) for d in person.decisions],
        "placement": placement(person.placements[-1]) if person.placements else None,
        "placements": [placement(p) for p in person.placements],
        "letters": {"address": person.letters_address or None,
                    "address_original": person.letters_address_original or None,
                    "status": enum_value(person.letters_status)},
        "next_hearing": hearing_ref(record.next_hearing) if record.next_hearing is not None else None,
        "hearings_url": api_url("api.hearings", defendant=person.slug),
        "page_url": api_url("records.defendant", slug=person.slug),
    }


def case(found: Case) -> dict[str, Any]:
    return {
        **case_ref(found),
        "case_number": found.case_number or None,
        "description": found.description,
        "charges": found.charges,
        "defendants": [{**defendant_ref(d), "status": enum_value(d.status)} for d in found.defendants if d.is_public],
        "hearings_url": api_url("api.hearings", case=found.slug),
        "page_url": api_url("records.case", slug=found.slug),
    }


def action(found: Action) -> dict[str, Any]:
    """A public solidarity action: never the organiser's contact, never a hidden defendant."""
    zone = found.tz
    return {
        "id": found.id,
        "title": found.title,
        "description": found.description,
        "organiser": found.organiser,
        "status": enum_value(found.status),
        "city": found.city,
        "country": {"code": found.country, "name": country_name(found.country)},
        "address": found.address,
        "timezone": found.timezone,
        "starts_at": found.starts_at.astimezone(zone).isoformat(),
        "ends_at": found.ends_at.astimezone(zone).isoformat(),
        "case": case_ref(found.case) if found.case is not None else None,
        "defendants": [defendant_ref(p) for p in found.public_defendants()],
        "version": found.version,
        "page_url": url_for("actions.upcoming", _external=True) + f"#action-{found.id}",
    }
