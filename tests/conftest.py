"""Shared fixtures: one app per test session, a clean database per test.

The database is SQLite in a temporary file, or PostgreSQL when TEST_DATABASE_URL
names one (as `.ci/run` does). A file, not `:memory:`, so the scheduler process
and a served app started by a test see the same data.
"""
from __future__ import annotations

import asyncio
import os
import secrets
import socket
import threading
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta, timezone
from email import message_from_bytes, policy
from email.message import EmailMessage

import pytest
import sqlalchemy as sa
from flask.testing import FlaskClient

from config import TestConfig, database_url
from tracker import create_app
from tracker.extensions import db

NOW = datetime(2026, 3, 2, 9, 0, tzinfo=timezone.utc)  # a Monday, 12:00 in Moscow
# The suite's app and the processes it starts (scheduler, workers) sign with this key, made for
# the run: those processes run the production Config, which refuses a missing or public key.
TEST_SECRET_KEY = secrets.token_urlsafe(48)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture(scope="session")
def database_uri(tmp_path_factory) -> str:
    url = os.environ.get("TEST_DATABASE_URL")
    if url:
        return database_url(url)
    return f"sqlite:///{tmp_path_factory.mktemp('db') / 'test.db'}"


class RequestClient(FlaskClient):
    """A test client whose every request gets its own app context, as in production.

    Every test keeps one app context open (see `_app_context`); Flask would reuse it for
    requests, so `g` (where Flask-WTF caches the CSRF token) and the database session
    would leak from one request into the next.
    """

    def open(self, *args, **kwargs):  # noqa: ANN002, ANN003, ANN201
        with self.application.app_context():
            return super().open(*args, **kwargs)


@pytest.fixture(scope="session")
def app(database_uri, tmp_path_factory):
    class Config(TestConfig):
        SQLALCHEMY_DATABASE_URI = database_uri
        FEEDS_DIR = str(tmp_path_factory.mktemp("feeds"))
        FEED_EVENT_CACHE = str(tmp_path_factory.mktemp("instance") / "feed-events.cache")
        SECRET_KEY = TEST_SECRET_KEY

    application = create_app(Config)
    application.test_client_class = RequestClient
    with application.app_context():
        db.drop_all()
        db.create_all()
        db.session.remove()
    yield application
    with application.app_context():
        db.session.remove()
        db.engine.dispose()


def _empty_all_tables() -> None:
    db.session.remove()
    with db.engine.begin() as conn:
        for table in reversed(db.metadata.sorted_tables):
            conn.execute(table.delete())


@pytest.fixture(autouse=True)
def _app_context(app):
    """Every test runs inside an app context on an empty database."""
    with app.app_context():
        _empty_all_tables()
        yield
        _empty_all_tables()


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def now() -> datetime:
    return NOW


@pytest.fixture
def is_postgres(database_uri) -> bool:
    return database_uri.startswith("postgresql")


class QueryCounter:
    def __init__(self) -> None:
        self.statements: list[str] = []

    def __call__(self, conn, cursor, statement, parameters, context, executemany) -> None:  # noqa: ANN001
        self.statements.append(statement)

    @property
    def count(self) -> int:
        return len(self.statements)


@pytest.fixture
def count_queries(app):
    """`with count_queries() as counter:` counts the SQL statements the block sends."""

    @contextmanager
    def counting():
        counter = QueryCounter()
        sa.event.listen(db.engine, "before_cursor_execute", counter)
        try:
            yield counter
        finally:
            sa.event.remove(db.engine, "before_cursor_execute", counter)

    return counting


# --- factories --------------------------------------------------------------------

from tracker.records.models import (  # noqa: E402
    Case,
    Court,
    CustodyMeasure,
    Decision,
    Defendant,
    Hearing,
    MeasureKind,
    Outcome,
)


@pytest.fixture
def make_court():
    def make(**kw) -> Court:
        kw.setdefault("name", f"Court {db.session.scalar(sa.select(sa.func.count(Court.id))) + 1}")
        kw.setdefault("address", "Bogorodsky Val, 8, Moscow")
        kw.setdefault("timezone", "Europe/Moscow")
        court = Court(**kw)
        db.session.add(court)
        db.session.flush()
        return court

    return make


