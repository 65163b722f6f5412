"""Benchmark of the spreadsheet import at a large movement's size.

Writes two CSV files the way a group would keep them (Excel in a Russian locale: BOM,
semicolons, dates as 08.06.2012): 2,000 defendants, each with a custody measure, and
20,000 hearings of one to three defendants. Then, on an empty database, times

- the dry run (reading the files and planning: every lookup batched),
- the import itself (the same plan applied through the editing services, one audited
  change per record, committed),
- the dry run of the same files again (everything left alone),

and, as the baseline, a raw bulk insert of the very same rows (Core `executemany`, no
ORM, no audit, no checks) into another empty database. Prints a table, then one JSON line.

    .venv/bin/python -m bench.import [--defendants 2000] [--hearings 20000]

BENCH_DATABASE_URL picks the database (default: temporary SQLite files).
"""
from __future__ import annotations

import argparse
import csv
import io
import json
import os
import random
import sys
import tempfile
import time
from collections import Counter
from datetime import date, datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import sqlalchemy as sa

NOW = datetime(2026, 3, 2, 9, 0, tzinfo=timezone.utc)
COURTS = [f"Районный суд №{i}" for i in range(1, 9)]
CASES = 50


def make_files(defendants: int, hearings: int, seed: int = 13) -> tuple[bytes, bytes, bytes]:
    """cases.csv, defendants.csv and hearings.csv as Excel in a Russian locale saves them."""
    rng = random.Random(seed)

    def to_csv(rows: list[list[str]]) -> bytes:
        out = io.StringIO()
        csv.writer(out, delimiter=";", lineterminator="\r\n").writerows(rows)
        return ("\ufeff" + out.getvalue()).encode("utf-8")

    cases = [["slug", "title"]] + [[f"case-{c}", f"Дело №{c}"] for c in range(CASES)]
    people = [["external_id", "ФИО", "Имя латиницей", "Дело", "Статьи", "Дата рождения", "Дата ареста", "Мера",
               "Мера с", "Мера до", "Адрес для писем"]]
    for i in range(defendants):
        arrested = date(2024, 1, 1) + timedelta(days=i % 600)
        people.append([str(1000 + i), f"Человек Номер {i}", f"Person Number {i}", f"case-{i % CASES}",
                       "212 ч.2, 318 ч.1", f"{1 + i % 28:02d}.{1 + i % 12:02d}.{1960 + i % 40}",
                       arrested.strftime("%d.%m.%Y"), "СИЗО", arrested.strftime("%d.%m.%Y"),
                       (arrested + timedelta(days=60)).strftime("%d.%m.%Y"), f"СИЗО-{i % 7}, Москва"])
    by_case: dict[int, list[int]] = {}
    for i in range(defendants):
        by_case.setdefault(i % CASES, []).append(i)
    meetings = [["external_id", "Подсудимые", "Суд", "Дата и время", "Дело", "Тип", "Статус", "Зал"]]
    for h in range(hearings):
        case = h % CASES
        members = rng.sample(by_case[case], k=min(len(by_case[case]), rng.randint(1, 3)))
        upcoming = h % 2 == 0
        start = NOW + timedelta(days=rng.randint(1, 60)) if upcoming else NOW - timedelta(days=rng.randint(1, 700))
        start = start.astimezone(ZoneInfo("Europe/Moscow")).replace(hour=9 + h % 8, minute=(h % 4) * 15)
        meetings.append([f"h{h}", ", ".join(str(1000 + m) for m in members), COURTS[h % len(COURTS)],
                         start.strftime("%d.%m.%Y %H:%M"), f"case-{case}", "trial",
                         "назначено" if upcoming else "состоялось", str(100 + h % 40)])
    return to_csv(cases), to_csv(people), to_csv(meetings)


class SQLTimer:
    """Statements sent and the time spent inside the driver, to split SQL from Python."""

    def __init__(self, engine: sa.Engine) -> None:
        self.engine, self.count, self.seconds, self._started = engine, 0, 0.0, 0.0

    def before(self, *args) -> None:  # noqa: ANN002
        self._started = time.perf_counter()

    def after(self, *args) -> None:  # noqa: ANN002
        self.count += 1
        self.seconds += time.perf_counter() - self._started

    def __enter__(self) -> SQLTimer:
        sa.event.listen(self.engine, "before_cursor_execute", self.before)
        sa.event.listen(self.engine, "after_cursor_execute", self.after)
        return self

    def __exit__(self, *exc) -> None:  # noqa: ANN002
        sa.event.remove(self.engine, "before_cursor_execute", self.before)
        sa.event.remove(self.engine, "after_cursor_execute", self.after)


