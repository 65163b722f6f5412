"""The event cache on disk (FEED_EVENT_CACHE): a process that never published (a web worker
hiding a defendant) reuses the events another one serialized, and publishes exactly what a
full rebuild would; a stale, foreign, corrupted or cut-short file never publishes old
content and never fails a request; the file never lands in FEEDS_DIR."""
from __future__ import annotations

import json
import logging
import os
import shutil
import subprocess
import sys
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

from tests.feeds.test_with_editing import _save_defendant
from tracker.extensions import db
from tracker.feeds import calendars, event_store, ical, publish
from tracker.feeds.publish import publish_feeds
from tracker.records.models import Defendant, Hearing

ROOT = Path(__file__).resolve().parents[2]


def now() -> datetime:
    return datetime.now(timezone.utc).replace(microsecond=0)  # the web republish reads the clock


def published_files(root: Path) -> dict[str, bytes]:
    return {str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()
            and p.name != ".publish.lock"}


def cold_process() -> None:
    """What a web worker that has never published knows: nothing (its file is on disk)."""
    calendars.EVENTS.clear()
    calendars._HEADERS.clear()  # noqa: SLF001 (the calendars' headers it built: none)
    calendars.vtimezones.clear()
    publish.forget_published_state()


def full_rebuild(app, root: Path) -> dict[str, bytes]:
    """Every feed written from scratch, no cache anywhere: what the files must be."""
    cold_process()
    Path(app.config["FEED_EVENT_CACHE"]).unlink(missing_ok=True)
    shutil.rmtree(root)
    root.mkdir()
    publish_feeds(now())
    db.session.rollback()
    return published_files(root)


@pytest.fixture
def scheduled(app, client, login, make_user, make_case, make_defendant, make_hearing, feeds_dir):
    """Vera and Anna on a joint hearing, each alone on another, published by the scheduler
    (which wrote its event cache's file); an editor logged in."""
    soon = now() + timedelta(days=3)
    case = make_case(slug="shared", title="Shared case")
    vera = make_defendant(slug="vera", name_latin="Vera Leaving", name_original="Вера Уходит", cases=[case],
                          internal_notes="INTERNAL-MARKER")
    anna = make_defendant(slug="anna", name_latin="Anna Staying", name_original="Анна", cases=[case])
    joint = make_hearing(case=case, defendants=[vera, anna], starts_at=soon)
    make_hearing(case=case, defendants=[vera], starts_at=soon + timedelta(days=1))
    alone = make_hearing(case=case, defendants=[anna], starts_at=soon + timedelta(days=2))
    editor = make_user()
    db.session.commit()
    report = publish_feeds(now())
    assert report.events_rendered == 6  # three hearings, two languages
    db.session.rollback()
    login(editor)
    return dict(vera=vera, anna=anna, case=case, joint=joint, alone=alone,
                file=Path(app.config["FEED_EVENT_CACHE"]))


def test_the_scheduler_writes_its_events_outside_feeds_dir(scheduled, feeds_dir):
    stored = scheduled["file"]
    assert stored.is_file() and not stored.resolve().is_relative_to(feeds_dir.resolve())
    assert all(path.endswith(".ics") for path in published_files(feeds_dir))
    assert b"Vera Leaving" in stored.read_bytes()


def test_a_cold_worker_hides_a_defendant_with_the_schedulers_events(app, client, scheduled, feeds_dir):
    cold_process()
    response = _save_defendant(client, scheduled["vera"], scheduled["case"], is_public=None)  # "Public" unticked
    assert response.status_code == 302
    # Anna's own hearing came from the file in both languages; only the joint one was serialized
    assert calendars.EVENTS.hits == 2 and calendars.EVENTS.misses == 2
    after_hide = published_files(feeds_dir)
    assert not any(b"Vera" in body for body in after_hide.values())
    assert after_hide == full_rebuild(app, feeds_dir)


