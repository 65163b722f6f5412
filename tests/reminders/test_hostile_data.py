"""Stored data an editor typed long ago, or a bad setting, cannot stop the mail or forge a header.

A court named "X\\r\\nX-Injected: yes" made the planning job fail every run, so no
reminder, digest or alert went out for anyone; "\\r\\nReply-To : ..." put a Reply-To
into real mail (issue 8, item 4). The rows here are written directly, as data saved
before forms refused such names would be.
"""
from __future__ import annotations

import logging
from datetime import date, timedelta

import pytest

from scheduler.jobs import plan_mail, send_mail
from tests.reminders.helpers import outbox
from tracker.extensions import db
from tracker.mail.message import UnsafeHeader, compose
from tracker.reminders.models import Scope

# What a reminder with its calendar carries, in this order of importance: nothing more, nothing less.
REMINDER_HEADERS = {
    "Content-Type", "MIME-Version", "From", "To", "Subject", "Date", "Message-ID", "Auto-Submitted",
    "List-Unsubscribe", "List-Unsubscribe-Post",
}


@pytest.mark.parametrize("court_name", [
    "Court X\r\nX-Injected: yes",
    "Court X\r\nReply-To : attacker@evil.example",
    "Court X\nReply-To: attacker@evil.example",
    "Суд X\r\nReply-To: attacker@evil.example",
    "Court X\rBcc: attacker@evil.example",
])
def test_a_court_name_with_a_line_break_cannot_add_a_header(app, now, smtp_server, make_court, make_hearing,
                                                            make_subscription, court_name):
    court = make_court(name=court_name)
    make_hearing(court=court, starts_at=now + timedelta(hours=10))
    volunteer = make_subscription(leads=(1440,))
    db.session.commit()

    assert plan_mail(app, now) == []
    send_mail(app, now)

    [message] = smtp_server.received_by(volunteer.email)
    assert set(message.keys()) == REMINDER_HEADERS
    assert message.defects == []
    assert "Reply-To" not in message and "X-Injected" not in message and "Bcc" not in message
    assert message["Date"] and message["Message-ID"] == outbox("reminder")[0].message_id
    assert message["List-Unsubscribe"].startswith("<http://tracker.test/reminders/unsubscribe/")
    subject = message["Subject"]
    assert "\n" not in subject and "\r" not in subject
    assert " ".join(court_name.split()) in subject  # the name as text, on one line


def test_addresses_ids_and_links_with_a_line_break_are_refused(now):
    good = dict(message_id="<a@tracker.test>", sender="Tracker <noreply@tracker.test>",
                recipient="v@example.org", subject="s", text_body="t", html_body=None, date=now,
                unsubscribe_url="http://tracker.test/u")
    compose(**good)
    for name, value in [("sender", "Tracker\r\nBcc: x@evil.example <noreply@tracker.test>"),
                        ("recipient", "v@example.org\r\nBcc: x@evil.example"),
                        ("message_id", "<a@tracker.test>\r\nBcc: x@evil.example"),
                        ("sender", '"Tracker\r\nBcc: x@evil.example" <noreply@tracker.test>'),
                        ("unsubscribe_url", "http://tracker.test/u>\r\nBcc: x@evil.example")]:
        with pytest.raises(UnsafeHeader):
            compose(**{**good, name: value})


def test_one_hearing_that_cannot_be_composed_does_not_stop_the_others(app, now, smtp_server, make_court,
                                                                      make_hearing, make_subscription, caplog):
    """A court whose time zone no longer exists (tzdata dropped it, or saved before zones were checked)."""
    lost = make_court(name="Lost court", timezone="Mars/Olympus_Mons")
    fine = make_court(name="Fine court")
    broken = make_hearing(court=lost, starts_at=now + timedelta(hours=10))
    good = make_hearing(court=fine, starts_at=now + timedelta(hours=11))
    followers = [make_subscription(leads=(1440,)) for _ in range(3)]
    db.session.commit()

    with caplog.at_level(logging.ERROR):
        assert plan_mail(app, now) == []
    send_mail(app, now)

    for volunteer in followers:
        [message] = smtp_server.received_by(volunteer.email)
        assert "Fine court" in message["Subject"]
    assert len(outbox("reminder")) == 3
    assert f"the reminders of hearing {broken.id}" in caplog.text
    assert str(good.id) not in caplog.text.split("skipped", 1)[-1].split("\n")[0]

    # fixed, the skipped reminders go out at the next run
    lost.timezone = "Europe/Moscow"
    db.session.commit()
    plan_mail(app, now)
    send_mail(app, now)
    assert all(len(smtp_server.received_by(v.email)) == 2 for v in followers)


def test_a_step_that_fails_does_not_stop_the_steps_after_it(app, now, smtp_server, make_case, make_defendant,
                                                            make_measure, make_hearing, make_subscription, caplog):
    from tests.auth.support import PASSWORD
    from tracker.auth import logic as auth_logic

    case = make_case()
    person = make_defendant(cases=[case])
    make_measure(person, starts_on=date(2025, 12, 1), until=date(2026, 3, 9))  # lapses in 7 days
    make_hearing(starts_at=now + timedelta(hours=10))
    volunteer = make_subscription(leads=(1440,))
    make_subscription(scope=Scope.ALL, digest=True)
    auth_logic.create_user(db.session, "lawyer@example.org", password=PASSWORD, now=now)
    db.session.commit()

    saved = app.config["DIGEST_HOUR"]
    app.config["DIGEST_HOUR"] = 25  # a bad setting: the digest step fails as a whole
    try:
        with caplog.at_level(logging.ERROR):
            assert plan_mail(app, now) == ["enqueue_digests"]
    finally:
        app.config["DIGEST_HOUR"] = saved
    assert "enqueue_digests failed" in caplog.text
    assert len(outbox("reminder")) == 1  # the step before it
    assert len(outbox("deadline_alert")) == 1  # and the step after it
    assert outbox("digest") == []
    send_mail(app, now)
    assert len(smtp_server.received_by(volunteer.email)) == 1
    assert len(smtp_server.received_by("lawyer@example.org")) == 1
