"""Benchmark of the public pages on a large movement.

Seeds 2,000 defendants and 20,000 hearings (and some solidarity actions), then requests
every public HTML page through the whole app (routing, ORM, templates) and reports the
median time per request and the number of SQL statements. The baseline, measured in the
same run, is the raw database work: the very statements the page sent, re-executed through
the bare DB-API cursor with no ORM and no templates. The ratio is what the framework costs
on top of the database.

Part of every request costs the same whatever the page shows: the app's hooks, the
validator (ETag) of a shared page, the layout (navigation, language switch, the demo
banner's check). That **floor** is measured in the same run on a page with nothing of its
own: a bench-only route, declared like every public page (`@public`, `@cacheable_page()`),
rendering the site's layout with an empty body (`floor`); beside it the health endpoint
(no template, no database) and a 404 (the layout, no route). Each page's row then also says
"app − floor", what its own data and template cost, and that over its raw SQL (no ratio for
a page that sends no SQL of its own). A page and its raw SQL are timed in turn, one request
then one run of its statements, `--repeat` rounds (`common.interleaved`), so a burst of load
from elsewhere on the machine weighs on both sides of the ratio alike. Timings are wall-clock
medians: on a shared machine, run it several times and compare the medians.

    .venv/bin/python -m bench.pages [--defendants 2000] [--hearings 20000] [--repeat 15]

BENCH_DATABASE_URL picks the database (default: a temporary SQLite file; a PostgreSQL
database is emptied first).
"""
from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
from datetime import timedelta

from bench.common import NOW, backend, capture_statements, interleaved, measure_ms, own_contexts, seeded_app
from bench.http import print_table, run_http

DEFENDANT, CASE = "bench-defendant-17", "bench-case-3"
ACTIONS = 200  # approved solidarity actions, a few per defendant and case (/actions lists them)
PLACES = [("Berlin", "DE", "Europe/Berlin"), ("Tbilisi", "GE", "Asia/Tbilisi"), ("Paris", "FR", "Europe/Paris"),
          ("Vilnius", "LT", "Europe/Vilnius"), ("Yerevan", "AM", "Asia/Yerevan"), ("London", "GB", "Europe/London")]


def pages(hearing_id: int) -> list[tuple[str, str, str]]:
    """(name, endpoint, path) of every public HTML page measured; `check_coverage` holds the
    list to the app's routes."""
    return [
        ("home", "records.index", "/"),
        ("home, search", "records.index", "/?q=person+17"),
        ("home, case filter", "records.index", f"/?case={CASE}"),
        ("defendant", "records.defendant", f"/defendants/{DEFENDANT}"),
        ("case", "records.case", f"/cases/{CASE}"),
        ("upcoming hearings", "records.hearings", "/hearings"),
        ("birthdays and releases", "records.dates", "/dates"),
        ("actions", "actions.upcoming", "/actions"),
        ("action: submit form", "actions.submit", "/actions/new"),
        ("action: received", "actions.received", "/actions/received"),
        ("reminders: sign-up", "reminders.signup", "/reminders/signup"),
        ("reminders: signed up", "reminders.signed_up", "/reminders/signed-up"),
        ("attend a hearing", "attendance.attend", f"/attend/{hearing_id}"),
        ("attend: signed up", "attendance.signed_up", f"/attend/{hearing_id}/signed-up"),
        ("login", "auth.login", "/login"),
        ("password reset", "auth.request_reset", "/password-reset"),
    ]


# Public GET routes that are not HTML pages: measured elsewhere (bench/feeds.py, bench/api.py)
# or not pages at all.
NOT_PAGES = ("feeds.", "actions.feed", "api.", "export.", "healthz", "i18n.switch", "static", "bench.")


