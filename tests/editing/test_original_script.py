"""Editors give courts, facilities and addresses for letters in the original script too: saved,
audited, refused on control characters like every single-line field, shown in both scripts."""
from __future__ import annotations

import html
import re

import sqlalchemy as sa
import time_machine
import pytest

from tests.auth.support import post_form
from tracker.editing.models import AuditEntry
from tracker.extensions import db
from tracker.records.models import Court, Defendant


@pytest.fixture(autouse=True)
def _fixed_clock(now):
    with time_machine.travel(now, tick=False):
        yield


def text(response) -> str:
    return html.unescape(response.get_data(as_text=True))


def test_a_court_in_both_scripts_is_saved_audited_and_shown(editor_client, make_court, make_hearing, client, now):
    from datetime import timedelta

    court = make_court(name="Zamoskvoretsky District Court", address="Tatarskaya ulitsa, 1, Moscow")
    make_hearing(court=court, starts_at=now + timedelta(days=2))
    db.session.commit()
    response = post_form(editor_client, f"/edit/courts/{court.id}", {
        "name": "Zamoskvoretsky District Court", "name_original": "Замоскворецкий районный суд",
        "address": "Tatarskaya ulitsa, 1, Moscow", "address_original": "ул. Татарская, 1, Москва",
        "timezone": "Europe/Moscow",
    })
    assert response.status_code == 302
    db.session.expire_all()
    court = db.session.get(Court, court.id)
    assert (court.name_original, court.address_original) == ("Замоскворецкий районный суд", "ул. Татарская, 1, Москва")
    entry = db.session.scalar(sa.select(AuditEntry).where(AuditEntry.entity_type == "court"))
    assert entry.changes["name_original"] == ["", "Замоскворецкий районный суд"]
    assert entry.changes["address_original"] == ["", "ул. Татарская, 1, Москва"]
    history = text(editor_client.get(f"/edit/courts/{court.id}"))
    assert "Name as written originally" in history and "ул. Татарская, 1, Москва" in history

    english = text(client.get("/hearings", headers={"Accept-Language": "en"}))
    russian = text(client.get("/hearings", headers={"Accept-Language": "ru"}))
    assert english.index("Zamoskvoretsky District Court") < english.index("Замоскворецкий районный суд")
    assert russian.index("Замоскворецкий районный суд, ул. Татарская, 1, Москва") < russian.index(
        "Zamoskvoretsky District Court, Tatarskaya ulitsa, 1, Moscow")


@pytest.mark.parametrize("field", ["name_original", "address_original"])
def test_control_characters_in_a_courts_original_are_refused(editor_client, make_court, field):
    court = make_court(name="A court")
    db.session.commit()
    data = {"name": "A court", "timezone": "Europe/Moscow", field: "Мосгорсуд\r\nX-Injected: yes"}
    refused = post_form(editor_client, f"/edit/courts/{court.id}", data)
    assert refused.status_code == 422
    assert re.search(rf'id="{field}-error"', refused.get_data(as_text=True))
    db.session.expire_all()
    assert getattr(db.session.get(Court, court.id), field) == ""


def test_a_transfer_in_both_scripts(editor_client, make_defendant, client):
    person = make_defendant(slug="moved", letters_address="SIZO-1, Moscow")
    db.session.commit()
    path = f"/edit/defendants/{person.id}/transfer"
    refused = post_form(editor_client, path, {"facility": "IK-2", "facility_original": "ИК-2\x00", "since": "2026-02-01",
                                              "version": str(person.version)})
    assert refused.status_code == 422
    in_transit = post_form(editor_client, path, {"in_transit": "y", "facility_original": "ИК-2", "since": "2026-02-01",
                                                 "version": str(person.version)})
    assert in_transit.status_code == 422
    assert "Leave the facility empty" in text(in_transit)
    done = post_form(editor_client, path, {
        "facility": "IK-2, Vladimir region", "facility_original": "ИК-2, Владимирская область",
        "since": "2026-02-01", "letters_address": "IK-2, 600000 Vladimir region",
        "letters_address_original": "ИК-2, 600000, Владимирская область", "version": str(person.version)})
    assert done.status_code == 302
    db.session.expire_all()
    person = db.session.get(Defendant, person.id)
    assert person.placements[-1].facility_original == "ИК-2, Владимирская область"
    assert person.letters_address_original == "ИК-2, 600000, Владимирская область"
    entry = db.session.scalar(sa.select(AuditEntry).where(AuditEntry.action == "transfer"))
    assert entry.changes["facility_original"][1] == "ИК-2, Владимирская область"
    assert entry.changes["letters_address_original"] == ["", "ИК-2, 600000, Владимирская область"]

    russian = text(client.get("/defendants/moved", headers={"Accept-Language": "ru"}))
    english = text(client.get("/defendants/moved", headers={"Accept-Language": "en"}))
    assert "ИК-2, Владимирская область (IK-2, Vladimir region)" in russian
    assert "IK-2, Vladimir region (ИК-2, Владимирская область)" in english
    assert russian.index("ИК-2, 600000, Владимирская область") < russian.index("IK-2, 600000 Vladimir region")
    assert english.index("IK-2, 600000 Vladimir region") < english.index("ИК-2, 600000, Владимирская область")


def test_the_defendant_form_takes_the_original_letters_address(editor_client, make_defendant):
    person = make_defendant(slug="writes")
    db.session.commit()
    form = text(editor_client.get(f"/edit/defendants/{person.id}"))
    assert 'name="letters_address_original"' in form
