"""Benchmark of the JSON API and the CSV export on a large movement.

Seeds 2,000 defendants and 20,000 hearings, then requests each API listing through
the whole app (routing, ORM, serialisation, ETag) and reports the median time per
request, the number of SQL statements and the size of the answer. The baseline,
measured in the same run, is the raw database work: the very statements the request
sent, re-executed through the bare DB-API cursor. The hearings listing is measured
on its first page and deep in the data (page 150, through a cursor), where keyset
pagination must cost the same as on page 1.

    .venv/bin/python -m bench.api [--defendants 2000] [--hearings 20000] [--repeat 15]

BENCH_DATABASE_URL picks the database (default: a temporary SQLite file).
"""
from __future__ import annotations

import argparse
import json
import statistics
import sys


def requests_to_measure(deep_cursor: str, court_id: int) -> list[tuple[str, str]]:
    return [
        ("hearings, page 1", "/api/v1/hearings"),
        ("hearings, page 150", f"/api/v1/hearings?cursor={deep_cursor}"),
        ("hearings, 200 a page", "/api/v1/hearings?limit=200"),
        ("hearings, one week", "/api/v1/hearings?from=2026-03-09&to=2026-03-15"),
        ("hearings, a case", "/api/v1/hearings?case=bench-case-3"),
        ("hearings, a defendant", "/api/v1/hearings?defendant=bench-defendant-17"),
        ("hearings, court+status", f"/api/v1/hearings?court={court_id}&status=scheduled"),
        ("defendants, page 1", "/api/v1/defendants"),
        ("defendants, 200 a page", "/api/v1/defendants?limit=200"),
        ("one defendant", "/api/v1/defendants/bench-defendant-17"),
        ("cases", "/api/v1/cases"),
        ("courts", "/api/v1/courts"),
        ("CSV export (all)", "/export/defendants.csv"),
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--defendants", type=int, default=2000)
    parser.add_argument("--hearings", type=int, default=20000)
    parser.add_argument("--repeat", type=int, default=15)
    args = parser.parse_args()

    import sqlalchemy as sa

    from bench.common import backend, capture_statements, measure_ms, raw_sql_ms, seeded_app
    from tracker.api import cursor
    from tracker.extensions import db
    from tracker.records.models import Court, Hearing

    with seeded_app(args.defendants, args.hearings) as app:
        url = app.bench_url
        # the cursor the 149th "next" link would carry: the key of the 7,450th hearing
        position = min(149 * 50, args.hearings) - 1
        key = db.session.execute(
            sa.select(Hearing.starts_at, Hearing.id).order_by(Hearing.starts_at, Hearing.id).offset(position).limit(1)
        ).one()
        deep_cursor = cursor.encode("hearings", (key.starts_at, key.id))
        court_id = db.session.scalar(sa.select(Court.id).order_by(Court.id))
        db.session.remove()

        client = app.test_client()
        results = []
        for name, path in requests_to_measure(deep_cursor, court_id):
            holder = {}
            statements = capture_statements(db.engine, lambda: holder.update(response=client.get(path)))  # noqa: B023
            response = holder["response"]
            assert response.status_code == 200, (path, response.status_code, response.get_data(as_text=True)[:200])
            size = len(response.data)
            app_ms = statistics.median(measure_ms(lambda: client.get(path), args.repeat))  # noqa: B023
            raw_ms = statistics.median(raw_sql_ms(db.engine, statements, args.repeat))
            results.append({
                "request": name, "path": path if "cursor=" not in path else path.split("?")[0] + "?cursor=…",
                "queries": len(statements), "median_ms": round(app_ms, 2), "raw_sql_ms": round(raw_ms, 2),
                "ratio": round(app_ms / raw_ms, 1) if raw_ms else None, "bytes": size,
            })
            print(f"  {name}: {app_ms:.1f} ms", file=sys.stderr)

    print()
    print(f"JSON API and CSV export, {args.defendants} defendants, {args.hearings} hearings, "
          f"median of {args.repeat} requests ({backend(url)})")
    header = f"{'request':<24} {'queries':>7} {'app ms':>9} {'raw SQL ms':>11} {'ratio':>6} {'KiB':>7}"
    print(header)
    print("-" * len(header))
    for r in results:
        print(f"{r['request']:<24} {r['queries']:>7} {r['median_ms']:>9.2f} {r['raw_sql_ms']:>11.2f} "
              f"{r['ratio']:>6} {r['bytes'] / 1024:>7.1f}")
    print(json.dumps({"bench": "api", "database": backend(url), "defendants": args.defendants,
                      "hearings": args.hearings, "repeat": args.repeat, "requests": results}))


if __name__ == "__main__":
    main()
