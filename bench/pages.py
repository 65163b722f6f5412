"""Benchmark of the public pages on a large movement.

Seeds 2,000 defendants and 20,000 hearings, then requests each public page
through the whole app (routing, ORM, templates) and reports the median time per
request and the number of SQL statements. The baseline, measured in the same run,
is the raw database work: the very statements the page sent, re-executed through
the bare DB-API cursor with no ORM and no templates. The ratio is what the
framework costs on top of the database.

    .venv/bin/python -m bench.pages [--defendants 2000] [--hearings 20000] [--repeat 15]

BENCH_DATABASE_URL picks the database (default: a temporary SQLite file).
"""
from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
import time
from datetime import datetime, timezone

import sqlalchemy as sa

from bench.http import print_table, run_http

PAGES = [
    ("home", "/"),
    ("home, search", "/?q=person+17"),
    ("home, case filter", "/?case=bench-case-3"),
    ("defendant", "/defendants/bench-defendant-17"),
    ("case", "/cases/bench-case-3"),
    ("upcoming hearings", "/hearings"),
    ("birthdays and releases", "/dates"),
]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--defendants", type=int, default=2000)
    parser.add_argument("--hearings", type=int, default=20000)
    parser.add_argument("--repeat", type=int, default=15)
    parser.add_argument("--http", action="store_true",
                        help="also serve the same data under gunicorn and load it with wrk (bench/http.py): the "
                             "health endpoint, full renders and 304s, in the same run")
    args = parser.parse_args()

    import time_machine

    from config import TestConfig, database_url
    from tracker import create_app
    from tracker.extensions import db
    from tracker.records.synthetic import seed_movement

    tmp = tempfile.TemporaryDirectory()
    url = database_url(os.environ.get("BENCH_DATABASE_URL") or f"sqlite:///{tmp.name}/bench.db")

    class Config(TestConfig):
        SQLALCHEMY_DATABASE_URI = url

    app = create_app(Config)
    now = datetime(2026, 3, 2, 9, 0, tzinfo=timezone.utc)
    with app.app_context(), time_machine.travel(now, tick=False):
        db.drop_all()
        db.create_all()
        started = time.perf_counter()
        print(f"seeding {args.defendants} defendants and {args.hearings} hearings into {url.split('://')[0]}...",
              file=sys.stderr)
        seed_movement(db.session, defendants=args.defendants, hearings=args.hearings, now=now, prefix="bench",
                      cases=max(1, args.defendants // 40))
        db.session.commit()
        print(f"seeded in {time.perf_counter() - started:.1f} s", file=sys.stderr)

        client = app.test_client()
        results = []
        for name, path in PAGES:
            statements: list[tuple[str, object]] = []

            def capture(conn, cursor, statement, parameters, context, executemany):  # noqa: ANN001
                statements.append((statement, parameters))

            sa.event.listen(db.engine, "before_cursor_execute", capture)
            response = client.get(path)
            sa.event.remove(db.engine, "before_cursor_execute", capture)
            assert response.status_code == 200, (path, response.status_code)
            size = len(response.data)

            page_times = []
            for _ in range(args.repeat):
                t0 = time.perf_counter()
                client.get(path)
                page_times.append(time.perf_counter() - t0)

            raw = db.engine.raw_connection()
            try:
                raw_times = []
                for _ in range(args.repeat):
                    cursor = raw.cursor()
                    t0 = time.perf_counter()
                    for statement, parameters in statements:
                        cursor.execute(statement, parameters)
                        cursor.fetchall()
                    raw_times.append(time.perf_counter() - t0)
                    cursor.close()
            finally:
                raw.close()
            page_ms = statistics.median(page_times) * 1000
            raw_ms = statistics.median(raw_times) * 1000
            results.append({
                "page": name, "path": path, "queries": len(statements), "median_ms": round(page_ms, 2),
                "raw_sql_ms": round(raw_ms, 2), "ratio": round(page_ms / raw_ms, 1) if raw_ms else None,
                "bytes": size,
            })
            print(f"  {name}: {page_ms:.1f} ms", file=sys.stderr)

    print()
    print(f"Public pages, {args.defendants} defendants, {args.hearings} hearings, "
          f"median of {args.repeat} requests ({url.split('://')[0]})")
    header = f"{'page':<24} {'queries':>7} {'app ms':>9} {'raw SQL ms':>11} {'ratio':>6} {'KiB':>7}"
    print(header)
    print("-" * len(header))
    for r in results:
        print(f"{r['page']:<24} {r['queries']:>7} {r['median_ms']:>9.2f} {r['raw_sql_ms']:>11.2f} "
              f"{r['ratio']:>6} {r['bytes'] / 1024:>7.1f}")
    figures = {"bench": "pages", "database": url.split("://")[0], "defendants": args.defendants,
               "hearings": args.hearings, "repeat": args.repeat, "pages": results}
    if args.http:
        http = run_http(args.defendants, args.hearings, database_url=os.environ.get("BENCH_DATABASE_URL"))
        print()
        print_table(http)
        figures["http"] = http
    print(json.dumps(figures))


if __name__ == "__main__":
    main()
