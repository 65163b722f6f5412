"""Feed publishing and serving, measured: `python -m bench.feeds` (or `make bench`).

Seeds 1,000 defendants and 10,000 hearings in a scratch database (SQLite in a temp
dir, or BENCH_DATABASE_URL), then measures in one run:
- the first publish (every event serialized by `icalendar`, in every language), then a
  republish with nothing changed, and a republish after one hearing changes (median of
  several): every language's feeds are republished, so all of them count;
- the baseline: the same 10,000 events written once by a plain string writer (escaping
  and folding by hand, no library, no database: the raw work), interleaved with the
  republishes in the same process so that the shared machine's load weighs on both;
- the bytes of all.ics in each language beside the plain writer's;
- a cold web worker's first republish after hiding a defendant (what immediate.py does in
  the editor's request), in a fresh process after the scheduler-side publish above wrote the
  event cache's file (FEED_EVENT_CACHE), alternated with a warm process's republish after a
  hide; `--cold-without-cache` adds the same cold republish with the file switched off (every
  event serialized, as before the file existed);
- under gunicorn, with `wrk`, conditional requests for /feeds/all.ics answered 304
  against a trivial health endpoint of the same app.
Goals (issue 12): a republish after one change (all languages) <= 1x the plain writer's
time for the whole set (one language); 304 rate >= 80% of the health endpoint's.
Prints a table, then one JSON line.
"""
from __future__ import annotations

import argparse
import gzip
import json
import os
import re
import secrets
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from datetime import datetime, timedelta, timezone
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

ZONES = ["Europe/Moscow", "Europe/Kaliningrad", "Asia/Yekaterinburg", "Asia/Vladivostok", "Europe/Berlin"]
NOW = datetime(2026, 3, 2, 9, 0, tzinfo=timezone.utc)


def make_config(database_url: str, feeds_dir: str, event_cache: str = ""):
    from config import Config, database_url as normalise

    class BenchConfig(Config):
        SECRET_KEY = os.environ.get("SECRET_KEY") or secrets.token_urlsafe(48)  # no sessions are kept
        SQLALCHEMY_DATABASE_URI = normalise(database_url)
        FEEDS_DIR = feeds_dir
        FEED_EVENT_CACHE = event_cache
        BASE_URL = "https://tracker.example.org"
        WTF_CSRF_ENABLED = False

    return BenchConfig


def wsgi_app():
    """The app gunicorn serves in the benchmark: the real app plus a trivial health route."""
    from tracker import create_app
    from tracker.access import public

    app = create_app(make_config(os.environ["BENCH_DATABASE_URL"], os.environ["BENCH_FEEDS_DIR"]))

    @app.get("/bench/healthz")
    @public
    def bench_health():
        return "ok"

    return app


# --- seeding ---------------------------------------------------------------------------


