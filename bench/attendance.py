"""Benchmark of the public count of those going ("7 people are going").

Seeds 2,000 defendants and 20,000 hearings, then times `/hearings` (the page with the
most hearings on it) with no attendance, and again after 50,000 confirmed attendances
spread over the upcoming hearings; also the count's one query alone. Median of
`--repeat` runs each.

    .venv/bin/python -m bench.attendance [--attendances 50000] [--repeat 15]

BENCH_DATABASE_URL picks the database (default: a temporary SQLite file).
"""
from __future__ import annotations

import argparse
import json
import statistics

import sqlalchemy as sa

from bench.common import NOW, backend, measure_ms, seeded_app


def _median_ms(run, repeat: int) -> float:  # noqa: ANN001
    return statistics.median(measure_ms(run, repeat))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--defendants", type=int, default=2000)
    parser.add_argument("--hearings", type=int, default=20000)
    parser.add_argument("--attendances", type=int, default=50000)
    parser.add_argument("--repeat", type=int, default=15)
    args = parser.parse_args()

    from tracker.attendance.logic import going_counts
    from tracker.extensions import db
    from tracker.records.enums import HearingStatus
    from tracker.records.models import Hearing
    from tracker.reminders.models import Subscription

    with seeded_app(args.defendants, args.hearings) as app:
        now = NOW
        url = app.bench_url
        client = app.test_client()

        def page() -> None:
            assert client.get("/hearings").status_code == 200

        page()  # warm
        before = _median_ms(page, args.repeat)
        upcoming = list(db.session.scalars(sa.select(Hearing.id).where(
            Hearing.status == HearingStatus.SCHEDULED, Hearing.starts_at > now)))
        rows = [{"email": f"a{n}@example.org", "scope": "hearing", "hearing_id": upcoming[n % len(upcoming)],
                 "scope_key": f"hearing:{upcoming[n % len(upcoming)]}", "lead_minutes": [1440, 180],
                 "digest": False, "token": f"bench-token-{n}", "first_name": "", "created_at": now,
                 "confirmed_at": now} for n in range(args.attendances)]
        db.session.execute(sa.insert(Subscription), rows)
        db.session.commit()
        page()
        after = _median_ms(page, args.repeat)
        shown = upcoming[:300]  # what /hearings shows (UPCOMING_LIMIT)
        query = _median_ms(lambda: going_counts(db.session, shown), args.repeat)
        db.session.rollback()

    print(f"{'what':45} {'median ms':>10}")
    print(f"{'/hearings, no attendance':45} {before:10.1f}")
    print(f"{f'/hearings, {args.attendances} attendances':45} {after:10.1f}")
    print(f"{'the count query alone (300 hearings)':45} {query:10.1f}")
    print(json.dumps({"bench": "attendance", "database": backend(url), "hearings_page_ms": before,
                      "hearings_page_with_attendances_ms": after, "count_query_ms": query,
                      "attendances": args.attendances, "upcoming_hearings": len(upcoming), "repeat": args.repeat}))


if __name__ == "__main__":
    main()