def test_a_new_process_republishes_from_the_file_byte_for_byte(app, database_uri, scheduled, feeds_dir):
    """A real second process (its own hash seed, its own imports): the key digests match."""
    script = (
        "import json, sys\n"
        "from config import TestConfig\n"
        "from tracker import create_app\n"
        "from tracker.extensions import db\n"
        "from tracker.feeds.publish import publish_feeds\n"
        "from tracker.extensions import utcnow\n"
        "from tracker.records.models import Defendant\n"
        "class Worker(TestConfig):\n"
        f"    SQLALCHEMY_DATABASE_URI = {database_uri!r}\n"
        f"    FEEDS_DIR = {str(feeds_dir)!r}\n"
        f"    FEED_EVENT_CACHE = {str(scheduled['file'])!r}\n"
        "with create_app(Worker).app_context():\n"
        f"    db.session.get(Defendant, {scheduled['vera'].id}).is_public = False\n"
        "    db.session.commit()\n"
        "    report = publish_feeds(utcnow())\n"
        "    print(json.dumps({'rendered': report.events_rendered, 'written': len(report.written)}))\n"
    )
    env = dict(os.environ, PYTHONHASHSEED="random", PYTHONPATH=str(ROOT))
    result = subprocess.run([sys.executable, "-c", script], cwd=ROOT, env=env, capture_output=True, text=True,
                            timeout=120)
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout.strip().splitlines()[-1])
    assert report["rendered"] == 2 and report["written"] > 0  # the joint hearing, in each language
    db.session.expire_all()
    after_hide = published_files(feeds_dir)
    assert not any(b"Vera" in body for body in after_hide.values())
    assert after_hide == full_rebuild(app, feeds_dir)


def test_a_stale_file_never_publishes_old_content(app, scheduled, feeds_dir):
    """The file holds the events as they were; Anna renamed and her hearing moved since."""
    before = scheduled["file"].read_bytes()
    anna = db.session.get(Defendant, scheduled["anna"].id)
    anna.name_latin, anna.name_original = "A. S.", "А. С."
    alone = db.session.get(Hearing, scheduled["alone"].id)
    alone.starts_at = alone.starts_at + timedelta(days=7)
    db.session.commit()
    publish_feeds(now())  # a warm scheduler: two changed events are too few to rewrite the file
    db.session.rollback()
    assert scheduled["file"].read_bytes() == before
    cold_process()
    report = publish_feeds(now())
    db.session.rollback()
    assert report.events_rendered == 4  # Anna's two hearings, in two languages; Vera's alone came from the file
    published = published_files(feeds_dir)
    assert not any(b"Anna Staying" in body for body in published.values())
    assert published == full_rebuild(app, feeds_dir)


def test_another_sites_file_is_never_trusted(app, scheduled, feeds_dir, tmp_path):
    """Written for another BASE_URL (a staging copy on the same disk): every key differs."""
    base_url = app.config["BASE_URL"]
    app.config["BASE_URL"] = "https://other.example"
    try:
        cold_process()
        publish_feeds(now(), feeds_dir=tmp_path)
        db.session.rollback()
        event_store.save(calendars.EVENTS, scheduled["file"], ("en", "ru"))
    finally:
        app.config["BASE_URL"] = base_url
    assert b"other.example" in scheduled["file"].read_bytes()
    cold_process()
    report = publish_feeds(now())
    db.session.rollback()
    assert report.events_rendered == 6
    published = published_files(feeds_dir)
    assert not any(b"other.example" in body for body in published.values())
    assert published == full_rebuild(app, feeds_dir)


def _swap_two_entries(data: bytes) -> bytes:
    """The same events, each claimed by another hearing: the checksum still holds."""
    header, _newline, blob = data.partition(b"\n")
    fields = json.loads(header)
    rows = fields["events"]["en"]
    rows[0][0], rows[1][0] = rows[1][0], rows[0][0]
    return json.dumps(fields).encode() + b"\n" + blob


def _other_code(data: bytes) -> bytes:
    header, _newline, blob = data.partition(b"\n")
    fields = json.loads(header)
    fields["code"] = "0" * 64
    return json.dumps(fields).encode() + b"\n" + blob


def _one_byte_changed(data: bytes) -> bytes:
    at = data.index(b"Anna Staying")
    return data[:at] + b"Anne" + data[at + 4:]


