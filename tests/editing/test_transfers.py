"""Transfers between facilities: the history of where a defendant is held."""
from __future__ import annotations

from datetime import date

import pytest
import sqlalchemy as sa

from tracker.editing import services
from tracker.editing.models import AuditEntry
from tracker.extensions import db
from tracker.records.timeline import timeline
from tests.auth.support import post_form
from tests.editing.test_editing_views import _fixed_clock, field_error  # noqa: F401  (autouse clock)


def test_a_transfer_adds_a_placement_and_moves_the_letters_address(make_defendant, editor, now):
    person = make_defendant(letters_address="SIZO-1, Moscow")
    services.record_transfer(db.session, person, {"facility": "SIZO-1, Moscow", "since": date(2025, 6, 9)},
                             expected_version=None, by=editor, now=now)
    db.session.commit()
    version = person.version
    services.record_transfer(
        db.session, person, {"facility": "IK-2, Vladimir region", "since": date(2026, 1, 15), "note": "by convoy"},
        letters_address="IK-2, 600000 Vladimir region", expected_version=version, by=editor, now=now,
    )
    db.session.commit()
    assert [p.facility for p in person.placements] == ["SIZO-1, Moscow", "IK-2, Vladimir region"]
    assert person.letters_address == "IK-2, 600000 Vladimir region"
    assert person.version == version + 1
    entry = db.session.scalars(sa.select(AuditEntry).order_by(AuditEntry.id.desc())).first()
    assert entry.action == "transfer" and entry.defendant_id == person.id
    assert entry.changes["facility"] == [None, "IK-2, Vladimir region"]
    assert entry.changes["letters_address"] == ["SIZO-1, Moscow", "IK-2, 600000 Vladimir region"]
    kinds = [e.text for e in timeline(person, []) if e.kind == "transfer"]
    assert kinds == ["Held at SIZO-1, Moscow", "Held at IK-2, Vladimir region"]


def test_a_transfer_cannot_predate_the_current_placement(make_defendant, editor, now):
    person = make_defendant()
    services.record_transfer(db.session, person, {"facility": "SIZO-1", "since": date(2026, 1, 15)},
                             expected_version=None, by=editor, now=now)
    db.session.commit()
    with pytest.raises(services.DomainError) as error:
        services.record_transfer(db.session, person, {"facility": "SIZO-2", "since": date(2025, 1, 1)},
                                 expected_version=person.version, by=editor, now=now)
    assert error.value.field == "since" and "Jan 15, 2026" in error.value.message


def test_a_transfer_over_a_newer_change_is_a_conflict(make_defendant, editor, now):
    person = make_defendant()
    db.session.commit()
    stale = person.version
    services.record_transfer(db.session, person, {"facility": "SIZO-1", "since": date(2026, 1, 15)},
                             expected_version=stale, by=editor, now=now)
    db.session.commit()
    with pytest.raises(services.EditConflict):
        services.record_transfer(db.session, person, {"facility": "SIZO-2", "since": date(2026, 2, 1)},
                                 expected_version=stale, by=editor, now=now)


def test_transfer_page_records_it_and_the_public_page_shows_it(editor_client, make_defendant, client):
    person = make_defendant(slug="moved-person", letters_address="SIZO-1, Moscow")
    db.session.commit()
    path = f"/edit/defendants/{person.id}/transfer"
    assert "Record a transfer" in editor_client.get(f"/edit/defendants/{person.id}").get_data(as_text=True)
    refused = post_form(editor_client, path, {"facility": "", "since": "1900-01-01", "version": str(person.version)})
    assert refused.status_code == 422
    assert "Name the facility." in field_error(refused, "facility")
    assert "Enter a date between" in field_error(refused, "since")
    done = post_form(editor_client, path, {"facility": "IK-2, Vladimir region", "since": "2026-02-01",
                                           "letters_address": "IK-2, 600000 Vladimir region",
                                           "version": str(person.version)})
    assert done.status_code == 302
    page = client.get("/defendants/moved-person").get_data(as_text=True)
    # the status line says where the person is held (the transfers are in the timeline)
    assert "held at IK-2, Vladimir region since Feb 1, 2026" in page and "IK-2, 600000 Vladimir region" in page


def test_transfer_needs_an_editor_of_that_case(client, make_defendant):
    person = make_defendant()
    db.session.commit()
    response = client.get(f"/edit/defendants/{person.id}/transfer")
    assert response.status_code == 302 and "/login" in response.headers["Location"]
