"""Editors' weekly list of facts that can no longer be true: by mail (once a week, only what they may
edit) and on their dashboard."""
from __future__ import annotations

import html
from datetime import date, datetime, timedelta, timezone

import pytest
import time_machine

from scheduler.jobs import plan_mail
from tests.auth.support import log_in, new_client
from tests.reminders.helpers import outbox
from tracker.editing.stale_list import enqueue_stale_lists
from tracker.extensions import db
from tracker.mail.models import OutboxMessage
from tracker.mail.sending import send_pending
from tracker.records.enums import DefendantStatus

MONDAY_8 = datetime(2026, 3, 2, 5, 0, tzinfo=timezone.utc)  # Monday 08:00 in Moscow


@pytest.fixture
def stale(make_case, make_defendant, make_measure, make_decision, make_hearing, make_user, now):
    ours, theirs = make_case(title="Our case"), make_case(title="Their case")
    served = make_defendant(slug="served", name_latin="Pyotr Testov", cases=[ours],
                            status=DefendantStatus.IMPRISONED, internal_notes="PRIVATE-MARKER notes",
                            lawyer_contacts="PRIVATE-MARKER lawyer")
    make_decision(served, decided_on=date(2022, 1, 10), term_years=4)  # release 2026-01-10
    hidden = make_defendant(slug="hidden", name_latin="Hidden Person", cases=[ours], is_public=False)
    make_measure(hidden, starts_on=date(2025, 12, 1), until=date(2026, 2, 26))
    theirs_person = make_defendant(slug="theirs", name_latin="Olga Demova", cases=[theirs])
    hearing = make_hearing(case=theirs, defendants=[theirs_person, hidden], starts_at=now - timedelta(days=5))
    make_measure(theirs_person, starts_on=date(2025, 12, 1), until=date(2026, 5, 1))
    db.session.commit()
    return {
        "hearing": hearing,
        "ours": make_user("ours@example.org", cases=[ours]),
        "theirs": make_user("theirs@example.org", cases=[theirs]),
        "everywhere": make_user("everywhere@example.org"),
        "idle": make_user("idle@example.org", cases=[make_case(title="A quiet case")]),
    }


def test_each_editor_gets_a_weekly_list_of_what_they_may_edit(app, stale, smtp_server):
    # last week's list, not sent yet (a scheduler started on Sunday), goes at once; then nothing until
    # this Monday's hour; then this week's, once
    assert enqueue_stale_lists(db.session, MONDAY_8 - timedelta(days=1)) == 3
    assert enqueue_stale_lists(db.session, MONDAY_8 - timedelta(hours=1, minutes=1)) == 0  # Monday 06:59
    db.session.query(OutboxMessage).delete()  # last week's set aside: this week's is read below
    assert enqueue_stale_lists(db.session, MONDAY_8) == 3  # not the editor with nothing to check
    assert enqueue_stale_lists(db.session, MONDAY_8 + timedelta(days=3)) == 0  # once a week
    db.session.commit()
    send_pending(db.session, MONDAY_8)

    [ours] = smtp_server.received_by("ours@example.org")
    assert ours["Subject"] == "2 facts in the tracker may no longer be true (week of Mar 2, 2026)"
    text = ours.get_body(preferencelist=("plain",)).get_content()
    assert ("- Pyotr Testov: the expected release date (Jan 10, 2026) has passed, but the status still says "
            "serving a sentence.") in text
    assert ("- Hidden Person: pre-trial detention ended on Feb 26, 2026, and no extension, release or hearing "
            "since is recorded.") in text
    assert "http://tracker.test/edit/defendants/" in text

    [theirs] = smtp_server.received_by("theirs@example.org")
    assert theirs["Subject"] == "1 fact in the tracker may no longer be true (week of Mar 2, 2026)"
    text = theirs.get_body(preferencelist=("plain",)).get_content()
    assert "the hearing of Feb 25, 2026 is still marked as scheduled" in text
    assert f"http://tracker.test/edit/hearings/{stale['hearing'].id}" in text
    # the hidden co-defendant of another case is not named to them, nor are our facts
    assert "Hidden Person" not in text and "Pyotr Testov" not in text
    assert len(smtp_server.received_by("everywhere@example.org")) == 1
    assert smtp_server.received_by("idle@example.org") == []
    html_body = smtp_server.received_by("everywhere@example.org")[0].get_body(preferencelist=("html",)).get_content()
    assert "Hidden Person" in html_body and "Olga Demova" in html_body

    # the list says what is wrong and where to correct it; private fields stay in the tracker
    assert not [m for m in smtp_server.messages if "PRIVATE-MARKER" in m.as_string()]

    # next Monday: a new list
    assert enqueue_stale_lists(db.session, MONDAY_8 + timedelta(days=7)) == 3


def test_the_weekly_hour_is_a_setting(app, stale):
    app.config["STALE_FACTS_HOUR"] = 10
    try:
        assert enqueue_stale_lists(db.session, MONDAY_8) == 0
        assert enqueue_stale_lists(db.session, MONDAY_8 + timedelta(hours=2)) == 3
    finally:
        app.config["STALE_FACTS_HOUR"] = 7


def test_the_scheduler_plans_the_weekly_list(app, stale):
    assert plan_mail(app, MONDAY_8) == []
    assert len(outbox("stale_facts")) == 3


def test_the_dashboard_shows_the_list(app, stale, now):
    with time_machine.travel(now, tick=False):
        client = new_client(app)
        assert log_in(client, "ours@example.org").status_code == 302
        page = html.unescape(client.get("/edit/").get_data(as_text=True))
        assert "Facts that may no longer be true" in page
        assert "Pyotr Testov</a>: the expected release date (Jan 10, 2026) has passed" in page
        assert "Hidden Person</a>: pre-trial detention ended on Feb 26, 2026" in page
        assert "still marked as scheduled" not in page  # their hearing: not ours to edit

        idle = new_client(app)
        assert log_in(idle, "idle@example.org").status_code == 302
        page = idle.get("/edit/").get_data(as_text=True)
        assert "Nothing found: every status, measure and hearing can still be true." in page


def test_a_stale_hearings_people_come_in_the_readers_order(app, make_defendant, make_hearing, make_user, now):
    """The dashboard's list names a hearing's people as the reader's script orders them."""
    timur = make_defendant(slug="timur", name_latin="Timur Obraztsov", name_original="Тимур Образцов")
    vera = make_defendant(slug="vera", name_latin="Vera Ustareva", name_original="Вера Устарева")
    make_hearing(defendants=[vera, timur], starts_at=now - timedelta(days=5))  # still "scheduled"
    make_user("everyone@example.org")
    db.session.commit()
    with time_machine.travel(now, tick=False):
        for language, first, second in (("ru", "Вера Устарева", "Тимур Образцов"),
                                        ("en", "Timur Obraztsov", "Vera Ustareva")):
            client = new_client(app)
            client.environ_base["HTTP_ACCEPT_LANGUAGE"] = language
            assert log_in(client, "everyone@example.org").status_code == 302
            page = html.unescape(client.get("/edit/").get_data(as_text=True))
            assert f"{first}, {second}" in page, language
