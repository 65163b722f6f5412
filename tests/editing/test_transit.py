"""In transit ("на этапе"): a transfer whose destination is not yet known, on the pages and in the records."""
from __future__ import annotations

import re
from datetime import date

import pytest
import sqlalchemy as sa

from tests.auth.support import post_form
from tests.editing.test_editing_views import _fixed_clock, field_error, text  # noqa: F401  (autouse clock)
from tracker.editing import services
from tracker.editing.models import AuditEntry
from tracker.extensions import db
from tracker.records.enums import DefendantStatus, LettersStatus, MeasureKind
from tracker.records.models import Defendant, Placement
from tracker.records.timeline import timeline
from tracker.records.transit import in_transit_since, transits_query


def status_line(page: str) -> str:
    return " ".join(re.search(r'<p class="status">(.*?)</p>', page, re.S).group(1).split())


@pytest.fixture
def prisoner(make_defendant, make_measure, make_decision):
    person = make_defendant(slug="prisoner", name_latin="Ivan Primerov", status=DefendantStatus.IMPRISONED,
                            letters_address="SIZO-1, 101000 Moscow", letters_status=LettersStatus.REACH)
    make_measure(person, starts_on=date(2025, 6, 8), until=date(2025, 12, 8))
    make_decision(person, decided_on=date(2025, 11, 24), term_years=5)
    db.session.add(Placement(defendant=person, facility="SIZO-1, Moscow", since=date(2025, 6, 9)))
    db.session.commit()
    return person


def test_a_transfer_with_no_destination_puts_the_prisoner_in_transit(prisoner, editor, now, client):
    services.record_transfer(db.session, prisoner, {"since": date(2026, 2, 20), "in_transit": True,
                                                    "note": "taken from SIZO-1 by convoy"},
                             expected_version=prisoner.version, by=editor, now=now)
    db.session.commit()
    placement = prisoner.placements[-1]
    assert (placement.in_transit, placement.facility) == (True, "")
    assert in_transit_since(prisoner) == date(2026, 2, 20)
    assert prisoner.letters_status is LettersStatus.BLOCKED  # nobody can say where to write
    assert prisoner.letters_address == "SIZO-1, 101000 Moscow"  # kept for the record, not shown
    entry = db.session.scalars(sa.select(AuditEntry).order_by(AuditEntry.id.desc())).first()
    assert entry.action == "transfer"
    assert entry.changes["in_transit"] == [None, True] and entry.changes["letters_status"] == ["reach", "blocked"]
    assert [e.text for e in timeline(prisoner, []) if e.kind == "transfer"] == [
        "Held at SIZO-1, Moscow", "In transit, whereabouts unknown"]

    page = client.get("/defendants/prisoner").get_data(as_text=True)
    line = status_line(page)
    assert "in transit since Feb 20, 2026, whereabouts unknown" in line and "held at" not in line
    assert "letters do not reach them until a new address is known" in page
    assert "SIZO-1, 101000 Moscow" not in page  # supporters must not write to the old place
    assert "Letters are not delivered." in page
    assert "in transit since Feb 20, 2026" in client.get("/").get_data(as_text=True)


def test_a_destination_ends_the_transit_and_letters_are_unknown_until_someone_says(prisoner, editor, now, client):
    services.record_transfer(db.session, prisoner, {"since": date(2026, 2, 20), "in_transit": True},
                             expected_version=None, by=editor, now=now)
    db.session.commit()
    assert db.session.scalars(transits_query()).all() == [prisoner.placements[-1]]
    services.record_transfer(db.session, prisoner, {"facility": "IK-2, Vladimir region", "since": date(2026, 3, 1)},
                             letters_address="IK-2, 600000 Vladimir region", expected_version=None, by=editor, now=now)
    db.session.commit()
    assert in_transit_since(prisoner) is None
    assert db.session.scalars(transits_query()).all() == []
    assert prisoner.letters_status is LettersStatus.UNKNOWN
    assert [p.in_transit for p in prisoner.placements] == [False, True, False]  # the history is kept
    line = status_line(client.get("/defendants/prisoner").get_data(as_text=True))
    assert "held at IK-2, Vladimir region since Mar 1, 2026" in line and "in transit" not in line

    # the editor may say at once that letters reach the new place
    services.record_transfer(db.session, prisoner, {"since": date(2026, 3, 5), "in_transit": True},
                             expected_version=None, by=editor, now=now)
    services.record_transfer(db.session, prisoner, {"facility": "IK-3", "since": date(2026, 3, 9)},
                             letters_status=LettersStatus.REACH, expected_version=None, by=editor, now=now)
    db.session.commit()
    assert prisoner.letters_status is LettersStatus.REACH
    # an ordinary transfer leaves the letters as they are
    services.record_transfer(db.session, prisoner, {"facility": "IK-4", "since": date(2026, 3, 10)},
                             expected_version=None, by=editor, now=now)
    assert prisoner.letters_status is LettersStatus.REACH


