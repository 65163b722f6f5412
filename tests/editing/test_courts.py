"""Editors correct a court (name, address, zone): audited, and its hearings follow like any edit."""
from __future__ import annotations

import html
import re
from datetime import datetime, timedelta, timezone

import pytest
import sqlalchemy as sa
import time_machine

from tests.auth.support import log_in, new_client, post_form
from tracker.editing.models import AuditEntry
from tracker.extensions import db
from tracker.records.models import Court, Hearing
from tracker.reminders.changes import notify_hearing_changes
from tracker.mail.models import OutboxMessage
from tracker.reminders.models import Scope, Subscription


@pytest.fixture(autouse=True)
def _fixed_clock(now):
    with time_machine.travel(now, tick=False):
        yield


def text(response) -> str:
    return html.unescape(response.get_data(as_text=True))


def field_errors(response, field_id: str) -> list[str]:
    return [html.unescape(m) for m in re.findall(rf'id="{field_id}-error"[^>]*>([^<]+)<',
                                                 response.get_data(as_text=True))]


@pytest.fixture
def court_with_hearing(make_court, make_hearing, make_defendant, now):
    court = make_court(name="Leninsky court", address="Old street 1", timezone="Europe/Moscow")
    person = make_defendant(name_latin="Ivan Petrov", slug="ivan")
    # typed as 10:00 in Moscow: 07:00 UTC
    hearing = make_hearing(court=court, defendants=[person], starts_at=datetime(2026, 3, 10, 7, 0, tzinfo=timezone.utc))
    db.session.commit()
    return court, hearing


def test_an_editor_corrects_a_court_and_its_hearings_follow(editor_client, court_with_hearing, now):
    court, hearing = court_with_hearing
    volunteer = Subscription(email="volunteer@example.org", scope=Scope.ALL, scope_key="all", lead_minutes=[1440],
                             digest=False, created_at=now, confirmed_at=now)
    db.session.add(volunteer)
    notify_hearing_changes(db.session, now)  # the reminders have seen the hearing as it was
    db.session.commit()
    version = hearing.version

    page = editor_client.get(f"/edit/hearings/{hearing.id}")
    assert f"/edit/courts/{court.id}" in page.get_data(as_text=True)
    assert f"/edit/courts" in editor_client.get("/edit/").get_data(as_text=True)
    assert "Leninsky court" in text(editor_client.get("/edit/courts"))

    response = post_form(editor_client, f"/edit/courts/{court.id}", {
        "name": "Leninsky district court of Yekaterinburg", "address": "Lenina 1", "timezone": "Asia/Yekaterinburg",
    })
    assert response.status_code == 302

    db.session.expire_all()
    court, hearing = db.session.get(Court, court.id), db.session.get(Hearing, hearing.id)
    assert (court.name, court.address, court.timezone) == (
        "Leninsky district court of Yekaterinburg", "Lenina 1", "Asia/Yekaterinburg")
    # the zone was wrong: the hearing keeps the 10:00 typed for it, now in Yekaterinburg
    assert hearing.local_start.strftime("%H:%M %Z") == "10:00 +05"
    assert hearing.starts_at == datetime(2026, 3, 10, 5, 0, tzinfo=timezone.utc)
    assert hearing.version == version + 1  # like any edit: calendars see a new SEQUENCE
    entries = db.session.scalars(sa.select(AuditEntry).order_by(AuditEntry.id)).all()
    assert [(e.entity_type, e.action) for e in entries] == [("court", "update"), ("hearing", "court_change")]
    assert entries[0].changes["timezone"] == ["Europe/Moscow", "Asia/Yekaterinburg"]
    assert entries[1].changes["starts_at"] == ["2026-03-10T07:00:00+00:00", "2026-03-10T05:00:00+00:00"]
    assert "Lenina 1" in text(editor_client.get(f"/edit/courts/{court.id}"))  # the history

    # volunteers are told the hearing moved, with the new court's name and zone
    assert notify_hearing_changes(db.session, now) == 1
    notice = db.session.scalar(sa.select(OutboxMessage).where(OutboxMessage.recipient == volunteer.email))
    assert "Leninsky district court of Yekaterinburg" in notice.subject


