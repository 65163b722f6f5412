"""The next claim, sent while the relay takes the DATA of a chunk's last message (PostgreSQL).

The claim moved, not what it does: it is the same statement on the sender's own connection, its
answer read before anything else uses that connection, and every way a batch ends still leaves
each accepted message marked and nothing claimed (fifth pass in docs/reminders.md).
"""
from __future__ import annotations

import pytest
import sqlalchemy as sa

from tests.conftest import _Handler, running_smtp_server
from tests.reminders.helpers import queue_plain, statuses
from tests.scheduler.conftest import wait_for
from tracker.extensions import db
from tracker.mail.claims import CLAIM_CHUNK
from tracker.mail.marks import MarkFailed
from tracker.mail.models import OutboxMessage, OutboxStatus
from tracker.mail.sending import send_pending

pytestmark = pytest.mark.usefixtures("postgres_only")


@pytest.fixture
def postgres_only(is_postgres):
    if not is_postgres:
        pytest.skip("SQLite claims in the sender's thread, between messages: it has no round trips to hide")


def queue(n: int, now) -> None:  # noqa: ANN001
    queue_plain(n, now, "ahead")


def claimed_now(engine: sa.Engine) -> int:
    with engine.connect() as conn:
        return conn.scalar(sa.select(sa.func.count()).where(OutboxMessage.status == OutboxStatus.SENDING))


def test_the_next_claim_is_made_while_the_relay_takes_the_last_message_of_a_chunk(app, now):
    """What the relay's DATA handler can see from a connection of its own: during the DATA of the
    chunk's last message, the next chunk is claimed already (besides that message, not yet marked)."""
    queue(2 * CLAIM_CHUNK + 5, now)
    engine = db.engine
    seen: dict[int, bool] = {}
    next_chunk = {CLAIM_CHUNK - 1: CLAIM_CHUNK, 2 * CLAIM_CHUNK - 1: 5}  # message accepted before -> claimed ahead

    class Watching(_Handler):
        async def handle_DATA(self, srv, session, envelope):  # noqa: ANN001
            accepted = len(self.server.messages)
            if accepted in next_chunk:  # the last message of a chunk
                expected = 1 + next_chunk[accepted]  # this one (not marked yet) and the next chunk
                try:  # the claim runs beside this DATA: bounded wait for its commit, never a sleep
                    wait_for(lambda: claimed_now(engine) == expected, timeout=10, what="the claim ahead")
                    seen[accepted] = True
                except AssertionError:
                    seen[accepted] = False
            return await super().handle_DATA(srv, session, envelope)

    with running_smtp_server(app, handler=Watching) as server:
        report = send_pending(db.session, now)
    assert report.sent == len(server.messages) == 2 * CLAIM_CHUNK + 5
    assert seen == {CLAIM_CHUNK - 1: True, 2 * CLAIM_CHUNK - 1: True}
    assert statuses() == {"sent": 2 * CLAIM_CHUNK + 5}


def test_a_claim_ahead_is_given_back_when_the_batch_stops(now, smtp_server):
    queue(2 * CLAIM_CHUNK + 5, now)
    report = send_pending(db.session, now, should_stop=lambda: len(smtp_server.messages) >= CLAIM_CHUNK)
    assert report.sent == len(smtp_server.messages) == CLAIM_CHUNK
    assert statuses() == {"sent": CLAIM_CHUNK, "pending": CLAIM_CHUNK + 5}  # the chunk claimed ahead, due again


def test_no_claim_ahead_beyond_the_limit(now, smtp_server):
    queue(2 * CLAIM_CHUNK + 5, now)
    assert send_pending(db.session, now, limit=CLAIM_CHUNK).sent == CLAIM_CHUNK
    assert statuses() == {"sent": CLAIM_CHUNK, "pending": CLAIM_CHUNK + 5}


def test_a_claim_ahead_the_database_refuses_stops_the_batch_after_marking_the_message_in_hand(now, smtp_server):
    """The claim fails while the relay takes a message: that message is marked all the same (it
    reached the relay), then the batch stops on the database's error with nothing left claimed."""
    queue(2 * CLAIM_CHUNK + 5, now)
    with db.engine.begin() as conn:
        conn.exec_driver_sql(
            "CREATE FUNCTION refuse_claim() RETURNS trigger LANGUAGE plpgsql AS "
            "$$ BEGIN RAISE EXCEPTION 'claim refused (test)'; END $$")
        conn.exec_driver_sql(
            "CREATE TRIGGER refuse_claim BEFORE UPDATE ON outbox FOR EACH ROW "
            "WHEN (OLD.status = 'pending' AND NEW.status = 'sending' "
            f"AND OLD.recipient = 'person{CLAIM_CHUNK}@example.org') EXECUTE FUNCTION refuse_claim()")
    try:
        with pytest.raises(MarkFailed, match="claim refused"):
            send_pending(db.session, now)
        db.session.rollback()
        assert len(smtp_server.messages) == CLAIM_CHUNK
        assert statuses() == {"sent": CLAIM_CHUNK, "pending": CLAIM_CHUNK + 5}
    finally:
        with db.engine.begin() as conn:
            conn.exec_driver_sql("DROP TRIGGER IF EXISTS refuse_claim ON outbox")
            conn.exec_driver_sql("DROP FUNCTION IF EXISTS refuse_claim()")


def test_a_failing_leadership_check_before_a_claim_ahead_is_never_blamed_on_the_message(now, smtp_server):
    """`may_claim` is asked before the claim ahead, while a message is in hand: what it raises is the
    scheduler's, not the message's (which must not be recorded as failed); the claim in line asks
    again and the batch stops there, as it did before claims went ahead."""
    queue(2 * CLAIM_CHUNK + 5, now)
    asked = []

    def may_claim() -> bool:
        asked.append(True)
        if len(asked) > 1:
            raise RuntimeError("the leader lock's connection is gone (test)")
        return True

    with pytest.raises(RuntimeError, match="leader lock"):
        send_pending(db.session, now, may_claim=may_claim)
    db.session.rollback()
    assert len(smtp_server.messages) == CLAIM_CHUNK
    assert statuses() == {"sent": CLAIM_CHUNK, "pending": CLAIM_CHUNK + 5}
