"""Postponements, moves and cancellations reach followers; no reminder goes out for an old time.

Hearings are changed through the editing services, as editors change them.
"""
from __future__ import annotations

from datetime import timedelta

import pytest

from tests.reminders.helpers import minutes, outbox
from tracker.editing import services
from tracker.extensions import db
from tracker.reminders.changes import notify_hearing_changes
from tracker.reminders.due import enqueue_due
from tracker.reminders.notes import save_practical_notes
from tracker.mail.models import OutboxStatus
from tracker.mail.sending import send_pending


def run_minute(clock):
    """What the scheduler does every minute, in its order."""
    notify_hearing_changes(db.session, clock)
    db.session.commit()
    enqueue_due(db.session, clock)
    db.session.commit()
    return send_pending(db.session, clock)


@pytest.fixture
def followed(now, make_hearing, make_subscription):
    hearing = make_hearing(starts_at=now + timedelta(days=2), courtroom="Room 1")
    volunteer = make_subscription(leads=(1440, 180))
    db.session.commit()
    run_minute(now)  # the change job has seen the hearing as it is
    return hearing, volunteer


def test_a_postponement_sends_the_notice_and_suppresses_the_old_reminder(
    now, followed, editor, smtp_server
):
    hearing, volunteer = followed
    old_start = hearing.starts_at
    # the 1-day reminder is recorded but the mail server is slow: still pending
    day_before = old_start - minutes(1440)
    enqueue_due(db.session, day_before)
    db.session.commit()
    assert [m.status for m in outbox("reminder")] == [OutboxStatus.PENDING]

    services.postpone_hearing(db.session, hearing, old_start + timedelta(days=7), by=editor, now=day_before)
    db.session.commit()
    run_minute(day_before + minutes(1))

    [notice] = smtp_server.received_by(volunteer.email)
    assert notice["Subject"].startswith("Moved to ")
    text = notice.get_body(preferencelist=("plain",)).get_content()
    assert "It was set for Wed, Mar 4, 2026, 12:00 (MSK, Moscow Standard Time)" in text
    assert [m.status for m in outbox("reminder")] == [OutboxStatus.SUPERSEDED]

    # the old time passes: nothing more; the new time's reminder comes at its moment
    for clock in (old_start - minutes(180), old_start + minutes(1)):
        assert run_minute(clock).sent == 0
    new_day_before = hearing.starts_at - minutes(1440)
    assert run_minute(new_day_before).sent == 1
    received = smtp_server.received_by(volunteer.email)
    assert len(received) == 2 and received[1]["Subject"].startswith("Tue 10 Mar") is False
    assert "hearing of" in received[1]["Subject"]
    assert run_minute(new_day_before + minutes(1)).sent == 0


def test_the_change_job_is_idempotent(now, followed, editor, smtp_server):
    hearing, volunteer = followed
    services.postpone_hearing(db.session, hearing, hearing.starts_at + timedelta(days=1), by=editor, now=now)
    db.session.commit()
    for i in range(3):
        notify_hearing_changes(db.session, now + minutes(i))
        db.session.commit()
    assert len(outbox("hearing_change")) == 1


def test_a_hearing_moved_earlier_past_an_unfired_lead_time_gets_that_reminder_at_once(
    now, followed, editor, smtp_server
):
    hearing, volunteer = followed  # in 2 days; the 1-day reminder has not fired
    services.postpone_hearing(db.session, hearing, now + timedelta(hours=20), by=editor, now=now)
    db.session.commit()
    report = run_minute(now + minutes(1))
    [mail] = smtp_server.received_by(volunteer.email)  # the notice is the reminder: one message
    assert report.sent == 1
    assert mail["Subject"].startswith("Moved to Tomorrow ")
    assert "also your reminder" in mail.get_body(preferencelist=("plain",)).get_content()
    assert run_minute(now + minutes(2)).sent == 0


def _text(mail) -> str:
    return mail.get_body(preferencelist=("plain",)).get_content()