DAMAGE = {
    "cut short": lambda data: data[: len(data) * 2 // 3],
    "one byte changed": _one_byte_changed,
    "header only": lambda data: data.partition(b"\n")[0],
    "empty": lambda data: b"",
    "not json": lambda data: b"\x80\x04\x95garbage\n" + data,
    "other code": _other_code,
}


@pytest.mark.parametrize("damage", DAMAGE, ids=list(DAMAGE))
def test_a_damaged_file_is_ignored_with_a_log_line(app, client, scheduled, feeds_dir, caplog, damage):
    stored = scheduled["file"]
    stored.write_bytes(DAMAGE[damage](stored.read_bytes()))
    cold_process()
    with caplog.at_level(logging.WARNING, logger="tracker.feeds.event_store"):
        response = _save_defendant(client, scheduled["vera"], scheduled["case"], is_public=None)
    assert response.status_code == 302
    assert any("feed event cache" in r.getMessage() and "ignored" in r.getMessage() for r in caplog.records)
    assert calendars.EVENTS.hits == 0  # nothing of it was used: every event serialized anew
    after_hide = published_files(feeds_dir)
    assert not any(b"Vera" in body or b"Anne " in body for body in after_hide.values())
    assert after_hide == full_rebuild(app, feeds_dir)


def test_an_entry_claimed_by_another_hearing_is_not_trusted(app, scheduled, feeds_dir):
    stored = scheduled["file"]
    stored.write_bytes(_swap_two_entries(stored.read_bytes()))
    cold_process()
    report = publish_feeds(now())
    db.session.rollback()
    assert report.events_rendered == 2  # the two swapped English events; the Russian ones were read
    assert published_files(feeds_dir) == full_rebuild(app, feeds_dir)


def test_a_file_inside_feeds_dir_is_refused(app, scheduled, feeds_dir, caplog):
    inside = feeds_dir / "events.cache"
    app.config["FEED_EVENT_CACHE"] = str(inside)
    try:
        cold_process()
        with caplog.at_level(logging.WARNING, logger="tracker.feeds.event_store"):
            assert publish_feeds(now()).events_rendered == 6
        db.session.rollback()
    finally:
        app.config["FEED_EVENT_CACHE"] = str(scheduled["file"])
    assert not inside.exists() and all(path.endswith(".ics") for path in published_files(feeds_dir))
    assert any("inside FEEDS_DIR" in r.getMessage() for r in caplog.records)


def test_private_events_are_never_written(app, scheduled):
    joint = db.session.get(Hearing, scheduled["joint"].id)
    private = calendars.event_bytes(joint, app.config["BASE_URL"], ical.PRIVATE, editable={scheduled["vera"].id})
    assert b"INTERNAL-MARKER" in private  # in this process's cache
    event_store.save(calendars.EVENTS, scheduled["file"], ("en", "ru"))
    assert b"INTERNAL-MARKER" not in scheduled["file"].read_bytes()


def test_one_change_does_not_rewrite_the_file(app, scheduled):
    """Rewriting megabytes each minute would cost the scheduler more than the change; a cold
    process serializes the few events changed since instead."""
    written = scheduled["file"].stat().st_mtime_ns
    hearing = db.session.get(Hearing, scheduled["alone"].id)
    hearing.courtroom = "7"
    db.session.commit()
    assert publish_feeds(now()).events_rendered == 2
    db.session.rollback()
    assert scheduled["file"].stat().st_mtime_ns == written
    assert calendars.EVENTS.unsaved == 2


def test_a_database_restored_from_a_backup_never_gets_the_lost_edits_events(app, scheduled, feeds_dir, caplog):
    """After a restore, the edit redone gets the version the lost edit had, with other
    content: the same key. It was made after the file was written, and its row says so."""
    import sqlalchemy as sa

    alone = scheduled["alone"]
    db.session.execute(sa.update(Hearing).where(Hearing.id == alone.id)  # the row as the redone edit left it
                       .values(courtroom="99", updated_at=alone.updated_at + timedelta(minutes=5)))
    db.session.commit()
    cold_process()
    with caplog.at_level(logging.WARNING, logger="tracker.feeds.event_store"):
        report = publish_feeds(now())
    db.session.rollback()
    assert report.events_rendered == 2  # that hearing, in each language; the others came from the file
    assert any("restored from a backup" in r.getMessage() for r in caplog.records)
    published = published_files(feeds_dir)
    assert b"courtroom 99" in published["all.ics"]
    assert published == full_rebuild(app, feeds_dir)


def test_a_cold_process_trusts_only_the_files_untouched_since_the_record(app, scheduled, feeds_dir):
    """The file records each feed file as its writer left it: a file changed or removed since
    is built and compared again, the others are left alone without being built."""
    (feeds_dir / "cases/shared.ics").write_bytes(b"BEGIN:VCALENDAR\r\nEND:VCALENDAR\r\n")
    (feeds_dir / "ru/all.ics").unlink()
    untouched = feeds_dir / "defendants/anna.ics"
    stamp = untouched.stat().st_mtime_ns
    cold_process()
    report = publish_feeds(now())
    db.session.rollback()
    assert sorted(report.written) == ["cases/shared.ics", "ru/all.ics"] and report.events_rendered == 0
    assert len(calendars._HEADERS) == 2  # noqa: SLF001 (only those two were built)
    assert untouched.stat().st_mtime_ns == stamp
    assert published_files(feeds_dir) == full_rebuild(app, feeds_dir)
