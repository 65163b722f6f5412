"""A page after the server dropped the app's connections (a restart, `pg_terminate_backend`)
is served, not a 500: `extensions.check_connections` sees the closed socket at checkout."""
from __future__ import annotations

import psycopg
import pytest
import sqlalchemy as sa

from tracker import generation
from tracker.extensions import db


def test_a_page_after_the_server_ended_every_connection_of_the_app(client, make_case, is_postgres, database_uri):
    if not is_postgres:
        pytest.skip("a SQLite file has no server to drop the connection")
    make_case(slug="bolotnaya", title="Bolotnaya")
    db.session.commit()
    db.session.remove()
    backends: set[int] = set()

    def note(dbapi_connection, _record) -> None:  # noqa: ANN001
        backends.add(dbapi_connection.info.backend_pid)

    sa.event.listen(db.engine.pool, "checkin", note)
    try:
        assert client.get("/cases/bolotnaya").status_code == 200  # its connection goes back to the pool
    finally:
        sa.event.remove(db.engine.pool, "checkin", note)
    reader = getattr(generation._reader, "connection", None)  # the worker's own, for the generation
    if reader is not None:
        backends.add(reader.info.backend_pid)
    # only this app's own connections: the database may be shared with another run
    with psycopg.connect(sa.make_url(database_uri).set(drivername="postgresql").render_as_string(hide_password=False),
                         autocommit=True) as admin:
        ended = admin.execute("SELECT pg_terminate_backend(pid) FROM unnest(%s::int[]) AS pid",
                              (sorted(backends),)).fetchall()
        assert ended and all(row[0] for row in ended)
        # pg_terminate_backend only signals: wait until the server has ended them (as after a restart)
        for _ in range(500):
            left = admin.execute("SELECT count(*) FROM pg_stat_activity WHERE pid = ANY(%s::int[])",
                                 (sorted(backends),)).fetchone()[0]
            if not left:
                break
        assert not left, "the server did not end the connections"
    response = client.get("/cases/bolotnaya")
    assert response.status_code == 200
    assert b"Bolotnaya" in response.data


def test_a_connection_on_a_descriptor_above_1024_is_checked(client, make_case, is_postgres):
    """A busy worker (many sockets, files) gets descriptors above select()'s 1024: the check
    must still look (poll), not fail every checkout with "filedescriptor out of range"."""
    if not is_postgres:
        pytest.skip("SQLite's connections are not checked")
    import os
    import resource

    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if hard != resource.RLIM_INFINITY and hard < 1200:
        pytest.skip(f"this process may open {hard} files at most")
    resource.setrlimit(resource.RLIMIT_NOFILE, (max(soft, 1200), hard))
    make_case(slug="bolotnaya", title="Bolotnaya")
    db.session.commit()
    db.session.remove()
    db.engine.dispose()  # the next page opens a connection, on a descriptor above 1024
    opened = [os.open(os.devnull, os.O_RDONLY) for _ in range(1100)]
    try:
        response = client.get("/cases/bolotnaya")
        assert response.status_code == 200
    finally:
        for descriptor in opened:
            os.close(descriptor)
        db.engine.dispose()
        resource.setrlimit(resource.RLIMIT_NOFILE, (soft, hard))