def seed(db, defendants: int, hearings: int) -> None:
    """Bulk inserts (Core): seeding is not what is measured."""
    import sqlalchemy as sa

    from tracker.records.enums import HearingKind
    from tracker.records.models import Case, Court, Defendant, Hearing, case_defendants, hearing_defendants

    kinds = list(HearingKind)
    db.session.execute(sa.insert(Court), [
        {"id": i + 1, "name": f"Районный суд № {i + 1}", "address": f"ул. Судебная, {i + 1}, город {i}", "timezone": tz}
        for i, tz in enumerate(ZONES)
    ])
    cases = max(1, defendants // 10)
    db.session.execute(sa.insert(Case), [
        {"id": c + 1, "slug": f"case-{c + 1}", "title": f"Дело № {c + 1}", "description": "", "charges": ""}
        for c in range(cases)
    ])
    db.session.execute(sa.insert(Defendant), [
        {"id": d + 1, "slug": f"person-{d + 1}", "name_latin": f"Person {d + 1} Ivanov",
         "name_original": f"Персона {d + 1} Иванов", "search_name": "", "is_public": d % 50 != 0,
         "internal_notes": "private", "lawyer_contacts": "private"}
        for d in range(defendants)
    ])
    db.session.execute(sa.insert(case_defendants), [
        {"case_id": d // 10 + 1 if d // 10 < cases else cases, "defendant_id": d + 1} for d in range(defendants)
    ])
    rows, links = [], []
    for h in range(hearings):
        first = (h * 7) % defendants
        case_id = first // 10 + 1 if first // 10 < cases else cases
        rows.append({
            "id": h + 1, "case_id": case_id, "court_id": h % len(ZONES) + 1,
            "starts_at": NOW - timedelta(days=60) + timedelta(hours=h * 0.8),
            "duration_minutes": 120, "courtroom": str(h % 30 + 1), "judge": f"Судья {h % 200}",
            "kind": kinds[h % len(kinds)].value, "status": "scheduled", "outcome_note": "",
            "video_link_note": "", "is_open": True,
        })
        links.append({"hearing_id": h + 1, "defendant_id": first + 1})
        if h % 3 == 0:
            links.append({"hearing_id": h + 1, "defendant_id": (first + 1) % defendants + 1})
    db.session.execute(sa.insert(Hearing), rows)
    db.session.execute(sa.insert(hearing_defendants), links)
    db.session.commit()


# --- the baseline: a plain string writer -----------------------------------------------


def load_plain_rows(db) -> list[tuple]:
    """The data of every public hearing as plain tuples (not timed: the writer is)."""
    import sqlalchemy as sa

    from tracker.records.models import Court, Defendant, Hearing, hearing_defendants

    names: dict[int, list[str]] = {}
    for hearing_id, latin in db.session.execute(
        sa.select(hearing_defendants.c.hearing_id, Defendant.name_latin)
        .join(Defendant, Defendant.id == hearing_defendants.c.defendant_id)
        .where(Defendant.is_public.is_(True))
    ):
        names.setdefault(hearing_id, []).append(latin)
    rows = db.session.execute(
        sa.select(Hearing.id, Hearing.version, Hearing.starts_at, Hearing.duration_minutes, Hearing.updated_at,
                  Hearing.kind, Hearing.judge, Hearing.courtroom, Court.name, Court.address, Court.timezone)
        .join(Court, Court.id == Hearing.court_id)
        .order_by(Hearing.starts_at, Hearing.id)
    ).all()
    return [tuple(r) + (names[r.id],) for r in rows if r.id in names]


def _escape(text: str) -> str:
    return text.replace("\\", "\\\\").replace(";", "\\;").replace(",", "\\,").replace("\n", "\\n")


def _fold(line: str) -> str:
    data = line.encode()
    if len(data) <= 75:
        return line + "\r\n"
    parts, start, limit = [], 0, 75
    while start < len(data):
        end = min(start + limit, len(data))
        while end < len(data) and (data[end] & 0xC0) == 0x80:  # never split a character
            end -= 1
        parts.append(data[start:end].decode())
        start, limit = end, 74
    return "\r\n ".join(parts) + "\r\n"


def plain_writer(rows: list[tuple]) -> bytes:
    from zoneinfo import ZoneInfo

    zones = {}
    out = ["BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//bench//plain//EN\r\n"]
    for (hid, version, starts_at, minutes, updated_at, kind, judge, room, court, address, tz, names) in rows:
        zone = zones.get(tz) or zones.setdefault(tz, ZoneInfo(tz))
        start = starts_at.astimezone(zone)
        end = start + timedelta(minutes=minutes)
        stamp = updated_at.strftime("%Y%m%dT%H%M%SZ")
        out.append("BEGIN:VEVENT\r\n")
        out.append(_fold("SUMMARY:" + _escape(f"{kind.value}: {', '.join(names)}")))
        out.append(f"DTSTART;TZID={tz}:{start:%Y%m%dT%H%M%S}\r\nDTEND;TZID={tz}:{end:%Y%m%dT%H%M%S}\r\n")
        out.append(f"DTSTAMP:{stamp}\r\nUID:hearing-{hid}@tracker.example.org\r\nSEQUENCE:{version}\r\n")
        out.append(_fold("DESCRIPTION:" + _escape(f"{kind.value}\n{court}, {address}\nJudge: {judge}")))
        out.append(f"LAST-MODIFIED:{stamp}\r\n")
        out.append(_fold("LOCATION:" + _escape(f"{court}, {address}, courtroom {room}")))
        out.append("STATUS:CONFIRMED\r\nEND:VEVENT\r\n")
    out.append("END:VCALENDAR\r\n")
    return "".join(out).encode()


# --- HTTP under gunicorn ----------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wrk(url: str, seconds: int, headers: dict[str, str]) -> float:
    command = ["wrk", "-t1", "-c16", f"-d{seconds}s", url]
    for name, value in headers.items():
        command += ["-H", f"{name}: {value}"]
    output = subprocess.run(command, check=True, capture_output=True, text=True).stdout
    found = re.search(r"Requests/sec:\s+([\d.]+)", output)
    non2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", output)
    if not found or non2xx:
        raise RuntimeError(f"wrk failed or got errors:\n{output}")
    return float(found.group(1))


def measure_http(
    database_url: str, feeds_dir: str, seconds: int, workers: int, middleware: bool = True, rounds: int = 3
) -> dict:
    if shutil.which("wrk") is None:
        raise SystemExit("wrk is needed for the HTTP part (apt-get install wrk), or pass --no-http")
    port = free_port()
    env = dict(os.environ, BENCH_DATABASE_URL=database_url, BENCH_FEEDS_DIR=feeds_dir, PYTHONPATH=str(ROOT),
               FEED_REVALIDATION_MIDDLEWARE="1" if middleware else "0")
    server = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "-w", str(workers), "-b", f"127.0.0.1:{port}",
         "--log-level", "warning", "bench.feeds:wsgi_app()"],
        cwd=ROOT, env=env,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        for _ in range(100):
            try:
                urllib.request.urlopen(base + "/bench/healthz", timeout=1).read()
                break
            except OSError:
                time.sleep(0.1)
        request = urllib.request.Request(base + "/feeds/all.ics", headers={"Accept-Encoding": "gzip"})
        with urllib.request.urlopen(request) as response:
            etag = response.headers["ETag"]
            size = len(response.read())
        # the conditional request must really be answered 304
        check = urllib.request.Request(base + "/feeds/all.ics", headers={"If-None-Match": etag, "Accept-Encoding": "gzip"})
        try:
            urllib.request.urlopen(check)
            raise RuntimeError("expected 304")
        except urllib.error.HTTPError as error:
            assert error.code == 304, error.code
        wrk(base + "/bench/healthz", 1, {})  # warm up every worker
        health, not_modified = [], []
        for _ in range(rounds):  # alternated, so a busy moment of the machine hits both
            health.append(wrk(base + "/bench/healthz", seconds, {}))
            not_modified.append(wrk(base + "/feeds/all.ics", seconds,
                                    {"If-None-Match": etag, "Accept-Encoding": "gzip"}))
        health_rps, not_modified_rps = statistics.median(health), statistics.median(not_modified)
    finally:
        server.send_signal(signal.SIGTERM)
        server.wait(timeout=20)
    return {"health_rps": health_rps, "not_modified_rps": not_modified_rps, "gzip_feed_bytes": size,
            "ratio_304_to_health": not_modified_rps / health_rps, "workers": workers}


# --- a cold web worker ------------------------------------------------------------------


def cold_worker() -> None:
    """In a fresh process, as a web worker that has never published: hide a defendant (the
    editor's commit), then time `publish_feeds`, what immediate.py runs before the answer."""
    started = time.perf_counter()
    from tracker import create_app
    from tracker.extensions import db
    from tracker.feeds.publish import publish_feeds
    from tracker.records.models import Defendant

    app = create_app(make_config(os.environ["BENCH_DATABASE_URL"], os.environ["BENCH_FEEDS_DIR"],
                                 os.environ["BENCH_EVENT_CACHE"]))
    ready = time.perf_counter() - started
    with app.app_context():
        db.session.get(Defendant, int(os.environ["BENCH_HIDE"])).is_public = False
        db.session.commit()
        started = time.perf_counter()
        report = publish_feeds(NOW)
        seconds = time.perf_counter() - started
    print(json.dumps({"seconds": seconds, "ready_s": ready, "events_rendered": report.events_rendered,
                      "written": len(report.written), "removed": len(report.removed)}))


def run_cold_worker(database_url: str, feeds_dir: str, event_cache: str, hide: int) -> dict:
    env = dict(os.environ, BENCH_DATABASE_URL=database_url, BENCH_FEEDS_DIR=feeds_dir, BENCH_EVENT_CACHE=event_cache,
               BENCH_HIDE=str(hide), PYTHONPATH=str(ROOT))
    output = subprocess.run([sys.executable, "-m", "bench.feeds", "--cold-worker"], cwd=ROOT, env=env, check=True,
                            capture_output=True, text=True).stdout
    return json.loads(output.strip().splitlines()[-1])


def measure_cold(db, database_url: str, feeds_dir: str, event_cache: str, defendants: int, rounds: int,
                 without_cache: bool) -> dict:
    """Cold workers' first republish after a hide, alternated with a warm process's (this one)."""
    from tracker.feeds.publish import publish_feeds
    from tracker.records.models import Defendant

    public = [d for d in range(2, defendants, 37) if (d - 1) % 50 != 0]  # the seed hides every 50th
    cold, warm, rendered = [], [], []
    for n in range(rounds):
        result = run_cold_worker(database_url, feeds_dir, event_cache, public[2 * n])
        cold.append(result["seconds"])
        rendered.append(result["events_rendered"])
        # this process catches up with the worker's hide: the worker's files are what it would write
        assert publish_feeds(NOW).written == [], "the cold worker's files differ from a warm publisher's"
        db.session.rollback()
        db.session.get(Defendant, public[2 * n + 1]).is_public = False
        db.session.commit()
        started = time.perf_counter()
        publish_feeds(NOW)
        warm.append(time.perf_counter() - started)
        db.session.rollback()
    figures = {"cold_first_republish_s": statistics.median(cold), "cold_first_republish_runs_s": cold,
               "cold_events_serialized": rendered, "cold_ready_s": result["ready_s"],
               "warm_hide_republish_s": statistics.median(warm), "warm_hide_republish_runs_s": warm}
    if without_cache:
        result = run_cold_worker(database_url, feeds_dir, "", public[2 * rounds])
        figures["cold_without_cache_s"] = result["seconds"]
        figures["cold_without_cache_events_serialized"] = result["events_rendered"]
    return figures


# --- the run ----------------------------------------------------------------------------


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--defendants", type=int, default=1000)
    parser.add_argument("--hearings", type=int, default=10000)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--seconds", type=int, default=3, help="duration of each wrk run (3 rounds each)")
    parser.add_argument("--workers", type=int, default=2, help="gunicorn workers")
    parser.add_argument("--cold-rounds", type=int, default=3, help="cold workers started (alternated with warm)")
    parser.add_argument("--cold-without-cache", action="store_true",
                        help="also one cold worker with FEED_EVENT_CACHE off (every event serialized: slow)")
    parser.add_argument("--cold-worker", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--no-http", action="store_true")
    parser.add_argument("--no-uncached", action="store_true",
                        help="skip timing icalendar alone on every event (long on a busy machine)")
    args = parser.parse_args()
    if args.cold_worker:
        return cold_worker()

    import logging

    from tracker import create_app
    from tracker.extensions import db
    from tracker.feeds import ical
    from tracker.feeds.publish import publish_feeds
    from tracker.feeds.snapshot import feed_languages
    from tracker.records.models import Hearing

    workdir = Path(tempfile.mkdtemp(prefix="bench-feeds-"))
    database_url = os.environ.get("BENCH_DATABASE_URL") or f"sqlite:///{workdir / 'bench.db'}"
    feeds_dir = str(workdir / "feeds")
    event_cache = str(workdir / "feed-events.cache")  # beside FEEDS_DIR, not in it
    app = create_app(make_config(database_url, feeds_dir, event_cache))
    logging.getLogger("tracker.feeds.publish").setLevel(logging.WARNING)
    figures: dict[str, object] = {"database": database_url.split(":", 1)[0], "defendants": args.defendants,
                                  "hearings": args.hearings}
    try:
        with app.app_context():
            db.drop_all()
            db.create_all()
            seed(db, args.defendants, args.hearings)

            started = time.perf_counter()
            first = publish_feeds(NOW)
            figures["first_publish_s"] = time.perf_counter() - started
            figures["event_cache_bytes"] = Path(event_cache).stat().st_size
            figures["feeds"] = first.feeds
            figures["events_serialized_first"] = first.events_rendered
            figures["languages"] = list(feed_languages())
            for lang in feed_languages():
                prefix = "" if lang == feed_languages()[0] else f"{lang}/"
                body = (Path(feeds_dir) / prefix / "all.ics").read_bytes()
                figures[f"all_ics_bytes_{lang}"] = len(body)
                figures[f"all_ics_gzip_bytes_{lang}"] = len(gzip.compress(body, compresslevel=6, mtime=0))
            figures["all_ics_bytes"] = figures[f"all_ics_bytes_{feed_languages()[0]}"]
            db.session.rollback()

            started = time.perf_counter()
            idle = publish_feeds(NOW)
            figures["republish_no_change_s"] = time.perf_counter() - started
            assert idle.written == [], idle.written
            db.session.rollback()

            # republish after one change and the plain writer, interleaved so that the load
            # of a shared machine weighs on both alike; medians
            rows = load_plain_rows(db)
            db.session.rollback()
            times, written, plain = [], [], []
            for n in range(args.repeats):
                hearing = db.session.get(Hearing, 1 + n * 997 % args.hearings)
                hearing.starts_at = hearing.starts_at + timedelta(days=1)  # a postponement
                db.session.commit()
                started = time.perf_counter()
                report = publish_feeds(NOW)
                times.append(time.perf_counter() - started)
                written.append(len(report.written))
                assert report.events_rendered == len(feed_languages()), report.events_rendered
                db.session.rollback()
                started = time.perf_counter()
                text = plain_writer(rows)
                plain.append(time.perf_counter() - started)
            figures["republish_one_change_s"] = statistics.median(times)
            figures["feeds_rewritten_per_change"] = statistics.median(written)
            figures["plain_writer_events"] = len(rows)
            figures["plain_writer_s"] = statistics.median(plain)
            figures["plain_writer_bytes"] = len(text)
            figures["plain_writer_gzip_bytes"] = len(gzip.compress(text, compresslevel=6, mtime=0))
            figures["republish_one_change_runs_s"] = [round(t, 4) for t in times]
            figures["plain_writer_runs_s"] = [round(t, 4) for t in plain]

            # icalendar alone on the same events, no cache: what the cache saves
            hearings = [] if args.no_uncached else db.session.scalars(
                db.select(Hearing).options(db.joinedload(Hearing.defendants), db.joinedload(Hearing.case))
            ).unique().all()
            started = time.perf_counter()
            for hearing in hearings:
                ical.hearing_event(hearing, app.config["BASE_URL"]).to_ical()
            figures["icalendar_uncached_s"] = None if args.no_uncached else time.perf_counter() - started
            db.session.rollback()
            if args.cold_rounds:
                figures.update(measure_cold(db, database_url, feeds_dir, event_cache, args.defendants, args.cold_rounds,
                                            args.cold_without_cache))

        figures["ratio_republish_to_plain"] = figures["republish_one_change_s"] / figures["plain_writer_s"]
        figures["goal_republish_max_ratio"] = 1.0
        if not args.no_http:
            http = measure_http(database_url, feeds_dir, args.seconds, args.workers)
            figures.update(http)
            # the same 304s answered by the Flask view, without the middleware: for comparison
            flask_only = measure_http(database_url, feeds_dir, args.seconds, args.workers, middleware=False)
            figures["flask_view_health_rps"] = flask_only["health_rps"]
            figures["flask_view_not_modified_rps"] = flask_only["not_modified_rps"]
            figures["flask_view_ratio_304_to_health"] = flask_only["ratio_304_to_health"]
            figures["load_tool"] = "wrk -t1 -c16, 3 alternated rounds, medians"
            figures["goal_304_min_ratio"] = 0.8
    finally:
        shutil.rmtree(workdir, ignore_errors=True)

    rows_out = [
        ("seed", f"{args.defendants} defendants, {args.hearings} hearings, {figures['feeds']} feeds ({figures['database']})"),
        ("first publish (all serialized)", f"{figures['first_publish_s']:.3f} s"),
        ("icalendar alone, all events, no cache", "skipped" if figures["icalendar_uncached_s"] is None
                                                  else f"{figures['icalendar_uncached_s']:.3f} s"),
        ("republish, nothing changed", f"{figures['republish_no_change_s']:.3f} s"),
        ("republish after one change (median)", f"{figures['republish_one_change_s']:.3f} s, "
                                                f"{figures['feeds_rewritten_per_change']} files rewritten"),
        ("event cache file (FEED_EVENT_CACHE)", f"{figures['event_cache_bytes'] / 1e6:.1f} MB"),
        ("plain string writer, same events", f"{figures['plain_writer_s']:.3f} s ({figures['plain_writer_events']} events)"),
        ("ratio republish / plain writer", f"{figures['ratio_republish_to_plain']:.2f}x (goal <= 1x; "
                                           f"{len(figures['languages'])} languages republished)"),
    ]
    if "cold_first_republish_s" in figures:
        rows_out += [
            ("cold worker: first republish after a hide", f"{figures['cold_first_republish_s']:.3f} s (median of "
             f"{len(figures['cold_first_republish_runs_s'])}; events serialized {figures['cold_events_serialized']})"),
            ("warm process: republish after a hide", f"{figures['warm_hide_republish_s']:.3f} s"),
            ("cold worker: app ready (imports, create_app)", f"{figures['cold_ready_s']:.3f} s"),
        ]
    if "cold_without_cache_s" in figures:
        rows_out.append(("cold worker, no event cache file", f"{figures['cold_without_cache_s']:.3f} s "
                         f"({figures['cold_without_cache_events_serialized']} events serialized)"))
    for lang in figures["languages"]:
        rows_out.append((f"all.ics ({lang})", f"{figures[f'all_ics_bytes_{lang}'] / 1e6:.2f} MB, "
                                             f"gzip {figures[f'all_ics_gzip_bytes_{lang}'] / 1e6:.2f} MB"))
    rows_out.append(("plain writer's calendar", f"{figures['plain_writer_bytes'] / 1e6:.2f} MB, "
                                                f"gzip {figures['plain_writer_gzip_bytes'] / 1e6:.2f} MB"))
    if "health_rps" in figures:
        rows_out += [
            ("health endpoint (gunicorn, wrk)", f"{figures['health_rps']:.0f} req/s"),
            ("conditional GET all.ics -> 304", f"{figures['not_modified_rps']:.0f} req/s"),
            ("ratio 304 / health", f"{figures['ratio_304_to_health']:.0%} (goal >= 80%)"),
            ("without the middleware: health / 304", f"{figures['flask_view_health_rps']:.0f} / "
                                                     f"{figures['flask_view_not_modified_rps']:.0f} req/s, "
                                                     f"{figures['flask_view_ratio_304_to_health']:.0%}"),
        ]
    width = max(len(name) for name, _ in rows_out)
    for name, value in rows_out:
        print(f"{name.ljust(width)}  {value}")
    print(json.dumps({k: round(v, 4) if isinstance(v, float) else v for k, v in figures.items()}))


if __name__ == "__main__":
    main()
