"""The weekly digest and the lawyers' deadline alerts."""
from __future__ import annotations

from datetime import date, datetime, timedelta, timezone

from tests.reminders.helpers import outbox
from tracker.auth.models import Role
from tracker.extensions import db
from tracker.records.models import HearingStatus, MeasureKind
from tracker.editing.alerts import enqueue_deadline_alerts
from tracker.reminders.digest import enqueue_digests
from tracker.reminders.due import due_reminders
from tracker.reminders.models import Scope
from tracker.mail.sending import send_pending

MONDAY_8 = datetime(2026, 3, 2, 5, 0, tzinfo=timezone.utc)  # Monday 08:00 in Moscow


def test_the_weekly_digest_lists_the_coming_week_once(now, make_hearing, make_defendant, make_subscription,
                                                       smtp_server):
    person, other = make_defendant(name_latin="Anna Obraztsova"), make_defendant()
    make_hearing(starts_at=MONDAY_8 + timedelta(days=1), defendants=[person])
    make_hearing(starts_at=MONDAY_8 + timedelta(days=3), defendants=[person])
    make_hearing(starts_at=MONDAY_8 + timedelta(days=2), defendants=[other])
    make_hearing(starts_at=MONDAY_8 + timedelta(days=9), defendants=[person])  # next week
    make_hearing(starts_at=MONDAY_8 + timedelta(days=2), defendants=[person], status=HearingStatus.CANCELLED)
    digest = make_subscription(scope=Scope.DEFENDANT, defendant=person, digest=True)
    per_hearing = make_subscription(scope=Scope.DEFENDANT, defendant=person)
    db.session.commit()

    sunday = MONDAY_8 - timedelta(days=1)
    assert enqueue_digests(db.session, sunday) == 0  # last week's digest: none of these hearings
    assert enqueue_digests(db.session, MONDAY_8) == 1
    assert enqueue_digests(db.session, MONDAY_8 + timedelta(hours=5)) == 0
    db.session.commit()
    send_pending(db.session, MONDAY_8)
    [mail] = smtp_server.received_by(digest.email)
    assert mail["Subject"] == "This week's hearings, Mar 2 – 8: 2"
    text = mail.get_body(preferencelist=("plain",)).get_content()
    assert text.count("Anna Obraztsova (") == 2
    assert smtp_server.received_by(per_hearing.email) == []
    assert len(outbox("digest")) == 1
    # the next Monday: a new digest
    assert enqueue_digests(db.session, MONDAY_8 + timedelta(days=7)) == 1


def test_digest_subscribers_get_no_per_hearing_reminders(now, make_hearing, make_subscription):
    make_hearing(starts_at=now + timedelta(hours=2))
    make_subscription(digest=True)
    assert due_reminders(db.session, now) == []


def test_editors_are_warned_before_custody_runs_out_with_no_hearing(app, now, make_defendant, make_measure,
                                                                    make_case, make_user, make_hearing, smtp_server):
    case, other_case = make_case(), make_case()
    person = make_defendant(name_latin="Ivan Primerov")
    case.defendants.append(person)
    today = date(2026, 3, 2)
    make_measure(person, starts_on=date(2025, 12, 1), until=today + timedelta(days=7))
    assigned = make_user("assigned@example.org", cases=[case])
    make_user("elsewhere@example.org", cases=[other_case])
    everywhere = make_user("everywhere@example.org")
    db.session.commit()

    assert enqueue_deadline_alerts(db.session, now - timedelta(days=1)) == 0  # 8 days before: not yet
    assert enqueue_deadline_alerts(db.session, now) == 2  # 7 days before
    assert enqueue_deadline_alerts(db.session, now + timedelta(hours=3)) == 0
    assert enqueue_deadline_alerts(db.session, now + timedelta(days=5)) == 2  # 2 days before
    db.session.commit()
    send_pending(db.session, now + timedelta(days=5))
    subjects = [m["Subject"] for m in smtp_server.received_by(assigned.email)]
    assert subjects == [
        "Pre-trial detention of I. Primerov ends in 7 days (Mon, Mar 9, 2026), no hearing scheduled",
        "Pre-trial detention of I. Primerov ends in 2 days (Mon, Mar 9, 2026), no hearing scheduled",
    ]
    assert len(smtp_server.received_by(everywhere.email)) == 2
    assert smtp_server.received_by("elsewhere@example.org") == []


def test_no_alert_when_a_hearing_on_it_is_scheduled(now, make_defendant, make_measure, make_user, make_hearing):
    person = make_defendant()
    make_measure(person, starts_on=date(2025, 12, 1), until=date(2026, 3, 9))
    make_hearing(starts_at=now + timedelta(days=5), defendants=[person])
    make_user("editor@example.org")
    db.session.commit()
    assert enqueue_deadline_alerts(db.session, now) == 0


def test_a_released_or_extended_measure_is_not_alerted(now, make_defendant, make_measure, make_user):
    person = make_defendant()
    first = make_measure(person, starts_on=date(2025, 12, 1), until=date(2026, 3, 9))
    make_measure(person, starts_on=date(2026, 3, 1), until=date(2026, 6, 9), extends=first)
    freed = make_defendant()
    make_measure(freed, kind=MeasureKind.RELEASED, starts_on=date(2026, 3, 1), until=date(2026, 3, 5))
    make_user("editor@example.org", role=Role.EDITOR)
    db.session.commit()
    assert enqueue_deadline_alerts(db.session, now) == 0


def test_no_alert_for_a_detention_a_sentence_replaced(now, make_defendant, make_measure, make_decision, make_user):
    """Sentenced a week before the detention's end: that end is no deadline any more."""
    person = make_defendant()
    make_measure(person, starts_on=date(2025, 12, 1), until=date(2026, 3, 9))
    make_decision(person, decided_on=date(2026, 2, 24), term_years=3)
    make_user("editor@example.org", role=Role.EDITOR)
    db.session.commit()
    assert enqueue_deadline_alerts(db.session, now) == 0
