"""Save the public pages of this tree, and compare two saves byte for byte.

A rendering change must leave every public page's HTML byte-identical (docs/rendering.md).
Checking that by hand (a throwaway script per branch) is what this replaces: each tree saves
its pages from the same deterministic movement, then `compare` says which differ and where.

    .venv/bin/python -m bench.page_snapshot save DIR [--defendants 300] [--hearings 3000]
    .venv/bin/python -m bench.page_snapshot compare DIR1 DIR2

`save` seeds the movement at bench's fixed moment (`bench.common.NOW`, the seed's fixed
random seed) plus `bench.pages`' solidarity actions, with a fixed SECRET_KEY and RELEASE (a
form's signed token and the static files' version would otherwise differ between trees, or
between runs), then requests every kind of public HTML page, several of each (home pages,
searches and filters, a stride of defendants and hearings, every case, the action, reminder
and attendance forms, the login pages, a 404), in English and in Russian, and writes each body
to DIR/<database>/<lang>/<n>.html with a manifest (path, status, bytes, SQL statement count).
BENCH_DATABASE_URL picks the database as for the other benchmarks; run `save` once per
database into the same DIR. The one value that cannot be fixed, the session's CSRF token
of the login and password-reset forms (random per visitor), is written as `CSRF-TOKEN`.

`compare` lists the pages whose bytes or statement counts differ, with the first differing
line; it exits 1 if anything differs (or a page is missing from one side), 0 otherwise.
"""
from __future__ import annotations

import argparse
import json
import re
import sys
from pathlib import Path

from bench.common import NOW, backend, capture_statements, own_contexts, seeded_app

SECRET_KEY = "page-snapshot-key-not-secret-" + "x" * 40  # the same in every tree: signed tokens compare
RELEASE = "page-snapshot"  # the static files' version, else a hash of this tree's code
LANGUAGES = ("en", "ru")
# the session's CSRF token (login, password reset): random per visitor, so masked; the shared
# pages' signed tokens (`forms.public_form_token`: window.signature) are fixed by the key and the clock
SESSION_TOKEN = re.compile(rb'(name="csrf_token" type="hidden" value=")([^"]*)(")')
PUBLIC_TOKEN = re.compile(rb"[0-9]+\.[A-Za-z0-9_=-]{24}")


def mask(body: bytes) -> bytes:
    """The body with session CSRF tokens replaced by `CSRF-TOKEN`."""
    def replace(match: re.Match) -> bytes:
        return match.group(0) if PUBLIC_TOKEN.fullmatch(match.group(2)) else match.group(1) + b"CSRF-TOKEN" + match.group(3)

    return SESSION_TOKEN.sub(replace, body)