def check_coverage(app, measured: list[tuple[str, str, str]]) -> None:  # noqa: ANN001
    """Fail when the app has a public HTML page this benchmark does not request."""
    endpoints = {endpoint for _name, endpoint, _path in measured}
    missing = sorted(
        rule.endpoint for rule in app.url_map.iter_rules()
        if "GET" in rule.methods and getattr(app.view_functions[rule.endpoint], "access", None) == "public"
        and not rule.endpoint.startswith(NOT_PAGES) and rule.endpoint not in endpoints
    )
    if missing:
        raise SystemExit(f"public pages not measured by bench/pages.py: {missing}; add them to pages()")


def add_actions(db) -> None:  # noqa: ANN001
    """ACTIONS approved actions over the next 60 days, in six places, each for a case or two
    defendants (the measured defendant and case among them)."""
    import sqlalchemy as sa

    from tracker.actions.models import Action, ActionStatus
    from tracker.records.models import Case, Defendant

    people = db.session.scalars(sa.select(Defendant).order_by(Defendant.id).limit(40)).all()
    people.append(db.session.scalar(sa.select(Defendant).where(Defendant.slug == DEFENDANT)))
    cases = db.session.scalars(sa.select(Case).order_by(Case.id)).all()
    for i in range(ACTIONS):
        city, country, zone = PLACES[i % len(PLACES)]
        starts = NOW + timedelta(days=1 + i % 60, hours=i % 10)
        db.session.add(Action(
            title=f"Action {i}", description="Letters and postcards. " * 5, city=city, country=country,
            timezone=zone, starts_at=starts, ends_at=starts + timedelta(hours=2), status=ActionStatus.APPROVED,
            contact="organiser@example.org", case=cases[i % len(cases)] if i % 3 else None,
            defendants=[people[-1]] if i % 7 == 0 else people[i % 40: i % 40 + 2],
        ))


def add_floor_page(app) -> None:  # noqa: ANN001
    """The floor: a public page as every other is declared, whose body is empty."""
    from flask import Blueprint, render_template
    from jinja2 import ChoiceLoader, DictLoader

    from tracker.access import public
    from tracker.caching import cacheable_page

    app.jinja_loader  # noqa: B018  (Flask makes its loader lazily)
    app.jinja_env.loader = ChoiceLoader([
        app.jinja_env.loader,
        DictLoader({"bench/floor.html": '{% extends "base.html" %}{% block content %}{% endblock %}'}),
    ])
    bp = Blueprint("bench", __name__)

    @bp.get("/bench/floor")
    @public
    @cacheable_page()
    def floor():  # noqa: ANN202
        return render_template("bench/floor.html")

    app.register_blueprint(bp)


