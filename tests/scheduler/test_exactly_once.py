"""Exactly once across crashes and concurrent senders, with the real scheduler process."""
from __future__ import annotations

import signal
from collections import Counter
from datetime import timedelta

import pytest
import sqlalchemy as sa

from tests.scheduler.conftest import wait_for
from tracker.extensions import db
from tracker.mail.models import OutboxMessage, OutboxStatus
from tracker.mail.outbox import enqueue_email
from tracker.mail.claims import LEASE, release_abandoned_claims
from tracker.mail.sending import send_pending

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


def _leader_lock_backend() -> int | None:
    """The PostgreSQL backend (pid) holding the scheduler's leader lock."""
    from scheduler.leader import ADVISORY_KEY

    pid = db.session.scalar(sa.text(
        "SELECT pid FROM pg_locks WHERE locktype = 'advisory' AND granted AND objsubid = 1 "
        "AND ((classid::bigint << 32) | objid::bigint) = :k "
        "AND database = (SELECT oid FROM pg_database WHERE datname = current_database())"),  # not another suite's
        {"k": ADVISORY_KEY})
    db.session.rollback()
    return pid


def test_a_leader_that_loses_its_lock_mid_batch_sends_nothing_twice(is_postgres, slow_smtp_server,
                                                                     scheduler_process):
    """A network blip, a failover or pg_terminate_backend cuts only the lock's connection.

    The standby takes the lock at once while the old leader is still sending: neither may
    send what the other sends, and nothing may be lost between them.
    """
    if not is_postgres:
        pytest.skip("SQLite's leader lock is a file lock, held as long as the process lives: it cannot be cut")
    from tracker.extensions import utcnow

    expected = queue(300, utcnow())  # due now: these schedulers run for ever, on the real clock
    leader = scheduler_process("--job", "send-mail")
    wait_for(lambda: "leader lock taken" in leader.log, what="the first scheduler to lead")
    standby = scheduler_process("--job", "send-mail")
    wait_for(lambda: "waiting as a hot standby" in standby.log, what="the second to wait")
    wait_for(lambda: count(OutboxStatus.SENT) >= 30, what="the leader to be well into the batch")

    holder = _leader_lock_backend()
    assert holder is not None
    assert db.session.scalar(sa.text("SELECT pg_terminate_backend(:pid)"), {"pid": holder})
    db.session.rollback()
    sent_at_the_cut = count(OutboxStatus.SENT)
    assert sent_at_the_cut < 300, "the cut must land in the middle of the batch"

    wait_for(lambda: "leader lock taken" in standby.log, what="the standby to take over")
    assert leader.wait(30) == 1, leader.log  # it stopped: it can no longer be sure it is alone
    assert "leader lock is lost" in leader.log
    wait_for(lambda: count(OutboxStatus.SENT) == 300, timeout=60, what="every message sent")

    received = Counter(str(m["Message-ID"]) for m in slow_smtp_server.messages)
    twice = {message_id: n for message_id, n in received.items() if n > 1}
    assert not twice, f"{len(twice)} message(s) sent more than once"
    assert set(received) == set(expected)  # none lost
    assert count(OutboxStatus.SENDING) == 0


def test_a_new_leader_leaves_the_claims_of_a_live_sender_alone(now, slow_smtp_server, scheduler_process):
    """What a standby does on taking over after a cut lock connection, while the old leader still sends."""
    expected = queue(40, now)
    child = scheduler_process("--once", "--job", "send-mail", "--now", now.isoformat())
    wait_for(lambda: count(OutboxStatus.SENT) >= 5, what="the child to be sending")
    assert count(OutboxStatus.SENDING) > 0
    assert release_abandoned_claims(db.session, now) == 0  # its owner is alive: not ours to take
    db.session.commit()
    assert send_pending(db.session, now).sent < 40  # a second sender finds only what is unclaimed
    assert child.wait(60) == 0, child.log
    received = Counter(str(m["Message-ID"]) for m in slow_smtp_server.messages)
    assert set(received) == set(expected) and max(received.values()) == 1


class Clock:
    """The sender's clock for a batch: each reading is `step` later, and may act first."""

    def __init__(self, start, step, act=None) -> None:  # noqa: ANN001
        self.time, self.step, self.act, self.readings = start, step, act, 0

    def __call__(self):  # noqa: ANN204
        self.time += self.step
        self.readings += 1
        if self.act is not None:
            with db.engine.begin() as other:  # another sender, on its own connection
                self.act(other, self)
        return self.time


def test_a_sender_renews_its_lease_while_it_works(now, smtp_server):
    from tracker.mail.claims import expire_leases

    expected = queue(20, now)
    # Every message takes two minutes, and another sender expires leases as time goes by:
    # without renewals the claims would be taken back after the second message.
    clock = Clock(now, timedelta(minutes=2), act=lambda other, c: expire_leases(other, c.time))
    report = send_pending(db.session, now, clock=clock)
    assert report.sent == 20 and clock.time - now > 2 * LEASE
    received = Counter(str(m["Message-ID"]) for m in smtp_server.messages)
    assert set(received) == set(expected) and max(received.values()) == 1


def test_a_sender_stops_before_touching_claims_that_were_taken_back(now, smtp_server):
    """Its lease ran out while it was stalled (a frozen VM, say) and another sender claimed the rest."""
    queue(20, now)

    def stall_then_lose(other, clock):  # noqa: ANN001
        if clock.readings == 6:  # before the fifth message
            clock.time += LEASE
            other.execute(sa.update(OutboxMessage).where(OutboxMessage.status == OutboxStatus.SENDING)
                          .values(claim_token="someone-else", next_attempt_at=clock.time + LEASE))

    report = send_pending(db.session, now, clock=Clock(now, timedelta(seconds=1), act=stall_then_lose))
    assert report.sent == 4 and len(smtp_server.messages) == 4
    assert count(OutboxStatus.SENDING) == 16  # the new owner's, untouched


def test_the_sent_mark_checks_the_claim_and_a_lost_claim_stops_the_batch(now, smtp_server):
    queue(20, now)

    def take_the_next_one(other, clock):  # noqa: ANN001
        if clock.readings == 4:  # before the third message: its claim is taken under our feet
            third = other.scalar(sa.select(OutboxMessage.id).where(OutboxMessage.status == OutboxStatus.SENDING)
                                 .order_by(OutboxMessage.id).limit(1))
            other.execute(sa.update(OutboxMessage).where(OutboxMessage.id == third)
                          .values(claim_token="someone-else"))

    report = send_pending(db.session, now, clock=Clock(now, timedelta(seconds=1), act=take_the_next_one))
    assert len(smtp_server.messages) == 3  # it could not know before sending; it stops right after
    assert report.sent == 3
    assert count(OutboxStatus.SENT) == 2
    assert count(OutboxStatus.PENDING) == 17 and count(OutboxStatus.SENDING) == 1  # the rest given back
