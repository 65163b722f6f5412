"""What the benchmarks share: the app on a scratch database, seeded with a movement.

Every benchmark of the web app (pages, the API, attendance, actions, search, the HTTP run)
needs the same thing before it measures: the real app (`create_app`) on a database of its
own (a temporary SQLite file, or the PostgreSQL database `BENCH_DATABASE_URL` names, emptied
first), usually seeded with the synthetic movement (`records.synthetic.seed_movement`) at a
fixed moment, with PostgreSQL's statistics made (right after a bulk insert the planner has
none and sorts 20,000 hearings for a page of 50). `seeded_app` is that, once.

    with seeded_app(defendants=2000, hearings=20000) as app:   # app context, clock at NOW
        client = app.test_client()
        ...
"""
from __future__ import annotations

import os
import secrets
import sys
import tempfile
import time
from contextlib import contextmanager
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Callable, Iterator

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

# A Monday, 12:00 in Moscow: every benchmark's "now", so runs compare.
NOW = datetime(2026, 3, 2, 9, 0, tzinfo=timezone.utc)


def bench_database_url(scratch: str) -> str:
    """`BENCH_DATABASE_URL` (normalised for psycopg 3), else a SQLite file in `scratch`."""
    from config import database_url

    return database_url(os.environ.get("BENCH_DATABASE_URL") or f"sqlite:///{scratch}/bench.db")


def backend(url: str) -> str:
    """"sqlite" or "postgresql": how the tables and JSON lines name the database."""
    return url.split(":")[0].split("+")[0]


def make_app(url: str, scratch: str, **settings: Any):  # noqa: ANN201
    """The app on `url` with the test configuration (no SMTP, in-memory rate limits), a fresh
    secret key, feeds written to `scratch`, and any `settings` on top."""
    from config import TestConfig, database_url
    from tracker import create_app

    values = {"SQLALCHEMY_DATABASE_URI": database_url(url), "SECRET_KEY": secrets.token_urlsafe(48), "FEEDS_DIR": scratch,
              **settings}
    return create_app(type("BenchConfig", (TestConfig,), values))


def analyze(db) -> None:  # noqa: ANN001
    """PostgreSQL: make the planner's statistics now (autovacuum would, in production)."""
    import sqlalchemy as sa

    if db.engine.dialect.name == "postgresql":
        db.session.execute(sa.text("ANALYZE"))
        db.session.commit()


