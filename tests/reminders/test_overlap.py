"""Sending while composing: a sender starts on the first committed chunk of a big batch
(tracker.mail.arriving, enqueue_due(commit_every=...)), and exactly-once still holds."""
from __future__ import annotations

import threading
from collections import Counter
from datetime import timedelta

import sqlalchemy as sa

from tests.scheduler.conftest import wait_for
from tracker.extensions import db
from tracker.mail import arriving
from tracker.mail.models import OutboxMessage, OutboxStatus
from tracker.mail.outbox import enqueue_email
from tracker.mail.sending import send_pending
from tracker.reminders.due import enqueue_due
from tracker.reminders.models import ReminderDelivery


class SenderThread(threading.Thread):
    """`send_pending` on its own thread, app context and session, as the scheduler's send job."""

    def __init__(self, app, now) -> None:  # noqa: ANN001
        super().__init__(daemon=True)
        self.app, self.now, self.report = app, now, None

    def run(self) -> None:
        with self.app.app_context():
            try:
                self.report = send_pending(db.session, self.now)
            finally:
                db.session.remove()


def test_a_sender_waits_for_the_chunks_of_a_writer_at_work_then_stops(app, now, smtp_server):
    with arriving.writing():
        sender = SenderThread(app, now)
        sender.start()
        wait_for(lambda: arriving.waiting() == 1, what="the sender to wait for a chunk")
        assert sender.is_alive()  # an empty outbox did not end its batch: a writer is at work
        for i in range(3):
            enqueue_email(db.session, dedupe_key=f"chunk:{i}", kind="test", recipient=f"v{i}@example.org",
                          subject=f"Message {i}", text_body="Hello", now=now)
        db.session.commit()
        arriving.grew()
        wait_for(lambda: len(smtp_server.messages) == 3, what="the chunk to be sent")
        assert sender.is_alive()  # still waiting: the writer is not done
    sender.join(10)
    assert not sender.is_alive() and sender.report.sent == 3
    assert not arriving.wait_for_more(arriving.generation())  # no writer: a sender stops at once


def test_reminders_committed_in_chunks_are_sent_from_the_first_chunk_exactly_once(
        app, now, smtp_server, make_hearing, make_subscription):
    make_hearing(starts_at=now + timedelta(hours=10))
    volunteers = [make_subscription(leads=(1440,)) for _ in range(7)]
    db.session.commit()
    sender = SenderThread(app, now)
    started_at_chunk: list[int] = []

    def start_sender() -> None:
        started_at_chunk.append(db.session.scalar(sa.select(sa.func.count()).select_from(OutboxMessage)))
        sender.start()

    arriving.on_first_chunk.append(start_sender)
    try:
        assert enqueue_due(db.session, now, commit_every=3) == 7
        db.session.commit()
    finally:
        arriving.on_first_chunk.remove(start_sender)
    sender.join(30)
    assert started_at_chunk == [3]  # started when the first chunk of 3 was committed, not after all 7
    assert sender.report.sent == 7
    received = Counter(rcpts[0] for _from, rcpts in smtp_server.envelopes)
    assert received == Counter(v.email for v in volunteers)  # each volunteer once
    assert db.session.scalar(sa.select(sa.func.count()).where(OutboxMessage.status == OutboxStatus.SENT)) == 7
    assert db.session.scalar(sa.select(sa.func.count()).select_from(ReminderDelivery)) == 7
    assert enqueue_due(db.session, now, commit_every=3) == 0  # recorded once, whatever the chunks
