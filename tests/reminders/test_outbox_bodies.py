"""Each outbox message's body is stored once, in its own row: read back as composed, gone with its message."""
from __future__ import annotations

from datetime import timedelta

import sqlalchemy as sa

from tests.reminders.helpers import outbox
from tracker.extensions import db
from tracker.mail.models import OutboxBody, OutboxMessage
from tracker.mail.outbox import enqueue_email
from tracker.reminders.due import enqueue_due
from tracker.reminders.subscriptions import unsubscribe


def test_the_text_and_html_are_read_back_from_the_message_as_composed(app, now):
    text, html = "Привет,\nthe hearing is tomorrow.\n", "<p>Привет, the hearing is <b>tomorrow</b>.</p>\n"
    enqueue_email(db.session, dedupe_key="k", kind="test", recipient="v@example.org", subject="s",
                  text_body=text, html_body=html, now=now)
    enqueue_email(db.session, dedupe_key="plain", kind="test", recipient="w@example.org", subject="s",
                  text_body="Only text.\n", now=now)
    db.session.commit()
    db.session.expire_all()
    both, plain = outbox()
    assert (both.text_body, both.html_body) == (text, html)
    assert (plain.text_body, plain.html_body) == ("Only text.\n", None)
    stored = db.session.execute(sa.select(OutboxBody.raw, OutboxBody.text_body, OutboxBody.html_body)
                                .order_by(OutboxBody.outbox_id)).all()
    assert [(raw is not None, t, h) for raw, t, h in stored] == [(True, None, None)] * 2  # the bytes alone
    assert db.session.scalar(sa.select(OutboxMessage.raw).where(OutboxMessage.id == both.id)) == stored[0].raw


def test_a_volunteer_who_leaves_takes_the_bodies_along(app, now, make_hearing, make_subscription):
    """The body holds the address: unsubscribing removes it with the message (SQLite's foreign keys are off)."""
    make_hearing(starts_at=now + timedelta(hours=2))
    subscription = make_subscription()
    enqueue_due(db.session, now)
    db.session.commit()
    [reminder] = outbox("reminder")
    assert subscription.email.encode() in db.session.scalar(sa.select(OutboxBody.raw).where(
        OutboxBody.outbox_id == reminder.id))
    unsubscribe(db.session, subscription)
    db.session.commit()
    assert outbox() == []
    assert db.session.scalar(sa.select(sa.func.count()).select_from(OutboxBody)) == 0