def raw_bulk_insert(engine: sa.Engine, files: list, now: datetime) -> tuple[float, float]:
    """The same rows with nothing but the database: parse naively, executemany, commit.

    Returns (wall seconds, CPU seconds of this process)."""
    from tracker.records.names import stored_name_keys
    from tracker.records.models import (
        Case,
        Court,
        CustodyMeasure,
        Defendant,
        Hearing,
        case_defendants,
        hearing_defendants,
    )

    started, cpu = time.perf_counter(), time.process_time()
    tables = {f.name: list(csv.reader(io.StringIO(f.data.decode("utf-8-sig")), delimiter=";"))[1:] for f in files}

    def day(text: str) -> date:
        d, m, y = text.split(".")
        return date(int(y), int(m), int(d))

    moscow = ZoneInfo("Europe/Moscow")
    with engine.begin() as conn:
        conn.execute(sa.insert(Court), [{"name": n, "address": "", "timezone": "Europe/Moscow"} for n in COURTS])
        courts = dict(conn.execute(sa.select(Court.name, Court.id)).all())
        conn.execute(sa.insert(Case), [{"slug": s, "title": t, "description": "", "charges": "", "is_demo": False,
                                        "version": 1, "created_at": now, "updated_at": now}
                                       for s, t in tables["cases.csv"]])
        cases = dict(conn.execute(sa.select(Case.slug, Case.id)).all())
        conn.execute(sa.insert(Defendant), [{
            "external_id": r[0], "slug": r[2].lower().replace(" ", "-"), "name_original": r[1], "name_latin": r[2],
            **stored_name_keys(r[2], r[1]), "bio": "", "charges": r[4], "birth_date": day(r[5]),
            "arrested_on": day(r[6]), "status": "pre_trial_detention", "letters_address": r[10],
            "letters_status": "unknown", "is_public": True, "lawyer_contacts": "", "internal_notes": "",
            "version": 1, "created_at": now, "updated_at": now} for r in tables["defendants.csv"]])
        people = dict(conn.execute(sa.select(Defendant.external_id, Defendant.id)).all())
        conn.execute(sa.insert(case_defendants), [{"case_id": cases[r[3]], "defendant_id": people[r[0]]}
                                                  for r in tables["defendants.csv"]])
        conn.execute(sa.insert(CustodyMeasure), [{
            "defendant_id": people[r[0]], "kind": "pre_trial_detention", "starts_on": day(r[8]), "until": day(r[9]),
            "ordered_by": "", "note": "", "created_at": now} for r in tables["defendants.csv"]])
        rows = tables["hearings.csv"]
        conn.execute(sa.insert(Hearing), [{
            "external_id": r[0], "case_id": cases[r[4]], "court_id": courts[r[2]],
            "starts_at": datetime.strptime(r[3], "%d.%m.%Y %H:%M").replace(tzinfo=moscow).astimezone(timezone.utc),
            "duration_minutes": 120, "courtroom": r[7], "judge": "", "is_open": True, "video_link_note": "",
            "kind": "trial", "status": "scheduled" if r[6] == "назначено" else "held", "outcome_note": "",
            "version": 1, "created_at": now, "updated_at": now} for r in rows])
        hearings = dict(conn.execute(sa.select(Hearing.external_id, Hearing.id)).all())
        conn.execute(sa.insert(hearing_defendants), [
            {"hearing_id": hearings[r[0]], "defendant_id": people[p.strip()]} for r in rows for p in r[1].split(",")])
    return time.perf_counter() - started, time.process_time() - cpu


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--defendants", type=int, default=2000)
    parser.add_argument("--hearings", type=int, default=20000)
    args = parser.parse_args()

    from config import TestConfig, database_url
    from tracker import create_app
    from tracker.auth.logic import create_user
    from tracker.auth.models import Role
    from tracker.exchange.apply import apply_plan, dry_run
    from tracker.exchange.reading import UploadedFile
    from tracker.extensions import db

    tmp = tempfile.TemporaryDirectory()
    base_url = os.environ.get("BENCH_DATABASE_URL")
    urls = [database_url(base_url or f"sqlite:///{tmp.name}/import.db"),
            database_url(base_url or f"sqlite:///{tmp.name}/raw.db")]
    cases_csv, people_csv, hearings_csv = make_files(args.defendants, args.hearings)
    files = [UploadedFile("cases.csv", cases_csv), UploadedFile("defendants.csv", people_csv),
             UploadedFile("hearings.csv", hearings_csv)]
    rows = args.defendants + args.hearings + CASES
    size_kib = sum(len(f.data) for f in files) / 1024
    kind = urls[0].split("://")[0].split("+")[0]

    class Config(TestConfig):
        SQLALCHEMY_DATABASE_URI = urls[0]

    app = create_app(Config)
    figures: dict[str, dict] = {}
    with app.app_context():
        db.drop_all()
        db.create_all()
        admin = create_user(db.session, "bench@example.org", role=Role.ADMIN, password=None, now=NOW)
        db.session.commit()

        def phase(name: str, work) -> object:  # noqa: ANN001
            print(f"  {name}...", file=sys.stderr)
            with SQLTimer(db.engine) as sql:
                started, cpu = time.perf_counter(), time.process_time()
                result = work()
                seconds, cpu = time.perf_counter() - started, time.process_time() - cpu
            figures[name] = {"seconds": round(seconds, 2), "cpu_seconds": round(cpu, 2), "statements": sql.count,
                             "sql_seconds": round(sql.seconds, 2)}
            return result

        def plan_files():  # noqa: ANN202
            plan = dry_run(db.session, files, user=admin, now=NOW, max_rows=10**6, default_timezone="Europe/Moscow")
            assert plan.ok, plan.problems[:5]
            return plan

        plan = phase("dry run", plan_files)

        def apply() -> int:
            count = apply_plan(db.session, plan, user=admin, now=NOW)
            db.session.commit()
            return count

        changes = phase("import", apply)
        actions = Counter(i.action for i in plan.items)
        again = phase("dry run again", plan_files)
        assert again.changes == 0, "re-importing the same files must change nothing"
        db.session.rollback()
        from tracker.records.models import Hearing

        assert db.session.scalar(sa.select(sa.func.count(Hearing.id))) == args.hearings

    raw_engine = sa.create_engine(urls[1])
    if base_url:  # one database: the raw insert goes in after emptying it
        with app.app_context():
            db.drop_all()
    from tracker.extensions import db as _db

    _db.metadata.drop_all(raw_engine)
    _db.metadata.create_all(raw_engine)
    raw_seconds, raw_cpu = raw_bulk_insert(raw_engine, files, NOW)
    raw_engine.dispose()
    figures["raw bulk insert"] = {"seconds": round(raw_seconds, 2), "cpu_seconds": round(raw_cpu, 2),
                                  "statements": None, "sql_seconds": None}

    imported = figures["dry run"]["seconds"] + figures["import"]["seconds"]
    imported_cpu = figures["dry run"]["cpu_seconds"] + figures["import"]["cpu_seconds"]
    print()
    print(f"Import of {args.defendants} defendants (with custody) and {args.hearings} hearings from CSV "
          f"({size_kib:.0f} KiB, {rows} rows, {changes} changes) on {kind}")
    header = f"{'phase':<18} {'seconds':>8} {'CPU s':>7} {'statements':>11} {'in SQL s':>9} {'rows/s':>8}"
    print(header)
    print("-" * len(header))
    for name, f in figures.items():
        statements = "" if f["statements"] is None else f["statements"]
        sql_seconds = "" if f["sql_seconds"] is None else f"{f['sql_seconds']:.2f}"
        print(f"{name:<18} {f['seconds']:>8.2f} {f['cpu_seconds']:>7.2f} {statements:>11} {sql_seconds:>9} "
              f"{rows / f['seconds']:>8.0f}")
    print(f"dry run + import: {imported:.1f} s ({imported_cpu:.1f} s of CPU in this process), "
          f"{imported / raw_seconds:.0f}x the raw bulk insert ({imported_cpu / raw_cpu:.0f}x in CPU); "
          f"plan: {dict(actions)}; load average {os.getloadavg()[0]:.1f}")
    print(json.dumps({"bench": "import", "database": kind, "defendants": args.defendants,
                      "hearings": args.hearings, "rows": rows, "changes": changes, "csv_kib": round(size_kib),
                      "phases": figures, "ratio_to_raw": round(imported / raw_seconds, 1),
                      "cpu_ratio_to_raw": round(imported_cpu / raw_cpu, 1), "load_average": os.getloadavg()[0]}))


if __name__ == "__main__":
    main()
