"""A shared page's statements on PostgreSQL go without a transaction (no BEGIN, no ROLLBACK),
and that never reaches a request that writes.

What the server receives is read from libpq's own trace of the connection (psycopg's
`PGconn.trace`): every message the app sends, the BEGIN psycopg adds before a statement and
the ROLLBACK the pool sends when the connection comes back included. docs/rendering.md,
"Sixth pass", says why reading a page in autocommit shows the same rows.
"""
from __future__ import annotations

import sqlite3
from contextlib import contextmanager

import pytest
import sqlalchemy as sa

from tracker import generation
from tracker.extensions import db
from tracker.records.models import Case


@pytest.fixture
def server_messages(is_postgres, tmp_path):
    """`with server_messages() as sent:` lists (kind, text) of the messages the app sent to
    PostgreSQL within the block (kind: Query, Parse, Sync, ...), through its pool and on the
    worker's own connection for the generation (`generation.read_committed`). A connection
    is traced from the first time the pool lends or takes it back during the test on, so a
    connection taken from the pool in the block shows all it sent, its checkout included."""
    if not is_postgres:
        pytest.skip("the round trips counted are PostgreSQL's (SQLite's driver sends no BEGIN before a read)")
    from psycopg.pq import Trace

    path = tmp_path / "libpq.trace"
    traced: list = []
    out = open(path, "w")  # noqa: SIM115  (open for the whole test: libpq writes to its descriptor)

    def trace(dbapi_connection, *_ignored) -> None:  # noqa: ANN001
        if any(dbapi_connection is seen for seen in traced):
            return
        dbapi_connection.pgconn.trace(out.fileno())
        dbapi_connection.pgconn.set_trace_flags(Trace.SUPPRESS_TIMESTAMPS | Trace.REGRESS_MODE)
        traced.append(dbapi_connection)

    sa.event.listen(db.engine.pool, "checkout", trace)
    sa.event.listen(db.engine.pool, "checkin", trace)

    @contextmanager
    def tracing():
        reader = getattr(generation._reader, "connection", None)  # the worker's own (read_committed)
        if reader is not None and not isinstance(reader, sqlite3.Connection):
            trace(reader)
        out.flush()
        start = path.stat().st_size
        sent: list[tuple[str, str]] = []
        yield sent
        out.flush()
        with open(path) as written:
            written.seek(start)
            for line in written.read().splitlines():
                parts = line.split("\t")
                if len(parts) > 2 and parts[0] == "F":  # F, length, kind[, text]
                    sent.append((parts[2], parts[3] if len(parts) > 3 else ""))

    yield tracing
    sa.event.remove(db.engine.pool, "checkout", trace)
    sa.event.remove(db.engine.pool, "checkin", trace)
    for connection in traced:
        if not connection.closed:
            connection.pgconn.untrace()
    out.close()


def _commands(sent: list[tuple[str, str]]) -> list[str]:
    return [text.strip().strip('"') for kind, text in sent if kind == "Query"]


def test_a_shared_page_sends_no_begin_and_no_rollback(client, make_case, server_messages):
    make_case(slug="bolotnaya", title="Bolotnaya")
    db.session.commit()
    db.session.remove()
    with server_messages() as sent:
        response = client.get("/cases/bolotnaya")
    assert response.status_code == 200
    assert any("SELECT cases." in text for _kind, text in sent), sent  # the page's statements were traced
    commands = _commands(sent)
    assert not [c for c in commands if c.startswith(("BEGIN", "ROLLBACK"))], commands


def test_the_page_in_one_app_context_then_a_write_rolls_back(client, make_case, server_messages):
    """`reading_committed` inside a test's own app context (no app context per request): the
    page's session is the test's, and once the page is done a write is rolled back whole."""
    make_case(slug="bolotnaya", title="Bolotnaya")
    db.session.commit()
    with server_messages() as sent:
        response = super(type(client), client).open("/cases/bolotnaya")  # the test's app context, shared
        assert response.status_code == 200
        db.session.add(Case(slug="written-then-undone", title="Undone"))
        db.session.flush()
        db.session.rollback()
    # (a connection the pool had lent in autocommit is given back the server's level by name)
    assert [c for c in _commands(sent) if c.startswith("BEGIN")], sent
    assert db.session.scalar(sa.select(Case.id).where(Case.slug == "written-then-undone")) is None


def test_a_shared_page_costs_its_statements_and_one_round_trip(client, make_case, server_messages, count_queries):
    """Besides the page's own statements: the generation, read with the demo banner's
    question in the same statement (caching.read_page_generation). Main paid four more: the
    pool's pre-ping at checkout (`extensions.check_connections` sends nothing), BEGIN,
    ROLLBACK and the banner's own read."""
    make_case(slug="bolotnaya", title="Bolotnaya")
    db.session.commit()
    db.session.remove()
    with server_messages():
        # the worker's own connection open, and traced; every statement past psycopg's
        # prepare threshold (5), whose preparing round trip would land in the count
        for _ in range(6):
            assert client.get("/cases/bolotnaya").status_code == 200
    with count_queries() as counter, server_messages() as sent:
        response = client.get("/cases/bolotnaya")
    assert response.status_code == 200 and b'class="demo"' not in response.data
    round_trips = [kind for kind, _text in sent if kind in ("Sync", "Query")]  # extended and simple protocol
    assert counter.count > 0
    assert len(round_trips) == counter.count + 1, [kind for kind, _text in sent]
