"""Solidarity actions, measured: `python -m bench.actions`.

Seeds 2,000 defendants (bench.pages' synthetic movement, 20,000 hearings) and ACTIONS
approved actions in 12 places in a scratch SQLite database (or BENCH_DATABASE_URL), then
times, median of RUNS requests each through the app: /actions, the organisers' form
(/actions/new: every country, zone, case and public defendant), a defendant's page, a
case's page, /actions.ics (built on demand), the same with a matching If-None-Match (304),
and /api/v1/actions. Prints a table, then one JSON line.
"""
from __future__ import annotations

import json
import os
import statistics
import sys
import time
from datetime import timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bench.common import NOW  # noqa: E402
ACTIONS = int(os.environ.get("BENCH_ACTIONS", "500"))
RUNS = int(os.environ.get("BENCH_RUNS", "9"))
PLACES = [("Berlin", "DE", "Europe/Berlin"), ("Tbilisi", "GE", "Asia/Tbilisi"), ("Paris", "FR", "Europe/Paris"),
          ("Vilnius", "LT", "Europe/Vilnius"), ("Yerevan", "AM", "Asia/Yerevan"), ("London", "GB", "Europe/London"),
          ("New York", "US", "America/New_York"), ("Almaty", "KZ", "Asia/Almaty"), ("Riga", "LV", "Europe/Riga"),
          ("Prague", "CZ", "Europe/Prague"), ("Warsaw", "PL", "Europe/Warsaw"), ("Istanbul", "TR", "Europe/Istanbul")]


def add_actions(db) -> None:  # noqa: ANN001
    """ACTIONS approved actions in 12 places over 60 days, for a case and two of the first 50 defendants."""
    import sqlalchemy as sa

    from tracker.actions.models import Action, ActionStatus
    from tracker.records.models import Case, Defendant

    people = db.session.scalars(sa.select(Defendant).order_by(Defendant.id).limit(50)).all()
    cases = db.session.scalars(sa.select(Case).order_by(Case.id)).all()
    for i in range(ACTIONS):
        city, country, zone = PLACES[i % len(PLACES)]
        starts = NOW + timedelta(days=1 + i % 60, hours=i % 10)
        db.session.add(Action(title=f"Action {i}", description="Letters and postcards. " * 5, city=city,
                              country=country, timezone=zone, starts_at=starts, ends_at=starts + timedelta(hours=2),
                              status=ActionStatus.APPROVED, contact="organiser@example.org",
                              case=cases[i % len(cases)], defendants=people[i % 50: i % 50 + 2]))


def main() -> None:
    import sqlalchemy as sa

    from bench.common import seeded_app
    from tracker.extensions import db
    from tracker.records.models import Case, Defendant

    results: dict[str, dict[str, float]] = {}
    # the movement as this benchmark always had it: 10 cases (seed_movement's own default)
    with seeded_app(2000, 20000, cases=10, extra=add_actions, BASE_URL="https://tracker.example.org") as app:
        person = db.session.scalar(sa.select(Defendant.slug).order_by(Defendant.id).limit(1))
        case = db.session.scalar(sa.select(Case.slug).order_by(Case.id).limit(1))
        db.session.remove()
        client = app.test_client()
        etag = client.get("/actions.ics").headers["ETag"]
        for name, path, headers in [
            ("/actions", "/actions", {}),
            ("/actions/new", "/actions/new", {}),
            ("/defendants/<slug>", f"/defendants/{person}", {}),
            ("/cases/<slug>", f"/cases/{case}", {}),
            ("/actions.ics", "/actions.ics", {}),
            ("/actions.ics (304)", "/actions.ics", {"If-None-Match": etag}),
            ("/api/v1/actions", "/api/v1/actions?limit=100", {}),
        ]:
            times = []
            for _run in range(RUNS):
                started = time.perf_counter()
                response = client.get(path, headers=headers)
                times.append((time.perf_counter() - started) * 1000)
                assert response.status_code in (200, 304), (path, response.status_code)
            results[name] = {"median_ms": round(statistics.median(times), 1), "min_ms": round(min(times), 1),
                             "max_ms": round(max(times), 1), "bytes": len(response.get_data())}
    print(f"{ACTIONS} approved actions, 2,000 defendants, 20,000 hearings; {RUNS} requests each")
    print(f"{'page':24} {'median ms':>10} {'min':>8} {'max':>8} {'bytes':>9}")
    for name, row in results.items():
        print(f"{name:24} {row['median_ms']:>10} {row['min_ms']:>8} {row['max_ms']:>8} {row['bytes']:>9}")
    print(json.dumps({"actions": ACTIONS, "runs": RUNS, "results": results}))


if __name__ == "__main__":
    main()
