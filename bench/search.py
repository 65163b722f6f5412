"""Benchmark of the name search: the home page's statement with a search, on many defendants.

Seeds defendants with real-looking Russian names (first name, surname, in Cyrillic with a
Latin spelling made by the import's transliteration), then times `list_defendants` for
queries of each kind (Cyrillic, Latin variant, two words in reverse order, a part of a
word, no match): the median of `--repeat` runs, and how long making the keys took.

    .venv/bin/python -m bench.search [--defendants 5000 20000] [--repeat 9]

BENCH_DATABASE_URL picks the database (default: a temporary SQLite file). On PostgreSQL
the tables are emptied and made again for each size.
"""
from __future__ import annotations

import argparse
import statistics
import tempfile
import time

import sqlalchemy as sa

FIRST = ["Юлия", "Алексей", "Пётр", "Наталья", "Михаил", "Евгений", "Фёдор", "Дмитрий", "Ольга", "Сергей",
         "Анна", "Иван", "Мария", "Андрей", "Елена", "Игорь", "Татьяна", "Никита", "Ксения", "Артём"]
LAST = ["Щукин", "Достоевский", "Хохлов", "Ильин", "Майоров", "Сергеев", "Примеров", "Лузянин", "Косенко",
        "Образцов", "Ёлкин", "Замоскворецкий", "Яковлев", "Соловьёв", "Кузнецов", "Попов", "Васильев", "Зайцев",
        "Павлов", "Семёнов", "Голубев", "Виноградов", "Богданов", "Воробьёв", "Фёдоров"]
QUERIES = ["Щукин", "Julia", "Dostoyevskiy", "Ильин Евгений", "prim iv", "Alexey Shchukin", "nobody-at-all"]


def feminine(last: str, first: str) -> str:
    if first[-1] in "ая":
        if last.endswith("ий"):
            return last[:-2] + "ая"
        if last.endswith(("ов", "ин", "ев", "ёв")):
            return last + "а"
    return last


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--defendants", type=int, nargs="+", default=[5000, 20000])
    parser.add_argument("--repeat", type=int, default=9)
    args = parser.parse_args()

    from bench.common import NOW, backend, bench_database_url, make_app, seed_database
    from tracker.exchange.values import transliterate
    from tracker.extensions import db
    from tracker.records.models import Defendant
    from tracker.records.names import stored_name_keys
    from tracker.records.queries import list_defendants

    tmp = tempfile.TemporaryDirectory()
    url = bench_database_url(tmp.name)
    app = make_app(url, tmp.name)
    now = NOW
    print(f"database: {backend(url)}, median of {args.repeat} runs")
    with app.app_context():
        for size in args.defendants:
            seed_database(db, defendants=0, hearings=0)  # empty tables, the defendants below
            rows = []
            started = time.perf_counter()
            for i in range(size):
                first = FIRST[i % len(FIRST)]
                last = feminine(LAST[(i // len(FIRST)) % len(LAST)], first)
                original = f"{first} {last}"
                latin = transliterate(original) + f" {i}"
                rows.append({"slug": f"p-{i}", "name_original": original, "name_latin": latin,
                             **stored_name_keys(latin, original), "is_public": i % 23 != 0,
                             "created_at": now, "updated_at": now, "version": 1})
            keyed = time.perf_counter() - started
            db.session.execute(sa.insert(Defendant), rows)
            db.session.commit()
            print(f"\n{size} defendants: keys made in {keyed * 1000:.0f} ms "
                  f"({keyed / size * 1e6:.1f} µs a defendant)")
            for query in QUERIES:
                times, total = [], 0
                for _ in range(args.repeat):
                    db.session.expire_all()
                    started = time.perf_counter()
                    page = list_defendants(db.session, now=now, q=query, per_page=50)
                    times.append(time.perf_counter() - started)
                    total = page.total
                print(f"  {query!r:24} {total:6d} found  {statistics.median(times) * 1000:7.1f} ms")
        db.session.remove()
        db.drop_all()


if __name__ == "__main__":
    main()
