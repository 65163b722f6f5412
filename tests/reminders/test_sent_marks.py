"""The "sent" marks: written while the relay reads the next envelope, settled before its DATA.

A mark is queued after the relay's "250" and written once the next MAIL FROM is on the wire
(`marks.SentMarks.write`), or by `confirm` when no next message comes: every way a batch can
end must still leave each accepted message marked, and no message may reach the relay's DATA
before the one before it is marked (at most one accepted message is ever unmarked).
"""
from __future__ import annotations

import pytest
import sqlalchemy as sa

from tests.conftest import running_smtp_server, _Handler
from tests.reminders.helpers import queue_plain, statuses
from tracker.extensions import db
from tracker.mail.models import OutboxMessage, OutboxStatus
from tracker.mail.sending import send_pending


def queue(n: int, now) -> None:  # noqa: ANN001
    queue_plain(n, now, "marks")


def test_each_message_is_marked_before_the_next_one_reaches_data(app, now):
    """What the relay's DATA handler sees in the database, from a connection of its own."""
    queue(45, now)  # three claims: the marks cross claim boundaries too
    engine = db.engine
    seen: list[tuple[int, int]] = []  # (messages accepted before this DATA, rows marked sent then)

    class Watching(_Handler):
        async def handle_DATA(self, srv, session, envelope):  # noqa: ANN001
            with engine.connect() as conn:
                marked = conn.scalar(sa.select(sa.func.count()).where(OutboxMessage.status == OutboxStatus.SENT))
            seen.append((len(self.server.messages), marked))
            return await super().handle_DATA(srv, session, envelope)

    with running_smtp_server(app, handler=Watching) as server:
        report = send_pending(db.session, now)
    assert report.sent == 45 and len(server.messages) == 45
    assert seen == [(i, i) for i in range(45)]
    assert statuses() == {"sent": 45}


@pytest.mark.parametrize("ending", ["stop asked", "limit", "no more mail", "next refused", "relay gone"])
def test_every_way_a_batch_ends_leaves_each_accepted_message_marked(app, now, smtp_server, ending):
    """The last mark of a batch has no next envelope to go out with: `confirm` writes it."""
    queue(3 if ending in ("next refused", "relay gone") else 2 if ending == "no more mail" else 5, now)
    options = {}
    if ending == "stop asked":
        options["should_stop"] = lambda: len(smtp_server.messages) >= 2
    elif ending == "limit":
        options["limit"] = 2
    elif ending == "next refused":
        smtp_server.refuse["person2@example.org"] = "550 no such user"
    elif ending == "relay gone":
        smtp_server.refuse["person2@example.org"] = "421 closing"
    report = send_pending(db.session, now, **options)
    assert report.sent == len(smtp_server.messages) == 2
    found = statuses()
    assert found["sent"] == 2  # both accepted messages, the second one's mark written at the end
    assert found.get("sending", 0) == 0  # nothing left claimed either


def test_a_batch_that_fails_while_ending_leaves_no_claim_lock_or_setting_on_a_pooled_connection(
        app, now, smtp_server, is_postgres):
    """The claim lock is a session lock and the sender's settings (`enable_sort` off...) are
    session settings: a batch whose ending fails (here the database refuses to give claims back)
    must not return that session to the pool, where the lock would keep its claims looking alive
    until their lease ran out and another job would run without sorts."""
    if not is_postgres:
        pytest.skip("session locks and settings are PostgreSQL's")
    from tracker.mail.claims import CLAIM_LOCK_CLASS
    queue(5, now)
    with db.engine.begin() as conn:
        conn.exec_driver_sql(
            "CREATE FUNCTION refuse_release() RETURNS trigger LANGUAGE plpgsql AS "
            "$$ BEGIN RAISE EXCEPTION 'release refused (test)'; END $$")
        conn.exec_driver_sql(
            "CREATE TRIGGER refuse_release BEFORE UPDATE ON outbox FOR EACH ROW "
            "WHEN (OLD.status = 'sending' AND NEW.status = 'pending') EXECUTE FUNCTION refuse_release()")
    try:
        with pytest.raises(sa.exc.DBAPIError, match="release refused"):
            # two sent, then asked to stop: the three others claimed are given back
            send_pending(db.session, now, should_stop=lambda: len(smtp_server.messages) >= 2)
        db.session.rollback()
        with db.engine.connect() as conn:  # from the pool: the sender's own connection if it went back
            held = conn.scalar(sa.text(  # this database's: another suite may share the server
                "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND classid = :c "
                "AND database = (SELECT oid FROM pg_database WHERE datname = current_database())"),
                {"c": CLAIM_LOCK_CLASS})
            sorting = conn.exec_driver_sql("SHOW enable_sort").scalar()
        assert held == 0
        assert sorting == "on"
    finally:
        with db.engine.begin() as conn:
            conn.exec_driver_sql("DROP TRIGGER IF EXISTS refuse_release ON outbox")
            conn.exec_driver_sql("DROP FUNCTION IF EXISTS refuse_release()")