def test_a_move_close_to_the_reminder_time_sends_one_message_that_says_both(
    now, followed, editor, smtp_server, make_subscription
):
    """The issue's case: "Moved to ..." and a full reminder for the new time went out in the same second."""
    hearing, volunteer = followed
    second = make_subscription(leads=(1440,))
    reader = make_subscription(digest=True)  # no reminders: the notice only
    save_practical_notes(db.session, "Bring your passport.")
    db.session.commit()
    old_start = hearing.starts_at
    clock = now + timedelta(hours=1)
    new_start = clock + timedelta(hours=20)  # the 1-day reminder for the new time is due at once
    services.postpone_hearing(db.session, hearing, new_start, by=editor, now=clock)
    db.session.commit()
    run_minute(clock + minutes(1))

    for follower in (volunteer, second):
        [mail] = smtp_server.received_by(follower.email)
        local = hearing.local_start
        assert mail["Subject"] == f"Moved to Tomorrow {local:%H:%M}: hearing of D. 1, {hearing.court.name}"
        text = _text(mail)
        assert "It was set for Wed, Mar 4, 2026, 12:00 (MSK, Moscow Standard Time)" in text
        assert f"Tue, Mar 3, 2026, {local:%H:%M} (MSK, Moscow Standard Time)" in text and hearing.court.address in text
        assert "Bring your passport." in text and "also your reminder" in text
        assert [part.get_content_type() for part in mail.iter_attachments()] == ["text/calendar"]
    [notice] = smtp_server.received_by(reader.email)
    assert notice["Subject"].startswith("Moved to ") and "also your reminder" not in _text(notice)

    # the 1-day reminder is not sent again; the 3-hour one comes at its moment, once
    for clock in (clock + minutes(2), new_start - minutes(1440), new_start - minutes(181)):
        assert run_minute(clock).sent == 0
    assert run_minute(new_start - minutes(180)).sent == 1
    assert len(smtp_server.received_by(volunteer.email)) == 2
    assert len(smtp_server.received_by(second.email)) == 1


def test_a_reminder_due_soon_after_the_move_travels_with_the_notice(now, followed, editor, smtp_server):
    hearing, volunteer = followed
    clock = now + timedelta(hours=1)
    new_start = clock + minutes(1440 + 20)  # the 1-day reminder would fall due 20 minutes after the notice
    services.postpone_hearing(db.session, hearing, new_start, by=editor, now=clock)
    db.session.commit()
    run_minute(clock + minutes(1))
    [mail] = smtp_server.received_by(volunteer.email)
    assert "also your reminder" in _text(mail)
    assert run_minute(new_start - minutes(1440)).sent == 0


def test_a_move_well_before_the_reminder_time_sends_the_notice_then_the_reminder(
    now, followed, editor, smtp_server
):
    hearing, volunteer = followed
    clock = now + timedelta(hours=1)
    new_start = clock + minutes(1440 + 45)  # beyond the 30 minutes: two messages, 45 minutes apart
    services.postpone_hearing(db.session, hearing, new_start, by=editor, now=clock)
    db.session.commit()
    run_minute(clock + minutes(1))
    [notice] = smtp_server.received_by(volunteer.email)
    assert notice["Subject"].startswith("Moved to ") and "also your reminder" not in _text(notice)
    assert run_minute(new_start - minutes(1440)).sent == 1


def test_a_cancellation_sends_the_notice_and_nothing_else(now, followed, editor, smtp_server):
    hearing, volunteer = followed
    services.cancel_hearing(db.session, hearing, "The judge is ill.", by=editor, now=now)
    db.session.commit()
    clock = now + minutes(1)
    while clock < hearing.starts_at + timedelta(hours=1):
        run_minute(clock)
        clock += timedelta(hours=1)
    [notice] = smtp_server.received_by(volunteer.email)
    assert notice["Subject"].startswith("Cancelled: hearing of")
    assert "The judge is ill." in notice.get_body(preferencelist=("plain",)).get_content()
    assert outbox("reminder") == []


def test_postponed_without_a_date_then_given_one(now, followed, editor, smtp_server):
    hearing, volunteer = followed
    services.postpone_hearing(db.session, hearing, None, by=editor, now=now)
    db.session.commit()
    run_minute(now + minutes(1))
    services.postpone_hearing(db.session, hearing, now + timedelta(days=10), by=editor, now=now + minutes(2))
    db.session.commit()
    run_minute(now + minutes(3))
    subjects = [m["Subject"] for m in smtp_server.received_by(volunteer.email)]
    assert subjects[0].startswith("Postponed, no new date yet")
    assert subjects[1].startswith("Moved to ")
    assert len(subjects) == 2


def test_an_edit_that_does_not_move_the_hearing_repeats_nothing(now, followed, editor, smtp_server):
    hearing, volunteer = followed
    day_before = hearing.starts_at - minutes(1440)
    assert run_minute(day_before).sent == 1
    data = services.HearingData(
        court=hearing.court, starts_at=hearing.starts_at, defendants=list(hearing.defendants),
        values={"judge": "A new judge"},
    )
    services.update_hearing(db.session, hearing, data, expected_version=hearing.version, by=editor, now=day_before)
    db.session.commit()
    assert run_minute(day_before + minutes(1)).sent == 0
    assert len(smtp_server.received_by(volunteer.email)) == 1
