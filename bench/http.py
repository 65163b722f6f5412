"""Public pages over HTTP, under gunicorn with wrk: `python -m bench.http`.

Seeds a movement (2,000 defendants and 20,000 hearings by default) in a scratch database
(SQLite in a temporary directory, or BENCH_DATABASE_URL), starts the real app under
gunicorn, and measures in one run, alternating the rows so a busy moment of the shared
machine hits them all:

- the health endpoint (`/healthz`: no database, no session): what the stack itself costs;
- full renders of the home page and of a defendant's page (no validator sent);
- conditional GETs of the same two pages with the ETag they carry, answered 304 before
  the view runs (one primary-key read of the data generation, tracker/caching.py).

Goal (issue 12): 304s at least 0.9x the health endpoint's rate. Prints a table of
requests/s and latency (median of the rounds), then one JSON line. `run_http(...)` returns
the same figures as a dict (bench/pages.py calls it).

    .venv/bin/python -m bench.http [--defendants 2000] [--hearings 20000] [--seconds 3] [--rounds 3]
"""
from __future__ import annotations

import argparse
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
import urllib.error
import urllib.request
from datetime import datetime, timezone
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

HOME, DEFENDANT = "/", "/defendants/bench-defendant-17"


def wsgi_app():
    """The app gunicorn serves: the production configuration on the scratch database."""
    from config import Config, database_url
    from tracker import create_app

    class BenchConfig(Config):
        SQLALCHEMY_DATABASE_URI = database_url(os.environ["BENCH_DATABASE_URL"])

    return create_app(BenchConfig)


def seed(url: str, defendants: int, hearings: int) -> None:
    """The movement in `url`, dated from now (the served app reads the real clock)."""
    from bench.common import make_app, seed_database
    from tracker.extensions import db

    with tempfile.TemporaryDirectory() as scratch:
        app = make_app(url, scratch)
        with app.app_context():
            seed_database(db, defendants, hearings, now=datetime.now(timezone.utc))
            db.session.remove()
            db.engine.dispose()


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _ms(value: str, unit: str) -> float:
    return float(value) * {"us": 0.001, "ms": 1.0, "s": 1000.0}[unit]


def wrk(url: str, seconds: int, headers: dict[str, str], connections: int = 16, warm_up: bool = False) -> dict:
    """One wrk run: requests/s, median and 99th percentile latency (ms)."""
    command = ["wrk", "-t1", f"-c{connections}", f"-d{seconds}s", "--timeout", "30s", "--latency", url]
    for name, value in headers.items():
        command += ["-H", f"{name}: {value}"]
    output = subprocess.run(command, check=True, capture_output=True, text=True).stdout
    if warm_up:
        return {}
    rate = re.search(r"Requests/sec:\s+([\d.]+)", output)
    p50 = re.search(r"\s50%\s+([\d.]+)(us|ms|s)\b", output)
    p99 = re.search(r"\s99%\s+([\d.]+)(us|ms|s)\b", output)
    if not rate or not p50 or not p99 or "Non-2xx or 3xx" in output or float(rate.group(1)) == 0:
        raise RuntimeError(f"wrk failed or got errors:\n{output}")
    return {"rps": float(rate.group(1)), "p50_ms": _ms(*p50.groups()), "p99_ms": _ms(*p99.groups())}


def _get(url: str, headers: dict[str, str] | None = None) -> tuple[int, dict, bytes]:
    request = urllib.request.Request(url, headers=headers or {})
    try:
        with urllib.request.urlopen(request, timeout=300) as response:
            return response.status, dict(response.headers), response.read()
    except urllib.error.HTTPError as error:
        return error.code, dict(error.headers), b""


def _fresh_etag(url: str, seconds: int) -> str:
    """The page's ETag, taken where the clock part of it (tracker/caching.py: a minute) will
    not move during the next wrk run: a moved ETag would turn the 304s into full renders."""
    if 60 - time.time() % 60 < seconds + 2:
        time.sleep(60 - time.time() % 60 + 0.2)
    status, headers, _body = _get(url)
    assert status == 200, (url, status)
    etag = headers["ETag"]
    assert _get(url, {"If-None-Match": etag})[0] == 304, url  # really answered 304
    return etag


