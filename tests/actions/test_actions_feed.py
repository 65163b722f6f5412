"""The actions calendars, read back by the same two parsers as the hearing feeds (icalendar and
the strict `ics`): stable UIDs, SEQUENCE raised by every edit, the place's VTIMEZONE, escaping."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest
import time_machine

from tests.actions.conftest import post_form
from tests.actions.support import CONTACT_MARKER
from tests.feeds.conftest import Parsed
from tracker.actions.models import Action, ActionStatus
from tracker.extensions import db

INJECTED = "\r\nEND:VEVENT\r\nBEGIN:VEVENT\r\nUID:forged@evil.example\r\nSUMMARY:Forged"


@pytest.fixture(autouse=True)
def _clock(now):
    with time_machine.travel(now, tick=False):
        yield


def _feed(client, url: str = "/actions.ics") -> Parsed:
    response = client.get(url)
    assert response.status_code == 200, url
    assert response.content_type == "text/calendar; charset=utf-8"
    return Parsed(response.get_data())


def test_each_action_is_an_event_in_its_places_zone_with_a_stable_uid(anon_client, make_action, make_defendant):
    person = make_defendant(slug="anna", name_latin="Anna Petrova", name_original="Анна Петрова")
    berlin = make_action(title="Письма в Берлине", starts_at=datetime(2026, 3, 9, 17, tzinfo=timezone.utc),
                         address="Café X, Hauptstr. 1", organiser="Circle; Berlin, e.V.", defendants=[person],
                         description="Bring pens, paper;\nand stamps.")
    tbilisi = make_action(title="Vigil", city="Tbilisi", country="GE", timezone="Asia/Tbilisi",
                          starts_at=datetime(2026, 3, 10, 15, tzinfo=timezone.utc))
    make_action(title="Pending", status=ActionStatus.PENDING)
    db.session.commit()

    parsed = _feed(anon_client)

    assert sorted(parsed.uids) == sorted([f"action-{berlin.id}@tracker.test", f"action-{tbilisi.id}@tracker.test"])
    event = parsed.event(f"action-{berlin.id}@tracker.test")
    assert event.decoded("DTSTART") == datetime(2026, 3, 9, 18, tzinfo=ZoneInfo("Europe/Berlin"))
    assert event["DTSTART"].params["TZID"] == "Europe/Berlin"
    assert "DTSTART;TZID=Europe/Berlin:20260309T180000" in parsed.text
    assert int(event["SEQUENCE"]) == berlin.version == 1
    assert str(event["SUMMARY"]) == "Письма в Берлине"
    assert str(event["LOCATION"]) == "Café X, Hauptstr. 1, Berlin, Germany"
    assert str(event["STATUS"]) == "CONFIRMED"
    description = str(event["DESCRIPTION"])
    assert "Bring pens, paper;\nand stamps." in description and "Organised by Circle; Berlin, e.V." in description
    assert "Anna Petrova (Анна Петрова): http://tracker.test/defendants/anna" in description
    assert str(event["URL"]) == f"http://tracker.test/actions#action-{berlin.id}"
    assert sorted(str(z["TZID"]) for z in parsed.cal.walk("VTIMEZONE")) == ["Asia/Tbilisi", "Europe/Berlin"]
    assert parsed.text.index("BEGIN:VTIMEZONE") < parsed.text.index("BEGIN:VEVENT")
    strict = parsed.strict_event(f"action-{tbilisi.id}@tracker.test")
    assert strict.begin.datetime == datetime(2026, 3, 10, 19, tzinfo=ZoneInfo("Asia/Tbilisi"))
    assert strict.end.datetime - strict.begin.datetime == timedelta(hours=2)
    assert CONTACT_MARKER not in parsed.text and "Pending" not in parsed.text


def test_an_edit_keeps_the_uid_and_raises_the_sequence_and_a_poll_without_change_gets_a_304(
    editor_client, anon_client, make_action
):
    action = make_action(title="Picket", starts_at=datetime(2026, 3, 9, 17, tzinfo=timezone.utc))
    db.session.commit()
    uid = f"action-{action.id}@tracker.test"
    first = anon_client.get("/actions.ics")
    assert int(Parsed(first.get_data()).event(uid)["SEQUENCE"]) == 1
    again = anon_client.get("/actions.ics", headers={"If-None-Match": first.headers["ETag"]})
    assert again.status_code == 304  # same bytes: DTSTAMP is the last change, not the clock

    fields = {"title": "Picket", "description": "", "organiser": "", "city": "Berlin", "country": "DE",
              "address": "", "timezone": "Europe/Berlin", "starts": "2026-03-09T19:30", "ends": "2026-03-09T21:00",
              "case": "", "contact": action.contact, "version": "1"}
    assert post_form(editor_client, f"/edit/actions/{action.id}", fields).status_code == 302

    moved = Parsed(anon_client.get("/actions.ics").get_data())
    event = moved.event(uid)
    assert int(event["SEQUENCE"]) == 2
    assert event.decoded("DTSTART") == datetime(2026, 3, 9, 19, 30, tzinfo=ZoneInfo("Europe/Berlin"))
    assert moved.uids == [uid]
    assert anon_client.get("/actions.ics", headers={"If-None-Match": first.headers["ETag"]}).status_code == 200

    # called off: the same event, cancelled, with a higher SEQUENCE
    assert post_form(editor_client, f"/edit/actions/{action.id}/cancel", {"review-version": "2"},
                     token_from=f"/edit/actions/{action.id}").status_code == 302
    cancelled = Parsed(anon_client.get("/actions.ics").get_data()).event(uid)
    assert str(cancelled["STATUS"]) == "CANCELLED" and int(cancelled["SEQUENCE"]) == 3
    assert str(cancelled["SUMMARY"]) == "Called off: Picket"


def test_per_case_and_per_defendant_calendars(anon_client, make_action, make_case, make_defendant):
    case = make_case(slug="bolotnaya", title="Bolotnaya")
    anna = make_defendant(slug="anna", cases=[case])
    boris = make_defendant(slug="boris")
    for_anna = make_action(defendants=[anna])
    for_case = make_action(case=case)
    for_boris = make_action(defendants=[boris])
    db.session.commit()

    def ids(url: str) -> set[str]:
        return set(_feed(anon_client, url).uids)

    def uid(action: Action) -> str:
        return f"action-{action.id}@tracker.test"

    assert ids("/actions/defendants/anna.ics") == {uid(for_anna)}
    assert ids("/actions/cases/bolotnaya.ics") == {uid(for_anna), uid(for_case)}
    assert ids("/actions.ics") == {uid(for_anna), uid(for_case), uid(for_boris)}
    assert anon_client.get("/actions/cases/no-such.ics").status_code == 404
    assert ids("/actions/defendants/boris.ics") == {uid(for_boris)}


def test_nothing_an_organiser_typed_can_break_a_line(anon_client, make_action):
    action = make_action(title="Vigil" + INJECTED, address="Street 1\nATTENDEE:mailto:x@evil.example",
                         city="Berlin\r\nX-INJECTED:yes", organiser="Group" + INJECTED,
                         description="Text" + INJECTED)
    db.session.commit()
    parsed = _feed(anon_client)
    assert parsed.uids == [f"action-{action.id}@tracker.test"] and len(parsed.strict.events) == 1
    event = parsed.events[0]
    assert "ATTENDEE" not in event and "X-INJECTED" not in event
    for line in parsed.body.split(b"\r\n"):
        assert not line.startswith((b"UID:forged", b"ATTENDEE", b"X-INJECTED", b"SUMMARY:Forged"))


def test_an_actions_people_come_in_the_readers_order(app, make_action, make_defendant):
    """Vera (Вера) sorts after Timur in Latin and before Тимур in Cyrillic: a Russian reader's
    calendar lists «Вера» first, as the pages do; an English one keeps the Latin order."""
    timur = make_defendant(slug="timur", name_latin="Timur Obraztsov", name_original="Тимур Образцов")
    vera = make_defendant(slug="vera", name_latin="Vera Ustareva", name_original="Вера Устарева")
    action = make_action(title="Letters", starts_at=datetime(2026, 3, 9, 17, tzinfo=timezone.utc),
                         defendants=[vera, timur])
    db.session.commit()
    uid = f"action-{action.id}@tracker.test"
    for language, first, second in (("ru", "Вера Устарева", "Тимур Образцов"),
                                    ("en", "Timur Obraztsov", "Vera Ustareva")):
        client = app.test_client()
        client.environ_base["HTTP_ACCEPT_LANGUAGE"] = language
        description = str(_feed(client).event(uid)["DESCRIPTION"])
        assert description.index(first) < description.index(second), (language, description)
