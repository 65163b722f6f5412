"""The data generation: one counter that every write to a table a public page shows raises.

Cached public pages (tracker/caching.py) take it into their ETag, so a page's validator
changes with anything it could show, without knowing which rows it shows: ORM flushes and
ORM bulk statements alike raise it in the writer's own transaction
(`install_generation_hooks`), so the editing services, the import, the demo loader and any
future writer are covered without having to remember it. A page's 304 costs one
primary-key read of it (`read_generation`, on the worker's own connection).
"""
from __future__ import annotations

import logging
import os
import threading

import sqlalchemy as sa
from sqlalchemy.orm import Session

log = logging.getLogger(__name__)

GENERATION_KEY = "pages_generation"
SETTINGS_TABLE = "site_settings"
# Tables no public page, feed or API answer shows: writing them leaves cached pages valid.
# Any other table's write raises the generation (a new table is shown until listed here:
# forgetting costs cache hits, never a stale page).
UNSHOWN_TABLES = frozenset({
    "outbox", "outbox_bodies", "subscriptions", "reminder_deliveries", "reminder_hearing_snapshots",
    "audit_entries", "users", "editor_cases", "import_uploads", "alembic_version",
})


def _bump_statement(dialect: str) -> sa.sql.Executable:
    """INSERT the counter at 1, or add one to it: an upsert both databases speak."""
    table = sa.table(SETTINGS_TABLE, sa.column("key"), sa.column("value"))
    if dialect == "postgresql":
        from sqlalchemy.dialects.postgresql import insert
    else:
        from sqlalchemy.dialects.sqlite import insert
    statement = insert(table).values(key=GENERATION_KEY, value="1")
    return statement.on_conflict_do_update(
        index_elements=["key"],
        set_={"value": sa.cast(sa.cast(table.c.value, sa.Integer) + 1, sa.Text)},
    )


def bump_generation(session: Session) -> None:
    """Raise the data generation in `session`'s transaction: every cached page is re-checked."""
    connection = session.connection()
    connection.execute(_bump_statement(connection.dialect.name))
    session.info["generation_bumped"] = True


def current_generation(session: Session) -> str:
    """The data generation now (one primary-key read); "0" before the first write."""
    value = session.scalar(sa.text(GENERATION_QUERY), {"key": GENERATION_KEY})
    return value or "0"


GENERATION_QUERY = "SELECT value FROM site_settings WHERE key = :key"
_reader = threading.local()


def read_generation(engine: sa.Engine) -> str:
    """`current_generation` on a connection of its own, kept open by the worker in autocommit.

    This is the whole database cost of a 304, so it skips the ORM session, the pool's
    checkout (and its pre-ping) and the transaction: one statement on a DB-API cursor
    (~10 µs on SQLite, one round trip on PostgreSQL). Each call reads what is committed now;
    nothing is remembered between requests.
    """
    row = read_committed(engine, GENERATION_QUERY.replace(":key", "?"), (GENERATION_KEY,))
    return (row[0] if row else None) or "0"


def read_generation_with(engine: sa.Engine, companion: str, parameters: tuple) -> tuple[str, object]:
    """The generation and the first value of `companion`'s first row (None: no row), in one
    statement: a page about to be rendered reads both at once, where two reads were two
    round trips on PostgreSQL (the demo banner's question, `tracker.demo_mode`)."""
    row = read_committed(engine, f"SELECT ({GENERATION_QUERY.replace(':key', '?')}), ({companion})",
                         (GENERATION_KEY, *parameters))
    return row[0] or "0", row[1]


def read_committed(engine: sa.Engine, statement: str, parameters: tuple = ()) -> tuple | None:
    """The first row of `statement` (placeholders written `?`) as committed now, on this worker
    thread's own DB-API connection in autocommit: no ORM session, no pool checkout, no
    transaction. For the small reads every page makes whatever it shows (the generation, the
    demo banner); a broken connection is dropped and the read made again, once."""
    for attempt in (1, 2):
        connection = getattr(_reader, "connection", None)
        if connection is None or _reader.key != (os.getpid(), id(engine)):
            connection = _open_reader(engine)
        try:
            cursor = connection.cursor()
            try:
                cursor.execute(statement if _reader.qmark else statement.replace("?", "%s"), parameters)
                return cursor.fetchone()
            finally:
                cursor.close()
        except Exception:  # noqa: BLE001  a dropped connection: open another, once
            _reader.connection = None
            try:
                connection.close()
            except Exception:  # noqa: BLE001, S110
                pass
            if attempt == 2:
                raise
    raise AssertionError("unreachable")


def _open_reader(engine: sa.Engine):  # noqa: ANN202
    """A DB-API connection of the engine's kind (its connect hooks run), taken out of its pool."""
    previous = getattr(_reader, "connection", None)
    if previous is not None and _reader.key[0] == os.getpid():
        # another engine's (a second app in this thread): closed, not leaked. Never one inherited
        # through fork: closing it would end the parent's session on the server.
        _reader.connection = None
        try:
            previous.close()
        except Exception:  # noqa: BLE001, S110
            pass
    pooled = engine.raw_connection()
    pooled.detach()  # this worker thread's own from now on; the pool opens another in its place
    connection = pooled.dbapi_connection
    if engine.dialect.name == "sqlite":
        connection.isolation_level = None  # autocommit: every read sees the last commit
        _reader.qmark = True
    else:
        connection.autocommit = True
        _reader.qmark = False  # psycopg: %s
    _reader.connection = connection
    _reader.key = (os.getpid(), id(engine))
    return connection


def _shown(table_name: str | None) -> bool:
    return bool(table_name) and table_name not in UNSHOWN_TABLES


def _table_of(instance: object) -> str | None:
    table = getattr(type(instance), "__table__", None)
    return getattr(table, "name", None)


def _after_flush(session: Session, _context) -> None:  # noqa: ANN001
    if session.info.get("generation_bumped"):
        return  # once per transaction is enough: the counter only has to differ
    changed = [*session.new, *session.deleted, *(o for o in session.dirty if session.is_modified(o))]
    if any(_shown(_table_of(instance)) for instance in changed):
        bump_generation(session)


def _on_orm_execute(state) -> None:  # noqa: ANN001
    """ORM-enabled INSERT/UPDATE/DELETE statements (bulk writes) bypass the flush."""
    if not (state.is_insert or state.is_update or state.is_delete):
        return
    if state.session.info.get("generation_bumped"):
        return
    table = getattr(state.statement, "table", None)
    if _shown(getattr(table, "name", None)):
        bump_generation(state.session)


def _forget_bump(session: Session, *_args) -> None:  # noqa: ANN002
    session.info.pop("generation_bumped", None)


def install_generation_hooks() -> None:
    """On every SQLAlchemy session of the process (idempotent)."""
    hooks = [("after_flush", _after_flush), ("do_orm_execute", _on_orm_execute),
             ("after_commit", _forget_bump), ("after_rollback", _forget_bump),
             ("after_soft_rollback", _forget_bump)]
    for name, hook in hooks:
        if not sa.event.contains(Session, name, hook):
            sa.event.listen(Session, name, hook)
