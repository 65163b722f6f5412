"""Exactly once across crashes and concurrent senders, with the real scheduler process."""
from __future__ import annotations

import signal
from collections import Counter
from datetime import timedelta

import pytest
import sqlalchemy as sa

from tests.scheduler.conftest import wait_for
from tracker.extensions import db
from tracker.reminders.models import OutboxMessage, OutboxStatus
from tracker.reminders.outbox import enqueue_email
from tracker.reminders.sending import LEASE, release_abandoned_claims, send_pending

pytestmark = pytest.mark.slow


def queue(n: int, now) -> dict[str, str]:
    """n pending messages; returns Message-ID -> recipient."""
    ids = {}
    for i in range(n):
        message = enqueue_email(db.session, dedupe_key=f"test:{i}", kind="reminder", recipient=f"v{i}@example.org",
                                subject=f"Reminder {i}", text_body="See you in court.", now=now)
        ids[message.message_id] = message.recipient
    db.session.commit()
    return ids


def count(status: OutboxStatus) -> int:
    value = db.session.scalar(sa.select(sa.func.count()).where(OutboxMessage.status == status))
    db.session.rollback()  # never hold a read transaction while the child writes
    return value


def test_killed_in_the_middle_of_a_batch_loses_nothing(now, slow_smtp_server, scheduler_process):
    expected = queue(40, now)
    child = scheduler_process("--once", "--job", "send-mail", "--now", now.isoformat())
    wait_for(lambda: count(OutboxStatus.SENT) >= 10, what="ten messages sent by the child")
    child.popen.send_signal(signal.SIGKILL)
    assert child.wait(10) == -signal.SIGKILL
    sent_before_restart = count(OutboxStatus.SENT)
    assert 10 <= sent_before_restart < 40, "the kill must land in the middle of the batch"

    restarted = scheduler_process("--once", "--job", "send-mail", "--now", now.isoformat())
    assert restarted.wait(60) == 0, restarted.log
    assert count(OutboxStatus.SENT) == 40

    received = Counter(str(m["Message-ID"]) for m in slow_smtp_server.messages)
    assert set(received) == set(expected)  # none lost
    resent = [message_id for message_id, n in received.items() if n > 1]
    assert len(resent) <= 1 and all(received[m] == 2 for m in resent)  # at most the one in flight, same id
    assert sum(received.values()) in (40, 41)
    for message, (_from, rcpts) in zip(slow_smtp_server.messages, slow_smtp_server.envelopes):
        assert rcpts == [expected[str(message["Message-ID"])]]


def test_sigterm_stops_between_messages_and_gives_back_the_rest(now, slow_smtp_server, scheduler_process):
    expected = queue(40, now)
    child = scheduler_process("--once", "--job", "send-mail", "--now", now.isoformat())
    wait_for(lambda: count(OutboxStatus.SENT) >= 5, what="five messages sent by the child")
    child.popen.send_signal(signal.SIGTERM)
    assert child.wait(30) == 0, child.log
    assert "finishing the work in hand" in child.log
    assert 5 <= count(OutboxStatus.SENT) < 40
    assert count(OutboxStatus.SENDING) == 0  # what it had claimed but not sent is due again

    restarted = scheduler_process("--once", "--job", "send-mail", "--now", now.isoformat())
    assert restarted.wait(60) == 0, restarted.log
    received = Counter(str(m["Message-ID"]) for m in slow_smtp_server.messages)
    assert set(received) == set(expected) and max(received.values()) == 1  # a clean stop resends nothing


def test_two_senders_on_postgresql_never_send_twice(now, is_postgres, smtp_server, scheduler_process):
    if not is_postgres:
        pytest.skip("SQLite has no row locks (no FOR UPDATE SKIP LOCKED): one scheduler is supported there, "
                    "enforced by the leader file lock; see docs/scheduler.md")
    expected = queue(300, now)
    # Without the leader lock, so both really send at once and only SKIP LOCKED keeps them apart.
    children = [scheduler_process("--once", "--no-leader-lock", "--job", "send-mail", "--now", now.isoformat())
                for _ in range(2)]
    for child in children:
        assert child.wait(120) == 0, child.log
    received = Counter(str(m["Message-ID"]) for m in smtp_server.messages)
    assert set(received) == set(expected)
    assert max(received.values()) == 1
    assert count(OutboxStatus.SENT) == 300


def test_a_restart_after_a_crash_resends_with_the_same_message_id(now, smtp_server):
    """The in-flight case in slow motion: the relay accepted, the commit never happened."""
    [message_id] = queue(1, now)
    raw_before = db.session.scalar(sa.select(OutboxMessage.raw))
    send_pending(db.session, now)
    # the crash: the row is still claimed ("sending"), as if "sent" had never been committed
    db.session.execute(sa.update(OutboxMessage).values(status=OutboxStatus.SENDING, sent_at=None))
    db.session.commit()
    assert send_pending(db.session, now).sent == 0  # claimed by someone: not touched
    assert release_abandoned_claims(db.session, now) == 1  # what a new leader does first
    db.session.commit()
    assert send_pending(db.session, now).sent == 1
    assert [str(m["Message-ID"]) for m in smtp_server.messages] == [message_id, message_id]
    assert db.session.scalar(sa.select(OutboxMessage.raw)) == raw_before


def test_an_abandoned_claim_is_due_again_when_its_lease_runs_out(now, smtp_server):
    queue(1, now)
    db.session.execute(sa.update(OutboxMessage).values(status=OutboxStatus.SENDING,
                                                       next_attempt_at=now + LEASE))
    db.session.commit()
    assert send_pending(db.session, now + LEASE - timedelta(seconds=1)).sent == 0
    assert send_pending(db.session, now + LEASE).sent == 1