def seed_database(db, defendants: int, hearings: int, now: datetime = NOW, cases: int | None = None,  # noqa: ANN001
                  prefix: str = "bench") -> None:
    """Empty tables, then the synthetic movement (committed, analysed), with progress on stderr."""
    from tracker.records.synthetic import seed_movement

    db.session.remove()  # PostgreSQL: an open read would block the DROP
    db.drop_all()
    db.create_all()
    if not defendants:
        return
    started = time.perf_counter()
    print(f"seeding {defendants} defendants and {hearings} hearings into {db.engine.dialect.name}...",
          file=sys.stderr)
    seed_movement(db.session, defendants=defendants, hearings=hearings, now=now, prefix=prefix,
                  cases=cases if cases is not None else max(1, defendants // 40))
    db.session.commit()
    analyze(db)
    print(f"seeded in {time.perf_counter() - started:.1f} s", file=sys.stderr)


@contextmanager
def seeded_app(defendants: int = 2000, hearings: int = 20000, *, now: datetime = NOW, cases: int | None = None,
               extra: Callable[[Any], None] | None = None, freeze_clock: bool = True,
               **settings: Any) -> Iterator[Any]:
    """The app on a scratch database seeded with the movement, inside its app context and (by
    default) with the clock stopped at `now`. `extra(db)` adds a benchmark's own rows after the
    movement (committed and analysed with it). `defendants=0`: empty tables, nothing seeded.
    The app's `bench_url` says which database it is."""
    import time_machine

    from tracker.extensions import db

    with tempfile.TemporaryDirectory(prefix="bench-") as scratch:
        url = bench_database_url(scratch)
        app = make_app(url, scratch, **settings)
        app.bench_url = url
        with app.app_context():
            traveller = time_machine.travel(now, tick=False) if freeze_clock else None
            if traveller is not None:
                traveller.start()
            try:
                seed_database(db, defendants, hearings, now=now, cases=cases)
                if extra is not None:
                    extra(db)
                    db.session.commit()
                    analyze(db)
                db.session.remove()
                yield app
            finally:
                db.session.remove()
                if traveller is not None:
                    traveller.stop()
                db.engine.dispose()


@contextmanager
def own_contexts() -> Iterator[None]:
    """Inside `seeded_app`, pop its app context while the block runs, so that each request
    through the test client pushes its own, as under gunicorn: a fresh `g` (a page's
    `records.display.Display`, Flask-Babel's locale) and a fresh ORM session. Inside one
    shared context all of those outlive a request, and the next one is measured warm (its
    days, moments and names already worded, its entities already in the identity map)."""
    from flask.globals import _cv_app

    context = _cv_app.get(None)
    if context is None:
        yield
        return
    context.pop()
    try:
        yield
    finally:
        context.push()


def measure_ms(run: Callable[[], object], repeat: int) -> list[float]:
    """`run()` timed `repeat` times, in milliseconds (wall clock, perf_counter)."""
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        run()
        times.append((time.perf_counter() - started) * 1000)
    return times


def capture_statements(engine, run: Callable[[], object]) -> list[tuple[str, object]]:  # noqa: ANN001
    """The SQL statements (and parameters) `run()` sends through `engine`."""
    import sqlalchemy as sa

    statements: list[tuple[str, object]] = []

    def capture(conn, cursor, statement, parameters, context, executemany) -> None:  # noqa: ANN001
        statements.append((statement, parameters))

    sa.event.listen(engine, "before_cursor_execute", capture)
    try:
        run()
    finally:
        sa.event.remove(engine, "before_cursor_execute", capture)
    return statements


def _raw_run_ms(raw, statements: list[tuple[str, object]]) -> float:  # noqa: ANN001
    """One run of `statements` on the DB-API connection `raw`, every row fetched, in ms."""
    cursor = raw.cursor()
    started = time.perf_counter()
    for statement, parameters in statements:
        cursor.execute(statement, parameters)
        cursor.fetchall()
    elapsed = (time.perf_counter() - started) * 1000
    cursor.close()
    return elapsed


def raw_sql_ms(engine, statements: list[tuple[str, object]], repeat: int) -> list[float]:  # noqa: ANN001
    """The same statements re-executed on a bare DB-API cursor (no ORM, no templates), all rows
    fetched: the database's share of a request, in milliseconds per run."""
    raw = engine.raw_connection()
    try:
        times = [_raw_run_ms(raw, statements) for _ in range(repeat)]
        raw.rollback()
    finally:
        raw.close()
    return times


def interleaved(run: Callable[[], object], engine, statements: list[tuple[str, object]],  # noqa: ANN001
                repeat: int) -> tuple[list[float], list[float]]:
    """`run()` and a raw run of `statements` (as `raw_sql_ms`) timed in turn, `repeat` rounds:
    (run's times, the raw SQL's times) in milliseconds. Timed one after the other (all the
    requests, then all the SQL), a burst of load from elsewhere lands on one side of a ratio
    only; in turn, both sides share the machine's moods. The raw connection is held across the
    rounds, as `raw_sql_ms` holds it (on PostgreSQL one transaction: no BEGIN per run)."""
    raw = engine.raw_connection()
    try:
        run_times, raw_times = [], []
        for _ in range(repeat):
            started = time.perf_counter()
            run()
            run_times.append((time.perf_counter() - started) * 1000)
            raw_times.append(_raw_run_ms(raw, statements))
        raw.rollback()
    finally:
        raw.close()
    return run_times, raw_times