@pytest.fixture
def make_case():
    counter = iter(range(1, 10**6))

    def make(**kw) -> Case:
        n = next(counter)
        kw.setdefault("slug", f"case-{n}")
        kw.setdefault("title", f"Case {n}")
        case = Case(**kw)
        db.session.add(case)
        db.session.flush()
        return case

    return make


@pytest.fixture
def make_defendant():
    counter = iter(range(1, 10**6))

    def make(**kw) -> Defendant:
        n = next(counter)
        kw.setdefault("slug", f"defendant-{n}")
        kw.setdefault("name_latin", f"Defendant {n}")
        kw.setdefault("name_original", f"Подсудимый {n}")
        person = Defendant(**kw)
        db.session.add(person)
        db.session.flush()
        return person

    return make


@pytest.fixture
def make_measure():
    def make(defendant: Defendant, **kw) -> CustodyMeasure:
        kw.setdefault("kind", MeasureKind.PRE_TRIAL_DETENTION)
        kw.setdefault("starts_on", date(2025, 6, 8))
        measure = CustodyMeasure(defendant=defendant, **kw)
        db.session.add(measure)
        db.session.flush()
        return measure

    return make


@pytest.fixture
def make_decision():
    def make(defendant: Defendant, **kw) -> Decision:
        kw.setdefault("decided_on", date(2025, 11, 24))
        kw.setdefault("outcome", Outcome.IMPRISONMENT)
        decision = Decision(defendant=defendant, **kw)
        db.session.add(decision)
        db.session.flush()
        return decision

    return make


@pytest.fixture
def make_hearing(make_court, make_defendant):
    def make(**kw) -> Hearing:
        if "court" not in kw:
            kw["court"] = db.session.scalar(sa.select(Court).limit(1)) or make_court()
        if "defendants" not in kw:
            kw["defendants"] = [make_defendant()]
        kw.setdefault("starts_at", NOW + timedelta(days=3))
        hearing = Hearing(**kw)
        db.session.add(hearing)
        db.session.flush()
        return hearing

    return make


# --- a real SMTP server on loopback -----------------------------------------------


@dataclass
class SMTPServer:
    host: str
    port: int
    messages: list[EmailMessage] = field(default_factory=list)
    envelopes: list[tuple[str, list[str]]] = field(default_factory=list)
    # recipient address -> SMTP status line to refuse it with ("450 busy", "550 no such user")
    refuse: dict[str, str] = field(default_factory=dict)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def received_by(self, address: str) -> list[EmailMessage]:
        with self.lock:
            return [m for m, (_, rcpts) in zip(self.messages, self.envelopes) if address in rcpts]


class _Handler:
    def __init__(self, server: SMTPServer, accept_delay: float = 0.0) -> None:
        self.server = server
        self.accept_delay = accept_delay

    async def handle_RCPT(self, srv, session, envelope, address, rcpt_options):  # noqa: ANN001
        if address in self.server.refuse:
            return self.server.refuse[address]
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, srv, session, envelope):  # noqa: ANN001
        if self.accept_delay:  # server side: the sender waits for the reply, as with a slow relay
            await asyncio.sleep(self.accept_delay)
        message = message_from_bytes(envelope.content, policy=policy.default)
        with self.server.lock:
            self.server.messages.append(message)
            self.server.envelopes.append((envelope.mail_from, list(envelope.rcpt_tos)))
        return "250 Message accepted"


@contextmanager
def running_smtp_server(app, accept_delay: float = 0.0, handler: type[_Handler] = _Handler):  # noqa: ANN001, ANN201
    """A real aiosmtpd server on a free loopback port, the app pointed at it while it runs.

    `accept_delay` (seconds) holds each message before accepting it, for tests that need a
    batch to take long enough to interrupt; `handler` (a `_Handler`) looks at what arrives.
    """
    from aiosmtpd.controller import Controller

    server = SMTPServer(host="127.0.0.1", port=free_port())
    controller = Controller(handler(server, accept_delay), hostname=server.host, port=server.port)
    controller.start()
    saved = app.config["SMTP_HOST"], app.config["SMTP_PORT"]
    app.config["SMTP_HOST"], app.config["SMTP_PORT"] = server.host, server.port
    try:
        yield server
    finally:
        controller.stop()
        app.config["SMTP_HOST"], app.config["SMTP_PORT"] = saved


@pytest.fixture
def smtp_server(app):
    """A real aiosmtpd server on a free loopback port; the app is pointed at it."""
    with running_smtp_server(app) as server:
        yield server