def measure(client, path: str, repeat: int, status: int = 200) -> float:  # noqa: ANN001
    """Median ms of `repeat` GETs of `path` (after one to warm)."""
    response = client.get(path)
    assert response.status_code == status, (path, response.status_code)
    return statistics.median(measure_ms(lambda: client.get(path), repeat))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--defendants", type=int, default=2000)
    parser.add_argument("--hearings", type=int, default=20000)
    parser.add_argument("--repeat", type=int, default=15)
    parser.add_argument("--http", action="store_true",
                        help="also serve the same data under gunicorn and load it with wrk (bench/http.py): the "
                             "health endpoint, full renders and 304s, in the same run")
    args = parser.parse_args()

    import sqlalchemy as sa

    from tracker.extensions import db
    from tracker.records.enums import HearingStatus
    from tracker.records.models import Hearing

    with seeded_app(args.defendants, args.hearings, extra=add_actions) as app:
        add_floor_page(app)
        database = backend(app.bench_url)
        hearing_id = db.session.scalar(
            sa.select(Hearing.id).where(Hearing.status == HearingStatus.SCHEDULED, Hearing.starts_at > NOW)
            .order_by(Hearing.starts_at, Hearing.id).limit(1))
        db.session.remove()
        measured = pages(hearing_id)
        check_coverage(app, measured)
        client = app.test_client()

        # the floor, measured before, between and after the pages (the machine's load moves)
        floor_runs: list[float] = []
        reference: dict[str, list[float]] = {"health": [], "404": []}

        def measure_floor() -> None:
            floor_runs.append(measure(client, "/bench/floor", args.repeat))
            reference["health"].append(measure(client, "/healthz", args.repeat))
            reference["404"].append(measure(client, "/bench/no-such-page", args.repeat, status=404))

        engine = db.engine
        with own_contexts():  # each request in its own app context (a fresh g and session), as in production
            measure_floor()
            results = []
            for number, (name, _endpoint, path) in enumerate(measured):
                if number == len(measured) // 2:
                    measure_floor()
                statements: list[tuple[str, object]] = []
                holder = {}

                def first() -> None:
                    holder["response"] = client.get(path)  # noqa: B023

                statements = capture_statements(engine, first)
                response = holder["response"]
                assert response.status_code == 200, (path, response.status_code)
                size = len(response.data)
                page_runs, raw_runs = interleaved(lambda: client.get(path), engine, statements, args.repeat)  # noqa: B023
                page_ms, raw_ms = statistics.median(page_runs), statistics.median(raw_runs)
                results.append({
                    "page": name, "path": path, "queries": len(statements), "median_ms": round(page_ms, 2),
                    "raw_sql_ms": round(raw_ms, 2), "ratio": round(page_ms / raw_ms, 1) if statements and raw_ms else None,
                    "bytes": size,
                })
                print(f"  {name}: {page_ms:.1f} ms", file=sys.stderr)
            measure_floor()
        db.session.remove()

    floor_ms = statistics.median(floor_runs)
    for r in results:
        own = r["median_ms"] - floor_ms
        r["minus_floor_ms"] = round(own, 2)
        r["minus_floor_ratio"] = round(own / r["raw_sql_ms"], 1) if r["queries"] and r["raw_sql_ms"] else None
    floor = {"floor_ms": round(floor_ms, 3), "floor_runs_ms": [round(x, 3) for x in floor_runs],
             "health_ms": round(statistics.median(reference["health"]), 3),
             "not_found_ms": round(statistics.median(reference["404"]), 3)}

    print()
    print(f"Public pages, {args.defendants} defendants, {args.hearings} hearings, {ACTIONS} actions, "
          f"median of {args.repeat} requests ({database})")
    print(f"floor (an empty public page, same stack): {floor['floor_ms']:.2f} ms (runs: "
          f"{', '.join(f'{x:.2f}' for x in floor_runs)}); /healthz {floor['health_ms']:.2f} ms; "
          f"404 {floor['not_found_ms']:.2f} ms")
    header = (f"{'page':<24} {'queries':>7} {'app ms':>9} {'raw SQL ms':>11} {'ratio':>6} "
              f"{'app-floor':>10} {'ratio':>6} {'KiB':>7}")
    print(header)
    print("-" * len(header))
    for r in results:
        own_ratio = r["minus_floor_ratio"] if r["minus_floor_ratio"] is not None else "-"
        ratio = r["ratio"] if r["ratio"] is not None else "-"
        print(f"{r['page']:<24} {r['queries']:>7} {r['median_ms']:>9.2f} {r['raw_sql_ms']:>11.2f} "
              f"{ratio:>6} {r['minus_floor_ms']:>10.2f} {own_ratio:>6} {r['bytes'] / 1024:>7.1f}")
    figures = {"bench": "pages", "database": database, "defendants": args.defendants,
               "hearings": args.hearings, "actions": ACTIONS, "repeat": args.repeat, "pages": results, **floor}
    if args.http:
        http = run_http(args.defendants, args.hearings, database_url=os.environ.get("BENCH_DATABASE_URL"))
        print()
        print_table(http)
        figures["http"] = http
    print(json.dumps(figures))


if __name__ == "__main__":
    main()
