"""Editors are alerted when a prisoner has been in transit for TRANSIT_ALERT_DAYS, again every
TRANSIT_ALERT_REPEAT_DAYS, until a destination is recorded; the private feed and the dashboard show it."""
from __future__ import annotations

import html
from datetime import date, datetime, time, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest
import time_machine

from scheduler.jobs import plan_mail
from tests.auth.support import log_in, new_client
from tests.feeds.conftest import Parsed
from tests.reminders.helpers import outbox
from tracker.editing import services
from tracker.editing.transit_alerts import alert_number, enqueue_transit_alerts
from tracker.extensions import db
from tracker.mail.sending import send_pending
from tracker.records.enums import DefendantStatus
from tracker.records.models import Placement

MOSCOW = ZoneInfo("Europe/Moscow")
TAKEN = date(2026, 3, 2)  # the day the prisoner was taken from the SIZO


def on_day(n: int, hour: int = 12) -> datetime:
    """Noon in Moscow, `n` days after the transit began."""
    return datetime.combine(TAKEN + timedelta(days=n), time(hour), tzinfo=MOSCOW).astimezone(timezone.utc)


@pytest.fixture
def in_transit(make_case, make_defendant, make_user, editor, now):
    case, other_case = make_case(), make_case()
    person = make_defendant(slug="ivan-primerov", name_latin="Ivan Primerov", cases=[case],
                            status=DefendantStatus.IMPRISONED, internal_notes="Mother calls the FSIN hotline.")
    db.session.add(Placement(defendant=person, facility="SIZO-1, Moscow", since=date(2025, 6, 9)))
    db.session.commit()
    services.record_transfer(db.session, person, {"since": TAKEN, "in_transit": True}, expected_version=None,
                             by=editor, now=now)
    db.session.commit()
    return {
        "person": person,
        "assigned": make_user("assigned@example.org", cases=[case]),
        "elsewhere": make_user("elsewhere@example.org", cases=[other_case]),
        "everywhere": editor,
    }


def test_alert_numbers():
    assert [alert_number(TAKEN, TAKEN + timedelta(days=d), first=14, repeat=7) for d in (0, 13, 14, 20, 21, 35)] == [
        None, None, 0, 0, 1, 3]


def test_editors_are_alerted_at_day_14_and_every_7_days_until_a_destination_is_recorded(
        app, in_transit, editor, smtp_server):
    person = in_transit["person"]
    assert enqueue_transit_alerts(db.session, on_day(13, hour=23)) == 0  # not before day 14
    assert enqueue_transit_alerts(db.session, on_day(14, hour=0)) == 2  # the editors who may edit them
    assert enqueue_transit_alerts(db.session, on_day(14, hour=18)) == 0
    assert enqueue_transit_alerts(db.session, on_day(20)) == 0
    assert enqueue_transit_alerts(db.session, on_day(21)) == 2  # again, at the interval
    db.session.commit()
    send_pending(db.session, on_day(21))

    subjects = [m["Subject"] for m in smtp_server.received_by("assigned@example.org")]
    assert subjects == ["I. Primerov in transit for 14 days, no destination recorded",
                        "I. Primerov in transit for 21 days, no destination recorded"]
    assert len(smtp_server.received_by(editor.email)) == 2
    assert smtp_server.received_by("elsewhere@example.org") == []
    first = smtp_server.received_by("assigned@example.org")[0]
    body = first.get_body(preferencelist=("plain",)).get_content()
    assert "Ivan Primerov has been in transit since Mar 2, 2026 (14 days), whereabouts unknown" in body
    assert "Last known place: SIZO-1, Moscow." in body
    assert f"http://tracker.test/edit/defendants/{person.id}/transfer" in body
    assert "You will be told again in 7 days" in body
    assert "Mother calls" not in body  # internal notes stay in the tracker

    # a destination is recorded on day 25: no alert on day 28 or ever after
    services.record_transfer(db.session, person, {"facility": "IK-2, Vladimir region",
                                                  "since": TAKEN + timedelta(days=25)},
                             expected_version=None, by=editor, now=on_day(25))
    db.session.commit()
    assert enqueue_transit_alerts(db.session, on_day(28)) == 0
    assert enqueue_transit_alerts(db.session, on_day(60)) == 0
    assert len(outbox("transit_alert")) == 4


