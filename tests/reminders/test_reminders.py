"""Due reminders: recorded once, sent once, grouped by day and court, with the right content."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

import sqlalchemy as sa
import pytest
from icalendar import Calendar
from sqlalchemy.exc import IntegrityError

from tests.reminders.helpers import minutes, outbox
from tracker.extensions import db
from tracker.mail.addresses import InvalidEmail, normalise_email
from tracker.records.models import Court, HearingStatus, SiteSetting
from tracker.reminders.due import due_reminders, enqueue_due, record_missed
from tracker.mail.models import OutboxStatus
from tracker.reminders.models import ReminderDelivery, Scope
from tracker.mail.sending import send_pending


@pytest.fixture
def moscow_court(make_court):
    return make_court(name="Moscow City Court", address="Bogorodsky Val, 8, Moscow", timezone="Europe/Moscow")


def test_nothing_is_due_before_the_lead_time(now, make_hearing, make_subscription, moscow_court):
    hearing = make_hearing(starts_at=now + timedelta(days=2), court=moscow_court)
    make_subscription()
    assert due_reminders(db.session, now) == []
    due = due_reminders(db.session, hearing.starts_at - minutes(1440))
    assert [(d.hearing.id, d.lead_minutes) for d in due] == [(hearing.id, 1440)]


def test_each_due_reminder_is_received_once(app, now, make_hearing, make_defendant, make_subscription,
                                            smtp_server, moscow_court):
    luzyanin = make_defendant(name_latin="Maksim Luzyanin", name_original="Максим Лузянин", slug="luzyanin")
    hearing = make_hearing(starts_at=now + timedelta(days=1), court=moscow_court, defendants=[luzyanin],
                           courtroom="Room 635")
    volunteers = [make_subscription() for _ in range(3)]
    db.session.add(SiteSetting(key="hearing_notes", value="Arrive 30 minutes early and bring ID."))
    db.session.commit()

    clock = now
    for _ in range(3):  # the jobs run every minute: running them again changes nothing
        enqueue_due(db.session, clock)
        db.session.commit()
        send_pending(db.session, clock)
        clock += minutes(1)
    for volunteer in volunteers:
        received = smtp_server.received_by(volunteer.email)
        assert len(received) == 1
        assert received[0]["Subject"] == "Tomorrow 12:00: hearing of M. Luzyanin, Moscow City Court"
    assert {m["Message-ID"] for m in smtp_server.messages} == {m.message_id for m in outbox("reminder")}
    assert all(m.status is OutboxStatus.SENT for m in outbox("reminder"))

    # Three hours before: the second lead time, once more each.
    later = hearing.starts_at - minutes(180)
    for _ in range(2):
        enqueue_due(db.session, later)
        db.session.commit()
        send_pending(db.session, later)
    for volunteer in volunteers:
        subjects = [m["Subject"] for m in smtp_server.received_by(volunteer.email)]
        assert subjects == [
            "Tomorrow 12:00: hearing of M. Luzyanin, Moscow City Court",
            "Today 12:00: hearing of M. Luzyanin, Moscow City Court",
        ]


def test_the_unique_key_refuses_a_second_record(now, make_hearing, make_subscription):
    hearing = make_hearing(starts_at=now + timedelta(hours=2))
    subscription = make_subscription()
    enqueue_due(db.session, now)
    db.session.commit()
    delivery = db.session.scalar(sa.select(ReminderDelivery))
    db.session.add(ReminderDelivery(
        subscription_id=subscription.id, hearing_id=hearing.id, lead_minutes=delivery.lead_minutes,
        hearing_version=hearing.version, hearing_starts_at=hearing.starts_at, outbox_id=delivery.outbox_id,
    ))
    with pytest.raises(IntegrityError):
        db.session.commit()
    db.session.rollback()


def test_the_message_says_it_all(app, now, make_hearing, make_defendant, make_subscription, smtp_server,
                                 moscow_court, monkeypatch):
    monkeypatch.setitem(app.config, "BASE_URL", "https://tracker.example.org")
    luzyanin = make_defendant(name_latin="Maksim Luzyanin", name_original="Максим Лузянин", slug="luzyanin")
    hearing = make_hearing(starts_at=datetime(2026, 3, 3, 7, 0, tzinfo=timezone.utc), court=moscow_court,
                           defendants=[luzyanin], courtroom="Room 635", judge="Judge Nikishina")
    volunteer = make_subscription(scope=Scope.DEFENDANT, defendant=luzyanin)
    db.session.add(SiteSetting(key="hearing_notes", value="Arrive 30 minutes early and bring ID."))
    db.session.commit()

    enqueue_due(db.session, now)
    db.session.commit()
    send_pending(db.session, now)
    [message] = smtp_server.received_by(volunteer.email)

    assert message["Subject"] == "Tomorrow 10:00: hearing of M. Luzyanin, Moscow City Court"
    assert message["Message-ID"].endswith("@tracker.example.org>")
    assert message["Date"] is not None
    assert message["To"] == volunteer.email
    assert message["List-Unsubscribe"] == f"<https://tracker.example.org/reminders/unsubscribe/{volunteer.token}>"
    assert message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    text = message.get_body(preferencelist=("plain",)).get_content()
    html = message.get_body(preferencelist=("html",)).get_content()
    for body in (text, html):
        assert "Tue, Mar 3, 2026, 10:00 (MSK, Moscow Standard Time)" in body
        assert "Moscow City Court" in body and "Bogorodsky Val, 8, Moscow" in body
        assert "Room 635" in body
        assert "Arrive 30 minutes early and bring ID." in body
        assert "https://tracker.example.org/defendants/luzyanin" in body
        assert f"https://tracker.example.org/reminders/manage/{volunteer.token}" in body
    [attachment] = list(message.iter_attachments())
    assert attachment.get_content_type() == "text/calendar"
    assert attachment.get_param("method") == "PUBLISH"
    calendar = Calendar.from_ical(attachment.get_content())
    assert calendar["METHOD"] == "PUBLISH"
    [event] = calendar.walk("VEVENT")
    from tracker.feeds.calendars import event_bytes

    [feed_event] = Calendar.from_ical(
        b"BEGIN:VCALENDAR\r\n" + event_bytes(hearing, app.config["BASE_URL"]) + b"END:VCALENDAR\r\n"
    ).walk("VEVENT")
    assert str(event["UID"]) == str(feed_event["UID"]) == f"hearing-{hearing.id}@tracker.example.org"
    assert int(event["SEQUENCE"]) == int(feed_event["SEQUENCE"])
    assert event.decoded("DTSTART") == hearing.starts_at
    # the address appears nowhere but in the envelope and the To header
    assert volunteer.email not in text and volunteer.email not in html


def test_same_day_same_court_hearings_travel_together(now, make_hearing, make_defendant, make_subscription,
                                                     smtp_server, moscow_court, make_court):
    people = [make_defendant() for _ in range(5)]
    day = datetime(2026, 3, 3, 7, 0, tzinfo=timezone.utc)  # 10:00 in Moscow, tomorrow
    for i, person in enumerate(people):
        make_hearing(starts_at=day + timedelta(hours=i), court=moscow_court, defendants=[person])
    other_court = make_court(name="Basmanny District Court")
    make_hearing(starts_at=day, court=other_court, defendants=[people[0]])
    volunteer = make_subscription()
    db.session.commit()

    enqueue_due(db.session, now)  # 24 h before the first one
    db.session.commit()
    send_pending(db.session, now)
    subjects = sorted(str(m["Subject"]) for m in smtp_server.received_by(volunteer.email))
    assert subjects == [
        "Tomorrow 10:00, 11:00, 12:00, 13:00, 14:00: 5 hearings of D. 1, D. 2, D. 3, D. 4, D. 5, Moscow City Court",
        "Tomorrow 10:00: hearing of D. 1, Basmanny District Court",
    ]
    grouped = [m for m in smtp_server.received_by(volunteer.email) if "5 hearings" in m["Subject"]][0]
    assert len(list(grouped.iter_attachments())) == 5
    # the later ones' own "1 day before" moments pass without another message
    for hours in range(1, 5):
        enqueue_due(db.session, now + timedelta(hours=hours))
        db.session.commit()
    assert len(outbox("reminder")) == 2


def test_a_late_sign_up_gets_one_reminder_not_three(now, make_hearing, make_subscription):
    make_hearing(starts_at=now + timedelta(hours=2))
    make_subscription(leads=(10080, 1440, 180))
    due = due_reminders(db.session, now)
    assert [d.lead_minutes for d in due] == [180]


def test_reminders_follow_the_scope(now, make_hearing, make_defendant, make_case, make_subscription):
    case = make_case()
    in_case, other, hidden = make_defendant(), make_defendant(), make_defendant(is_public=False)
    case.defendants.append(in_case)
    h_case = make_hearing(starts_at=now + timedelta(hours=1), defendants=[in_case])
    h_other = make_hearing(starts_at=now + timedelta(hours=1), defendants=[other])
    make_hearing(starts_at=now + timedelta(hours=1), defendants=[hidden])
    by_case = make_subscription(scope=Scope.CASE, case=case)
    by_person = make_subscription(scope=Scope.DEFENDANT, defendant=other)
    everything = make_subscription()
    make_subscription(confirmed=False)
    make_subscription(digest=True)
    due = {(d.subscription.id, d.hearing.id) for d in due_reminders(db.session, now)}
    assert due == {
        (by_case.id, h_case.id), (by_person.id, h_other.id),
        (everything.id, h_case.id), (everything.id, h_other.id),
    }


def test_one_address_following_twice_gets_one_reminder(now, make_hearing, make_defendant, make_subscription):
    person = make_defendant()
    make_hearing(starts_at=now + timedelta(hours=1), defendants=[person])
    make_subscription(email="twice@example.org")
    make_subscription(email="twice@example.org", scope=Scope.DEFENDANT, defendant=person)
    assert len(due_reminders(db.session, now)) == 1


def test_a_reminder_is_missed_when_the_hearing_started_first(now, make_hearing, make_subscription, smtp_server):
    hearing = make_hearing(starts_at=now + timedelta(hours=2))
    make_subscription(leads=(180,))
    enqueue_due(db.session, now)
    db.session.commit()
    # the scheduler was down until after the start: the pending reminder is not sent
    report = send_pending(db.session, hearing.starts_at + minutes(5))
    assert report.sent == 0 and report.missed == 1
    assert [m.status for m in outbox("reminder")] == [OutboxStatus.MISSED]
    assert smtp_server.messages == []


def test_a_reminder_never_recorded_before_the_start_is_recorded_as_missed(now, make_hearing, make_subscription):
    hearing = make_hearing(starts_at=now + timedelta(hours=2))
    make_subscription(leads=(180,))
    db.session.commit()
    after = hearing.starts_at + minutes(30)  # the scheduler was down the whole time
    assert enqueue_due(db.session, after) == 0
    assert record_missed(db.session, after) == 1
    assert record_missed(db.session, after) == 0
    db.session.commit()
    assert [m.status for m in outbox("reminder")] == [OutboxStatus.MISSED]


def test_a_reminder_for_a_hearing_not_started_is_still_sent_late(now, make_hearing, make_subscription, smtp_server):
    hearing = make_hearing(starts_at=now + timedelta(days=1))
    volunteer = make_subscription(leads=(1440,))
    db.session.commit()
    late = hearing.starts_at - minutes(30)  # the scheduler comes back 23.5 hours late
    enqueue_due(db.session, late)
    db.session.commit()
    assert send_pending(db.session, late).sent == 1
    assert len(smtp_server.received_by(volunteer.email)) == 1


def test_non_latin_subjects_and_bodies_survive_the_trip(now, make_hearing, make_court, make_defendant,
                                                        make_subscription, smtp_server):
    court = make_court(name="Мосгорсуд", address="Богородский вал, 8", timezone="Asia/Vladivostok")
    person = make_defendant(name_latin="Мария Макетова", name_original="Мария Макетова")
    make_hearing(starts_at=now + timedelta(hours=2), court=court, defendants=[person])
    volunteer = make_subscription(email=normalise_email("volunteer@пример.рф"))
    assert volunteer.email == "volunteer@xn--e1afmkfd.xn--p1ai"
    enqueue_due(db.session, now)
    db.session.commit()
    assert send_pending(db.session, now).sent == 1
    [message] = smtp_server.received_by(volunteer.email)
    assert message["Subject"] == "Today 21:00: hearing of М. Макетова, Мосгорсуд"
    text = message.get_body(preferencelist=("plain",)).get_content()
    assert "Mon, Mar 2, 2026, 21:00 (+10, Vladivostok Standard Time)" in text and "Богородский вал, 8" in text
    assert all(ord(c) < 128 for c in message.as_string().split("\n\n", 1)[0])  # headers are 7-bit on the wire


def test_an_address_that_needs_smtputf8_is_refused_at_sign_up_and_never_blocks_the_outbox(now, smtp_server):
    with pytest.raises(InvalidEmail):
        normalise_email("волонтёр@example.org")
    from tracker.mail.outbox import enqueue_email

    for i, address in enumerate(("волонтёр@example.org", "next@example.org")):  # written by older code, say
        enqueue_email(db.session, dedupe_key=f"x:{i}", kind="test", recipient=address, subject="Hello",
                      text_body="Hello", now=now)
    db.session.commit()
    report = send_pending(db.session, now)
    assert (report.sent, report.failed) == (1, 1)
    assert [m.status for m in outbox()] == [OutboxStatus.FAILED, OutboxStatus.SENT]
    assert "SMTPUTF8" in outbox()[0].last_error
