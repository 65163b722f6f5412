"""Fixtures for the API and export tests: a small movement with a hidden defendant, and schema checks."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta, timezone
from typing import Any

import pytest
from openapi_schema_validator import OAS31Validator

from tests.auth.support import *  # noqa: F401,F403  (account fixtures)
from tracker.actions.models import Action, ActionStatus
from tracker.extensions import db
from tracker.records.models import (
    Decision,
    HearingKind,
    HearingStatus,
    LettersStatus,
    Outcome,
    Placement,
)

MARKER = "PRIVATE-MARKER-c41d"


@dataclass
class Records:
    """What `public_records` made, by name."""

    ids: dict[str, int]
    slugs: dict[str, str]


@pytest.fixture
def public_records(make_court, make_case, make_defendant, make_measure, make_hearing, now) -> Records:
    """Two courts in two zones, two cases, two public defendants, one hidden one, and their hearings.

    The hidden defendant shares a case and a hearing with Anna; another hearing concerns
    the hidden defendant alone and must never appear.
    """
    moscow = make_court(name="Moscow City Court", name_original="Мосгорсуд", address_original="Богородский Вал, 8",
                        timezone="Europe/Moscow")
    urals = make_court(name="Sverdlovsk Regional Court", address="Lenina 1, Yekaterinburg",
                       timezone="Asia/Yekaterinburg")
    bolotnaya = make_case(slug="bolotnaya", title="Bolotnaya", title_original="Болотное дело", case_number="1-2/2026",
                          charges="Art. 212")
    other = make_case(slug="other", title="Another case")
    anna = make_defendant(slug="anna", name_latin="Anna Petrova", name_original="Анна Петрова", cases=[bolotnaya],
                          charges="212 ч.2\n318 ч.1", birth_date=date(1990, 3, 5), arrested_on=date(2025, 6, 8),
                          letters_address="SIZO-1, Moscow", letters_status=LettersStatus.REACH,
                          lawyer_contacts=f"{MARKER} lawyer +7 900", internal_notes=f"{MARKER} family asked")
    boris = make_defendant(slug="boris", name_latin="Boris Ivanov", name_original="Борис Иванов",
                           cases=[bolotnaya, other], internal_notes=f"{MARKER} notes")
    hidden = make_defendant(slug=f"hidden-{MARKER.lower()}", name_latin=f"Hidden {MARKER}",
                            name_original=f"Скрытый {MARKER}", cases=[bolotnaya], is_public=False,
                            letters_address=f"{MARKER} address", bio=f"{MARKER} bio")
    first = make_measure(anna, starts_on=date(2025, 6, 8), until=date(2025, 8, 8), ordered_by="Basmanny court")
    make_measure(anna, starts_on=date(2025, 8, 8), until=date(2026, 6, 8), extends=first)
    make_measure(hidden, starts_on=date(2025, 6, 8), until=date(2026, 6, 8), note=f"{MARKER} measure")
    db.session.add_all([
        Placement(defendant=anna, facility="SIZO-1, Moscow", since=date(2025, 6, 10)),
        Placement(defendant=anna, facility="SIZO-2, Moscow", facility_original="СИЗО-2, Москва", since=date(2025, 12, 1), note="transferred",
                  source_url="https://example.org/news/1", source_checked_on=date(2025, 12, 2)),
        Decision(defendant=boris, decided_on=date(2025, 11, 24), court="Moscow City Court",
                 outcome=Outcome.IMPRISONMENT, term_years=6, credited_days=100, regime="general regime"),
        Decision(defendant=hidden, decided_on=date(2025, 11, 24), outcome=Outcome.FINE, note=f"{MARKER} decision"),
    ])
    together = make_hearing(court=moscow, case=bolotnaya, defendants=[anna, hidden], kind=HearingKind.TRIAL,
                            starts_at=now + timedelta(days=2), courtroom="635", judge="Judge A.")
    urals_hearing = make_hearing(court=urals, case=other, defendants=[boris], kind=HearingKind.APPEAL,
                                 starts_at=now + timedelta(days=5, hours=1))
    past = make_hearing(court=moscow, case=bolotnaya, defendants=[anna], status=HearingStatus.HELD,
                        starts_at=now - timedelta(days=30), outcome_note="Custody extended.")
    cancelled = make_hearing(court=moscow, case=bolotnaya, defendants=[anna, boris], status=HearingStatus.CANCELLED,
                             starts_at=now + timedelta(days=9))
    secret = make_hearing(court=moscow, case=bolotnaya, defendants=[hidden], outcome_note=f"{MARKER} hearing",
                          starts_at=now + timedelta(days=3))
    # solidarity actions: an approved one for Anna in Berlin, one for the other case in Tbilisi, and
    # three that must never appear (pending, rejected, for the hidden defendant alone)
    def action(title: str, **kw) -> Action:
        starts = kw.pop("starts_at")
        found = Action(title=title, city=kw.pop("city", "Berlin"), country=kw.pop("country", "DE"),
                       timezone=kw.pop("timezone", "Europe/Berlin"), starts_at=starts,
                       ends_at=starts + timedelta(hours=2), contact=f"{MARKER} organiser@example.org",
                       status=kw.pop("status", ActionStatus.APPROVED), **kw)
        db.session.add(found)
        return found

    vigil = action("Vigil for Anna", starts_at=now + timedelta(days=4), defendants=[anna, hidden], case=bolotnaya,
                   address="Platz 1", organiser="Circle Berlin")
    tbilisi = action("Letters evening", starts_at=now + timedelta(days=6), city="Tbilisi", country="GE",
                     timezone="Asia/Tbilisi", case=other)
    action(f"{MARKER} pending", starts_at=now + timedelta(days=5), status=ActionStatus.PENDING)
    action(f"{MARKER} rejected", starts_at=now + timedelta(days=5), status=ActionStatus.REJECTED)
    action(f"{MARKER} hidden only", starts_at=now + timedelta(days=5), defendants=[hidden])
    db.session.commit()
    return Records(
        ids={"moscow": moscow.id, "urals": urals.id, "bolotnaya": bolotnaya.id, "other": other.id,
             "anna": anna.id, "boris": boris.id, "hidden": hidden.id, "together": together.id,
             "urals_hearing": urals_hearing.id, "past": past.id, "cancelled": cancelled.id, "secret": secret.id,
             "anna_first_measure": first.id, "vigil": vigil.id, "tbilisi": tbilisi.id},
        slugs={"anna": "anna", "boris": "boris", "hidden": hidden.slug, "bolotnaya": "bolotnaya", "other": "other"},
    )


@pytest.fixture(scope="session")
def openapi_document(app) -> dict[str, Any]:
    with app.test_request_context():
        from tracker.api.openapi import document

        return document()


@pytest.fixture
def conforms(openapi_document):
    """`conforms(body, "Hearing")` fails unless `body` matches that schema of the OpenAPI document."""

    def check(body: Any, name: str) -> None:
        schema = {"$ref": f"#/components/schemas/{name}", "components": openapi_document["components"]}
        validator = OAS31Validator(schema, format_checker=OAS31Validator.FORMAT_CHECKER)
        errors = sorted(validator.iter_errors(body), key=str)
        assert not errors, f"{name}: " + "; ".join(f"{list(e.absolute_path)}: {e.message}" for e in errors[:5])

    return check


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=timezone.utc)
