"""Flask extensions, created unbound so every feature package can import them."""
from __future__ import annotations

import enum
import select
from contextlib import contextmanager
from datetime import datetime, timezone
from typing import Any, Iterator

import sqlalchemy as sa
from flask import request
from flask_babel import Babel
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address
from flask_login import LoginManager
from flask_migrate import Migrate
from flask_sqlalchemy import SQLAlchemy
from flask_sqlalchemy.session import Session as FlaskSession
from flask_wtf.csrf import CSRFProtect
from sqlalchemy.orm import DeclarativeBase, scoped_session

# Named constraints, so Alembic can drop and alter them on every database.
NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = sa.MetaData(naming_convention=NAMING_CONVENTION)


READS_COMMITTED = "reads_committed"  # the session's info key `reading_committed` sets


class Session(FlaskSession):
    """Flask-SQLAlchemy's session, which a shared page's rendering reads in autocommit.

    On PostgreSQL a session's transaction costs two round trips a page does not need
    (`BEGIN` before its first statement, `ROLLBACK` when the connection goes back to the
    pool): under `reading_committed` the session takes its connection from the engine's
    autocommit variant instead (the same pool; psycopg's `autocommit` is a flag on the
    connection, set and reset without a round trip). The page sees what it saw before:
    PostgreSQL's READ COMMITTED, the app's level, takes a new snapshot for every statement
    inside a transaction too, so the transaction gave a page's statements no common view.
    SQLite is left as it is: its driver sends no `BEGIN` before a read.
    """

    def get_bind(self, mapper: Any = None, clause: Any = None, bind: Any = None, **kwargs: Any) -> Any:
        engine = super().get_bind(mapper=mapper, clause=clause, bind=bind, **kwargs)
        if bind is None and self.info.get(READS_COMMITTED):
            return _autocommit_variant(engine)
        return engine


def _autocommit_variant(engine: sa.Engine) -> sa.Engine:
    """`engine` with AUTOCOMMIT on its connections (PostgreSQL), made once per engine: the
    session keys its connections by engine, so every statement of a page finds the same one."""
    variant = engine.__dict__.get("_tracker_autocommit")
    if variant is None:
        variant = engine.execution_options(isolation_level="AUTOCOMMIT") \
            if engine.dialect.name == "postgresql" else engine
        engine.__dict__["_tracker_autocommit"] = variant
    return variant


@contextmanager
def reading_committed(session: Any) -> Iterator[None]:
    """Within the block, `session` (the scoped `db.session`) reads each statement as
    committed, with no transaction around them (see `Session`). For a view that writes
    nothing: a write would commit at once. The block's end restores transactions for
    whatever follows in the same session (a test's next request in one app context). A
    session already in a transaction keeps it: a second connection would cost more."""
    own = session() if isinstance(session, scoped_session) else session
    if own.in_transaction():
        yield
        return
    info = own.info
    info[READS_COMMITTED] = True
    try:
        yield
    finally:
        info.pop(READS_COMMITTED, None)


db = SQLAlchemy(model_class=Base, session_options={"class_": Session})
migrate = Migrate()
login_manager = LoginManager()
csrf = CSRFProtect()
babel = Babel()
limiter = Limiter(key_func=get_remote_address, default_limits=[])
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


@limiter.request_filter
def safe_method() -> bool:
    """Flask-Limiter's public way to exempt a request: GET, HEAD and OPTIONS count towards no limit.

    Every limit in the app is on a form's POST (sign-ups, logins, password resets, action
    submissions: `methods=["POST"]`, held by tests/app/test_rate_limit_filter.py) and there
    are no default limits, yet the limiter's `before_request` hook would work out, for every
    page view, which limits apply before finding none (~45 µs, 5% of an empty page). The
    filters are the first thing the hook asks, so a page view costs a few µs. A limit meant
    to count a safe method would be skipped: change this filter with it (docs/rendering-floor.md).
    Registered once, at import: the limiter is shared by every app the tests create.
    """
    return request.method in SAFE_METHODS


def utcnow() -> datetime:
    """The one place the ORM reads the clock (for created/updated stamps)."""
    return datetime.now(timezone.utc)