def run_http(defendants: int = 2000, hearings: int = 20000, seconds: int = 3, rounds: int = 3,
             workers: int = 2, connections: int = 16, database_url: str | None = None) -> dict:
    """Seed, serve under gunicorn, measure every row `rounds` times; medians per row."""
    if shutil.which("wrk") is None:
        raise SystemExit("wrk is needed (apt-get install -y wrk)")
    tmp = tempfile.TemporaryDirectory()
    url = database_url or os.environ.get("BENCH_DATABASE_URL") or f"sqlite:///{tmp.name}/bench.db"
    started = time.perf_counter()
    print(f"seeding {defendants} defendants and {hearings} hearings into {url.split(':')[0]}...", file=sys.stderr)
    seed(url, defendants, hearings)
    print(f"seeded in {time.perf_counter() - started:.1f} s", file=sys.stderr)

    port = free_port()
    env = dict(os.environ, BENCH_DATABASE_URL=url, PYTHONPATH=str(ROOT),
               SECRET_KEY=os.environ.get("SECRET_KEY") or secrets.token_urlsafe(48))
    server = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "-w", str(workers), "-b", f"127.0.0.1:{port}",
         "--log-level", "warning", "bench.http:wsgi_app()"],
        cwd=ROOT, env=env,
    )
    base = f"http://127.0.0.1:{port}"
    rows: dict[str, list[dict]] = {}
    sizes = {}
    try:
        for _ in range(300):
            try:
                urllib.request.urlopen(base + "/healthz", timeout=1).read()
                break
            except OSError:
                time.sleep(0.1)
        for path in (HOME, DEFENDANT):
            status, headers, body = _get(base + path)
            assert status == 200 and "Set-Cookie" not in headers, (path, status, headers)
            sizes[path] = len(body)
        for path in ("/healthz", HOME, DEFENDANT):  # warm every worker
            wrk(base + path, 2, {}, connections, warm_up=True)
            _get(base + "/healthz")  # wrk leaves requests queued: the workers drain them first
        for _ in range(rounds):
            plan = [
                ("health", "/healthz", {}),
                ("home, full render", HOME, {}),
                ("defendant, full render", DEFENDANT, {}),
                ("home, 304", HOME, "etag"),
                ("defendant, 304", DEFENDANT, "etag"),
            ]
            for name, path, headers in plan:
                if headers == "etag":
                    headers = {"If-None-Match": _fresh_etag(base + path, seconds)}
                rows.setdefault(name, []).append(wrk(base + path, seconds, headers, connections))
                _get(base + "/healthz")  # the workers drain what wrk left queued before the next row
                if "If-None-Match" in headers:  # still the current ETag after the run: every answer was a 304
                    assert _get(base + path, headers)[0] == 304, f"{name}: the ETag moved during the run"
    finally:
        server.send_signal(signal.SIGTERM)
        server.wait(timeout=30)
        tmp.cleanup()

    summary = {name: {key: statistics.median(run[key] for run in runs) for key in runs[0]}
               for name, runs in rows.items()}
    health = summary["health"]["rps"]
    return {
        "database": url.split(":")[0],
        "defendants": defendants, "hearings": hearings, "workers": workers, "connections": connections,
        "seconds": seconds, "rounds": rounds,
        "rows": summary,
        "runs_rps": {name: [run["rps"] for run in runs] for name, runs in rows.items()},
        "bytes": {"home": sizes[HOME], "defendant": sizes[DEFENDANT]},
        "ratio_304_to_health": {
            "home": summary["home, 304"]["rps"] / health,
            "defendant": summary["defendant, 304"]["rps"] / health,
        },
        "goal_ratio": 0.9,
    }


def print_table(result: dict) -> None:
    print(f"{result['database']}, {result['defendants']} defendants, {result['hearings']} hearings; gunicorn "
          f"{result['workers']} workers, wrk {result['connections']} connections, {result['rounds']} rounds of "
          f"{result['seconds']} s (medians)")
    print(f"{'row':<24} {'req/s':>9} {'p50 ms':>8} {'p99 ms':>8} {'x health':>9}")
    health = result["rows"]["health"]["rps"]
    for name, row in result["rows"].items():
        print(f"{name:<24} {row['rps']:>9.0f} {row['p50_ms']:>8.2f} {row['p99_ms']:>8.2f} {row['rps'] / health:>9.2f}")
    ratios = result["ratio_304_to_health"]
    print(f"304s / health: home {ratios['home']:.2f}, defendant {ratios['defendant']:.2f} "
          f"(goal >= {result['goal_ratio']}); bytes: home {result['bytes']['home']}, "
          f"defendant {result['bytes']['defendant']}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--defendants", type=int, default=2000)
    parser.add_argument("--hearings", type=int, default=20000)
    parser.add_argument("--seconds", type=int, default=3, help="duration of each wrk run")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--workers", type=int, default=2, help="gunicorn workers")
    parser.add_argument("--connections", type=int, default=16)
    args = parser.parse_args()
    result = run_http(args.defendants, args.hearings, args.seconds, args.rounds, args.workers, args.connections)
    print_table(result)
    print(json.dumps(result, sort_keys=True))


if __name__ == "__main__":
    main()