def test_a_released_person_is_in_transit_no_more(prisoner, editor, now):
    services.record_transfer(db.session, prisoner, {"since": date(2026, 2, 20), "in_transit": True},
                             expected_version=None, by=editor, now=now)
    services.add_measure(db.session, prisoner, {"kind": MeasureKind.RELEASED, "starts_on": date(2026, 2, 27)},
                         expected_version=None, by=editor, now=now)
    services.update_defendant(db.session, prisoner, {"status": DefendantStatus.RELEASED}, expected_version=None,
                              by=editor, now=now)
    db.session.commit()
    assert in_transit_since(prisoner) is None
    assert db.session.scalars(transits_query()).all() == []


def test_the_rules_of_a_transit(prisoner, editor, now):
    with pytest.raises(services.DomainError) as error:
        services.record_transfer(db.session, prisoner, {"since": date(2026, 2, 20), "in_transit": True,
                                                        "facility": "IK-2"}, expected_version=None, by=editor, now=now)
    assert error.value.field == "facility"
    db.session.rollback()
    with pytest.raises(services.DomainError) as error:
        services.record_transfer(db.session, prisoner, {"since": date(2026, 2, 20)}, expected_version=None,
                                 by=editor, now=now)
    assert error.value.field == "facility"
    db.session.rollback()
    services.record_transfer(db.session, prisoner, {"since": date(2026, 2, 20), "in_transit": True},
                             expected_version=None, by=editor, now=now)
    db.session.commit()
    with pytest.raises(services.DomainError) as error:
        services.record_transfer(db.session, prisoner, {"since": date(2026, 2, 25), "in_transit": True},
                                 expected_version=None, by=editor, now=now)
    assert error.value.field == "in_transit" and "since Feb 20, 2026" in error.value.message
    db.session.rollback()
    # a correction cannot name a facility for a row in transit either (the check constraint stays unreached)
    transit = db.session.scalar(sa.select(Placement).where(Placement.in_transit.is_(True)))
    with pytest.raises(services.DomainError):
        services.correct_record(db.session, transit, {"facility": "IK-2"}, expected_version=None, by=editor, now=now)


def test_the_transfer_form_records_a_transit(editor_client, prisoner, client):
    path = f"/edit/defendants/{prisoner.id}/transfer"
    version = str(prisoner.version)
    refused = post_form(editor_client, path, {"in_transit": "y", "facility": "IK-2", "since": "2026-02-20",
                                              "letters_status": "reach", "version": version})
    assert refused.status_code == 422
    assert "Leave the facility empty" in field_error(refused, "facility")
    assert "Letters cannot reach someone whose whereabouts are unknown." in field_error(refused, "letters_status")
    assert 'value="IK-2"' in refused.get_data(as_text=True)  # nothing typed is lost

    done = post_form(editor_client, path, {"in_transit": "y", "since": "2026-02-20", "version": version})
    assert done.status_code == 302
    page = text(editor_client.get(done.headers["Location"]))
    assert "Recorded: in transit, letters marked as not delivered." in page
    assert "In transit since Feb 20, 2026, whereabouts unknown." in page and "Record the destination" in page
    assert "In transit since Feb 20, 2026, whereabouts unknown. Record the destination" in text(editor_client.get(path))

    db.session.expire_all()
    person = db.session.get(Defendant, prisoner.id)
    done = post_form(editor_client, path, {"facility": "IK-2, Vladimir region", "since": "2026-03-01",
                                           "letters_status": "reach", "version": str(person.version)})
    assert done.status_code == 302
    db.session.expire_all()
    person = db.session.get(Defendant, prisoner.id)
    assert in_transit_since(person) is None and person.letters_status is LettersStatus.REACH