def test_the_interval_and_threshold_are_settings(app, in_transit):
    app.config.update(TRANSIT_ALERT_DAYS=3, TRANSIT_ALERT_REPEAT_DAYS=2)
    try:
        assert enqueue_transit_alerts(db.session, on_day(2)) == 0
        assert enqueue_transit_alerts(db.session, on_day(3)) == 2
        assert enqueue_transit_alerts(db.session, on_day(4)) == 0
        assert enqueue_transit_alerts(db.session, on_day(5)) == 2
    finally:
        app.config.update(TRANSIT_ALERT_DAYS=14, TRANSIT_ALERT_REPEAT_DAYS=7)


def test_a_hidden_prisoner_in_transit_is_told_only_to_those_who_may_edit_them(app, in_transit, smtp_server):
    in_transit["person"].is_public = False
    db.session.commit()
    assert enqueue_transit_alerts(db.session, on_day(14)) == 2
    db.session.commit()
    send_pending(db.session, on_day(14))
    assert len(smtp_server.received_by("assigned@example.org")) == 1
    assert smtp_server.received_by("elsewhere@example.org") == []


def test_the_scheduler_plans_transit_alerts_with_the_other_mail(app, in_transit):
    failed = plan_mail(app, on_day(14))
    assert failed == []
    assert len(outbox("transit_alert")) == 2


def test_the_private_feed_shows_the_transit_until_a_destination_is_recorded(client, in_transit, editor, now):
    person = in_transit["person"]
    editor.feed_token = "t" * 40
    db.session.commit()
    parsed = Parsed(client.get(f"/feeds/private/{editor.feed_token}.ics").data)
    start = parsed.event(f"transit-{person.placements[-1].id}@tracker.test")
    alert = parsed.event(f"transit-alert-{person.placements[-1].id}@tracker.test")
    assert start.decoded("dtstart") == TAKEN and start.decoded("dtend") == TAKEN + timedelta(days=1)
    assert alert.decoded("dtstart") == TAKEN + timedelta(days=14)
    assert str(start["SUMMARY"]) == "In transit: Ivan Primerov, whereabouts unknown"
    assert str(alert["SUMMARY"]) == "Still in transit: Ivan Primerov, no destination recorded"
    assert "Mother calls the FSIN hotline." in str(alert["DESCRIPTION"])  # the private feed is for editors
    strict = parsed.strict_event(f"transit-alert-{person.placements[-1].id}@tracker.test")
    assert strict.begin.date() == TAKEN + timedelta(days=14) and strict.all_day
    assert str(start["URL"]) == f"http://tracker.test/edit/defendants/{person.id}/transfer"

    # an editor of another case does not see it
    elsewhere = in_transit["elsewhere"]
    elsewhere.feed_token = "e" * 40
    db.session.commit()
    assert b"transit-" not in client.get(f"/feeds/private/{elsewhere.feed_token}.ics").data

    services.record_transfer(db.session, person, {"facility": "IK-2", "since": TAKEN + timedelta(days=20)},
                             expected_version=None, by=editor, now=now)
    db.session.commit()
    assert not [uid for uid in Parsed(client.get(f"/feeds/private/{editor.feed_token}.ics").data).uids
                if uid.startswith("transit")]


def test_the_dashboard_lists_prisoners_in_transit(app, in_transit, editor):
    client = new_client(app)
    with time_machine.travel(on_day(15), tick=False):
        assert log_in(client, in_transit["assigned"].email).status_code == 302
        page = html.unescape(client.get("/edit/").get_data(as_text=True))
    assert "In transit, whereabouts unknown" in page
    assert "Ivan Primerov</a>\n  · since Mar 2, 2026 (15 days) · <span class=\"badge\">editors alerted</span>" in page
    other = new_client(app)
    assert log_in(other, "elsewhere@example.org").status_code == 302
    assert "Ivan Primerov" not in other.get("/edit/").get_data(as_text=True)