def paths(db) -> list[str]:  # noqa: ANN001
    """Every kind of public HTML page, several of each, from what the seed made."""
    import sqlalchemy as sa

    from tracker.records.enums import DefendantStatus, HearingStatus
    from tracker.records.models import Case, Defendant, Hearing

    slugs = db.session.scalars(sa.select(Defendant.slug).order_by(Defendant.id)).all()
    cases = db.session.scalars(sa.select(Case.slug).order_by(Case.id)).all()
    upcoming = db.session.scalars(
        sa.select(Hearing.id).where(Hearing.status == HearingStatus.SCHEDULED, Hearing.starts_at > NOW)
        .order_by(Hearing.starts_at, Hearing.id)).all()
    every = db.session.scalars(sa.select(Hearing.id).order_by(Hearing.id)).all()
    found = ["/", "/?page=2", "/?page=3", "/?page=9999", "/?q=person+17", "/?q=17", "/?q=%D0%B8%D0%B2",
             f"/?case={cases[0]}", f"/?case={cases[-1]}&page=2", "/hearings", f"/hearings?case={cases[1]}",
             "/dates", "/actions", "/actions/new", f"/actions/new?defendant={slugs[16]}",
             f"/actions/new?case={cases[2]}", "/actions/received", "/reminders/signup",
             f"/reminders/signup?next=/defendants/{slugs[3]}", "/reminders/signed-up", "/login",
             "/password-reset", "/no-such-page", f"/defendants/{slugs[0]}-not-there"]
    found += [f"/?status={status.value}" for status in DefendantStatus]
    found += [f"/defendants/{slug}" for slug in slugs[:: max(1, len(slugs) // 40)]]
    found += [f"/defendants/{slug}" for slug in slugs[16:18]]  # the one bench.pages measures, with its actions
    found += [f"/cases/{slug}" for slug in cases]
    for hearing_id in upcoming[:: max(1, len(upcoming) // 12)] + every[:: max(1, len(every) // 8)]:
        found += [f"/attend/{hearing_id}", f"/attend/{hearing_id}/signed-up"]
    return list(dict.fromkeys(found))


def save(directory: Path, defendants: int, hearings: int) -> None:
    from bench.pages import add_actions
    from tracker.extensions import db

    with seeded_app(defendants, hearings, extra=add_actions, SECRET_KEY=SECRET_KEY, RELEASE=RELEASE) as app:
        database = backend(app.bench_url)
        found = paths(db)
        db.session.remove()
        client, engine = app.test_client(), db.engine
        manifest = []
        with own_contexts():
            for lang in LANGUAGES:
                target = directory / database / lang
                target.mkdir(parents=True, exist_ok=True)
                for number, path in enumerate(found):
                    holder = {}

                    def get() -> None:
                        holder["response"] = client.get(path, headers={"Accept-Language": lang})  # noqa: B023

                    statements = capture_statements(engine, get)
                    response = holder["response"]
                    body = mask(response.data)
                    (target / f"{number:03d}.html").write_bytes(body)
                    manifest.append({"lang": lang, "file": f"{number:03d}.html", "path": path,
                                     "status": response.status_code, "bytes": len(body), "queries": len(statements)})
        (directory / database / "manifest.json").write_text(json.dumps(manifest, indent=1) + "\n")
    print(f"saved {len(manifest)} pages ({database}) in {directory / database}")


def first_difference(one: bytes, other: bytes) -> str:
    lines, others = one.split(b"\n"), other.split(b"\n")
    for number, (line, line2) in enumerate(zip(lines, others), start=1):
        if line != line2:
            return f"line {number}:\n    - {line[:300]!r}\n    + {line2[:300]!r}"
    return f"lengths differ: {len(lines)} vs {len(others)} lines"


def compare(one: Path, other: Path) -> int:
    differences = compared = 0
    databases = sorted({p.parent.name for p in one.glob("*/manifest.json")}
                       | {p.parent.name for p in other.glob("*/manifest.json")})
    for database in databases:
        manifests = []
        for side in (one, other):
            path = side / database / "manifest.json"
            if not path.exists():
                print(f"{database}: no save in {side}")
                differences += 1
                break
            manifests.append({(e["lang"], e["path"]): e for e in json.loads(path.read_text())})
        else:
            left, right = manifests
            for key in sorted(left.keys() | right.keys()):
                lang, page = key
                if key not in left or key not in right:
                    print(f"{database} {lang} {page}: only in {one if key in left else other}")
                    differences += 1
                    continue
                compared += 1
                a, b = left[key], right[key]
                body_a = (one / database / lang / a["file"]).read_bytes()
                body_b = (other / database / lang / b["file"]).read_bytes()
                if a["status"] != b["status"] or a["queries"] != b["queries"]:
                    print(f"{database} {lang} {page}: status {a['status']}/{b['status']}, "
                          f"queries {a['queries']}/{b['queries']}")
                    differences += 1
                if body_a != body_b:
                    print(f"{database} {lang} {page}: HTML differs, {first_difference(body_a, body_b)}")
                    differences += 1
    print(f"{compared} pages compared ({', '.join(databases)}): "
          + (f"{differences} differences" if differences else "byte-identical, same statement counts"))
    return 1 if differences or not compared else 0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    commands = parser.add_subparsers(dest="command", required=True)
    saving = commands.add_parser("save", help="save this tree's public pages into DIR/<database>/")
    saving.add_argument("directory", type=Path)
    saving.add_argument("--defendants", type=int, default=300)
    saving.add_argument("--hearings", type=int, default=3000)
    comparing = commands.add_parser("compare", help="compare two saves byte for byte")
    comparing.add_argument("directories", type=Path, nargs=2)
    args = parser.parse_args()
    if args.command == "save":
        save(args.directory, args.defendants, args.hearings)
    else:
        sys.exit(compare(*args.directories))


if __name__ == "__main__":
    main()