class UTCDateTime(sa.types.TypeDecorator):
    """A timezone-aware timestamp stored in UTC on every database.

    SQLite has no time zone type: without this, values come back naive and
    comparisons with aware datetimes fail or, worse, silently shift.
    """

    impl = sa.DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect):  # noqa: ANN001
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given where an aware one is required")
        value = value.astimezone(timezone.utc)
        if dialect.name == "sqlite":
            return value.replace(tzinfo=None)
        return value

    def process_result_value(self, value: datetime | None, dialect):  # noqa: ANN001
        if value is None:
            return None
        if value.tzinfo is None:
            # `value.replace(tzinfo=timezone.utc)`, the same datetime (fold kept) at a quarter of
            # the cost: CPython 3.11's replace() with a keyword takes ~1.3 µs, and a list reads
            # hundreds (/hearings 300 starts, /actions 400 starts and ends; docs/rendering.md)
            return datetime.combine(value.date(), value.time(), timezone.utc)
        return value.astimezone(timezone.utc)

    def result_processor(self, dialect, coltype):  # noqa: ANN001, ANN201
        """On SQLite, the text SQLAlchemy wrote ("2026-03-03 10:00:00.000000", always 26
        characters) read into an aware datetime by one C call, `fromisoformat(text + "+00:00")`:
        the same value as parsing it (`DateTime`'s processor) and then `process_result_value`
        (~0.3 µs instead of ~1.5 µs through the decorator's two steps; /actions reads 400 of
        them, /hearings 300). Any other text, or a database that returns datetimes, takes
        the decorator's own way, so what comes back is unchanged."""
        general = super().result_processor(dialect, coltype)
        if dialect.name != "sqlite" or general is None:
            return general
        parse = datetime.fromisoformat

        def process(value):  # noqa: ANN001, ANN202
            if value.__class__ is str and len(value) == 26:
                return parse(value + "+00:00")
            return general(value)

        return process


def string_enum(cls: type[enum.Enum]) -> sa.Enum:
    """An enum column stored as its members' string values (VARCHAR), portable and readable in SQL.

    Not a PostgreSQL enum type: adding a member is a code change, not an ALTER TYPE.
    """
    return sa.Enum(
        cls,
        native_enum=False,
        length=40,
        values_callable=lambda e: [m.value for m in e],
        validate_strings=True,
    )


def tune_sqlite(engine: sa.Engine) -> None:
    """SQLite in WAL mode with NORMAL sync: the web app reads while the scheduler writes.

    The mail sender commits after every message (that is what makes a crash resend at
    most one); with the default rollback journal each commit is an fsync (~5 ms here),
    with WAL it is a write to the log. A power cut may lose the last commits, so a few
    messages could be sent again, each with its Message-ID; a killed process loses nothing.
    """
    if engine.dialect.name != "sqlite" or engine.url.database in (None, "", ":memory:"):
        return

    @sa.event.listens_for(engine, "connect")
    def set_pragmas(dbapi_connection, _record) -> None:  # noqa: ANN001
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.close()


def check_connections(engine: sa.Engine) -> None:
    """Instead of `pool_pre_ping`'s round trip at every checkout (a page's first statement
    waited for it), a look at the connection's socket, without sending anything.

    A PostgreSQL connection the server has closed (a restart, `pg_terminate_backend`, an idle
    timeout) has its socket readable: the server's goodbye or the end of the stream waits
    there, where an idle, live connection has nothing to read. Such a connection, or one
    psycopg already knows is closed or broken, is refused with `DisconnectionError`: the pool
    drops it and connects afresh (SQLAlchemy's "pessimistic disconnect handling" event). A
    silently dropped network path, with no goodbye, is not seen; the pre-ping's `;` would have
    waited on it as long as the first statement now does. SQLite's file needs no check."""
    if engine.dialect.name != "postgresql":
        return

    @sa.event.listens_for(engine, "checkout")
    def refuse_closed(dbapi_connection, _record, _proxy) -> None:  # noqa: ANN001
        if dbapi_connection.closed or dbapi_connection.broken:
            raise sa.exc.DisconnectionError("the connection is closed")
        waiting = select.poll()  # poll, not select(): a busy worker's descriptor may be above 1024
        waiting.register(dbapi_connection.pgconn.socket, select.POLLIN)
        if waiting.poll(0):  # something to read (or a hang-up, an error) on an idle connection
            raise sa.exc.DisconnectionError("the server closed the connection")