def test_the_new_name_and_zone_reach_the_feeds(editor_client, court_with_hearing, now, tmp_path):
    from icalendar import Calendar

    from tracker.feeds import calendars
    from tracker.feeds.publish import publish_feeds

    court, hearing = court_with_hearing
    publish_feeds(now, feeds_dir=tmp_path)
    before = Calendar.from_ical((tmp_path / "defendants/ivan.ics").read_bytes()).walk("VEVENT")[0]
    post_form(editor_client, f"/edit/courts/{court.id}", {"name": "Renamed court", "address": "New street 2",
                                                          "timezone": "Europe/Moscow"})
    publish_feeds(now, feeds_dir=tmp_path)
    after = Calendar.from_ical((tmp_path / "defendants/ivan.ics").read_bytes()).walk("VEVENT")[0]
    assert str(after["LOCATION"]).startswith("Renamed court, New street 2")
    assert int(after["SEQUENCE"]) == int(before["SEQUENCE"]) + 1
    assert after.decoded("DTSTART") == before.decoded("DTSTART")  # same zone: the time does not move
    calendars.EVENTS.clear()


def test_a_court_name_with_a_line_break_can_be_edited_away(editor_client, make_court):
    court = make_court(name="Court X\r\nX-Injected: yes")  # saved before forms refused it
    db.session.commit()
    page = editor_client.get(f"/edit/courts/{court.id}")
    assert page.status_code == 200
    refused = post_form(editor_client, f"/edit/courts/{court.id}",
                        {"name": "Court X\r\nReply-To: a@evil.example", "timezone": "Europe/Moscow"})
    assert refused.status_code == 422
    assert field_errors(refused, "name") == ["Keep this on one line, without line breaks or other control characters."]
    fixed = post_form(editor_client, f"/edit/courts/{court.id}", {"name": "Court X", "timezone": "Europe/Moscow"})
    assert fixed.status_code == 302
    db.session.expire_all()
    assert db.session.get(Court, court.id).name == "Court X"


@pytest.mark.parametrize("data,field,message", [
    ({"name": "Court", "timezone": "MSK"}, "timezone", "Unknown time zone 'MSK'."),
    ({"name": "Court", "timezone": "../../etc/passwd"}, "timezone", "Unknown time zone '../../etc/passwd'."),
    ({"name": "Other court", "timezone": "Europe/Moscow"}, "name", "Another court already has this name."),
    ({"name": "", "timezone": "Europe/Moscow"}, "name", "This field is required."),
])
def test_a_wrong_zone_or_a_taken_name_is_refused_next_to_the_field(editor_client, make_court, data, field,
                                                                   message):
    court = make_court(name="Court")
    make_court(name="Other court")
    db.session.commit()
    response = post_form(editor_client, f"/edit/courts/{court.id}", {"address": "kept", **data})
    assert response.status_code == 422
    assert any(e.startswith(message) for e in field_errors(response, field)), field_errors(response, field)
    assert 'value="kept"' in response.get_data(as_text=True)
    assert db.session.scalar(sa.select(sa.func.count(AuditEntry.id))) == 0


def test_an_editor_limited_to_some_cases_may_not_change_a_shared_court(app, make_user, make_case, make_court,
                                                                       make_hearing, make_defendant):
    case = make_case()
    person = make_defendant(cases=[case])
    court = make_court(name="Shared court")
    hearing = make_hearing(court=court, defendants=[person], case=case)
    make_user("limited@example.org", cases=[case])
    db.session.commit()
    client = new_client(app)
    log_in(client, "limited@example.org")
    assert client.get("/edit/courts").status_code == 403
    assert client.get(f"/edit/courts/{court.id}").status_code == 403
    refused = post_form(client, f"/edit/courts/{court.id}", {"name": "Mine now", "timezone": "Europe/Moscow"},
                        token_from="/edit/")
    assert refused.status_code == 403
    assert "/edit/courts" not in client.get(f"/edit/hearings/{hearing.id}").get_data(as_text=True)
    db.session.expire_all()
    assert db.session.get(Court, court.id).name == "Shared court"


def test_a_new_court_named_with_a_line_break_is_refused_on_the_hearing_form(app, make_user, make_case,
                                                                            make_defendant):
    """Even an editor limited to one case names new courts: that is where the hostile names came from."""
    case = make_case()
    person = make_defendant(cases=[case])
    make_user("limited@example.org", cases=[case])
    db.session.commit()
    client = new_client(app)
    log_in(client, "limited@example.org")
    response = post_form(client, "/edit/hearings/new", {
        "kind": "trial", "starts_at": "2026-04-01T10:00", "case": str(case.id), "court": "0",
        "new_court_name": "Court X\r\nReply-To : attacker@evil.example", "new_court_timezone": "Europe/Moscow",
        "duration_minutes": "90", "defendants": [str(person.id)],
    })
    assert response.status_code == 422
    assert field_errors(response, "new_court_name") == [
        "Keep this on one line, without line breaks or other control characters."]
    assert db.session.scalar(sa.select(sa.func.count(Court.id))) == 0
