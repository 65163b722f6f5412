"""publish_feeds(now): every feed written atomically, only when it changed, in a fixed
number of queries."""
from __future__ import annotations

import os
import threading
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

from tracker.extensions import db
from tracker.feeds import calendars, files, ical, publish
from tracker.feeds.publish import publish_feeds
from tracker.records.models import Defendant, Hearing, HearingStatus

NOW = datetime(2026, 3, 2, 9, 0, tzinfo=timezone.utc)


def read(root: Path, relative: str) -> bytes:
    return (root / relative).read_bytes()


@pytest.fixture
def two_cases(make_case, make_defendant, make_hearing):
    """Two cases; in the first, Anna and a hidden co-defendant, in the second, Boris."""
    first, second = make_case(slug="first", title="First case"), make_case(slug="second", title="Second case")
    anna = make_defendant(slug="anna", name_latin="Anna", name_original="Анна", cases=[first])
    hidden = make_defendant(
        slug="hidden", name_latin="HIDDEN-MARKER", is_public=False, cases=[first],
        internal_notes="INTERNAL-MARKER", lawyer_contacts="LAWYER-MARKER",
    )
    boris = make_defendant(slug="boris", name_latin="Boris", name_original="Борис", cases=[second],
                           internal_notes="INTERNAL-MARKER", lawyer_contacts="LAWYER-MARKER")
    h1 = make_hearing(case=first, defendants=[anna, hidden], starts_at=NOW + timedelta(days=2))
    h2 = make_hearing(case=second, defendants=[boris], starts_at=NOW + timedelta(days=5))
    only_hidden = make_hearing(case=first, defendants=[hidden], starts_at=NOW + timedelta(days=6))
    db.session.commit()
    return dict(first=first, second=second, anna=anna, hidden=hidden, boris=boris, h1=h1, h2=h2,
                only_hidden=only_hidden)


def test_every_feed_is_written_and_parses(two_cases, feeds_dir, parse):
    report = publish_feeds(NOW)
    expected = {
        "all.ics", "cases/first.ics", "cases/second.ics", "defendants/anna.ics", "defendants/boris.ics",
    }
    expected |= {f"with-alarm/{p}" for p in expected}
    expected |= {f"ru/{p}" for p in expected}  # every feed in each language (LANGUAGES)
    assert set(report.written) == expected == files.published_files(feeds_dir, ("en", "ru"), "en")
    assert report.events_rendered == 4  # each event once per language

    h1, h2 = two_cases["h1"], two_cases["h2"]
    everything = parse(read(feeds_dir, "all.ics"))
    assert everything.uids == [ical.event_uid(h1), ical.event_uid(h2)]
    assert len(everything.strict.events) == 2
    assert str(everything.cal["X-WR-CALNAME"]) == str(everything.cal["NAME"]) == "Political prisoners: all court hearings"
    assert everything.cal.decoded("REFRESH-INTERVAL") == timedelta(hours=1)
    assert "X-PUBLISHED-TTL:PT1H" in everything.text
    assert "SOURCE;VALUE=URI:http://tracker.test/feeds/all.ics" in everything.text
    assert parse(read(feeds_dir, "cases/second.ics")).uids == [ical.event_uid(h2)]
    anna = parse(read(feeds_dir, "defendants/anna.ics"))
    assert anna.uids == [ical.event_uid(h1)]
    assert str(anna.cal["X-WR-CALNAME"]) == "Anna (Анна): court hearings"

    with_alarm = parse(read(feeds_dir, "with-alarm/all.ics"))
    assert with_alarm.uids == everything.uids
    for event in with_alarm.events:
        (alarm,) = event.walk("VALARM")
        assert alarm.decoded("TRIGGER") == timedelta(days=-1)
        assert str(alarm["ACTION"]) == "DISPLAY"
    assert all(e.alarms for e in with_alarm.strict.events)
    assert not any(e.walk("VALARM") for e in everything.events)


def test_hidden_defendants_and_private_fields_never_reach_a_public_feed(two_cases, feeds_dir):
    publish_feeds(NOW)
    files = sorted(feeds_dir.rglob("*.ics"))
    assert len(files) == 20  # in English and in Russian
    for path in files:
        body = path.read_bytes()
        for marker in (b"HIDDEN-MARKER", b"INTERNAL-MARKER", b"LAWYER-MARKER", b"/defendants/hidden"):
            assert marker not in body, f"{marker!r} leaked into {path}"
    assert not (feeds_dir / "defendants" / "hidden.ics").exists()
    assert not (feeds_dir / "ru" / "defendants" / "hidden.ics").exists()
    # the hearing with only a hidden defendant is in no public feed
    assert ical.event_uid(two_cases["only_hidden"]).encode() not in read(feeds_dir, "cases/first.ics")


def test_a_defendant_hidden_after_publishing_disappears_at_the_next_publish(two_cases, feeds_dir):
    publish_feeds(NOW)
    assert b"Boris" in read(feeds_dir, "all.ics")
    boris = db.session.get(Defendant, two_cases["boris"].id)
    boris.is_public = False
    db.session.commit()

    report = publish_feeds(NOW)

    assert "defendants/boris.ics" in report.removed and "with-alarm/defendants/boris.ics" in report.removed
    assert "ru/defendants/boris.ics" in report.removed and "ru/with-alarm/defendants/boris.ics" in report.removed
    assert not (feeds_dir / "defendants" / "boris.ics").exists()
    for path in feeds_dir.rglob("*.ics"):
        body = path.read_bytes()
        assert b"Boris" not in body and "Борис".encode() not in body, path


def test_a_republish_rewrites_only_the_feeds_that_changed(two_cases, feeds_dir):
    publish_feeds(NOW)
    unchanged = read(feeds_dir, "cases/first.ics")
    assert publish_feeds(NOW).written == []  # nothing changed, nothing written

    hearing = db.session.get(Hearing, two_cases["h2"].id)
    hearing.starts_at = NOW + timedelta(days=9)  # postponed by a plain ORM update
    db.session.commit()
    report = publish_feeds(NOW)

    changed = ["all.ics", "cases/second.ics", "defendants/boris.ics",
               "with-alarm/all.ics", "with-alarm/cases/second.ics", "with-alarm/defendants/boris.ics"]
    assert sorted(report.written) == sorted(changed + [f"ru/{path}" for path in changed])
    assert report.events_rendered == 2  # once in each language
    assert read(feeds_dir, "cases/first.ics") == unchanged
    assert b"SEQUENCE:2" in read(feeds_dir, "defendants/boris.ics")


@pytest.mark.parametrize("event_file", [True, False], ids=["event cache file", "no event cache file"])
def test_after_a_restart_files_already_right_are_not_rewritten(app, two_cases, feeds_dir, event_file):
    publish_feeds(NOW)
    stamps = {p: p.stat().st_mtime_ns for p in feeds_dir.rglob("*.ics")}
    calendars.EVENTS.clear()
    publish.forget_published_state()  # a new scheduler process knows nothing
    if not event_file:
        Path(app.config["FEED_EVENT_CACHE"]).unlink()
    report = publish_feeds(NOW)
    # the events the first run serialized are read from its file, not serialized again
    assert report.written == [] and report.events_rendered == (0 if event_file else 4)
    assert stamps == {p: p.stat().st_mtime_ns for p in feeds_dir.rglob("*.ics")}


def test_a_deleted_file_is_written_again(two_cases, feeds_dir):
    publish_feeds(NOW)
    (feeds_dir / "all.ics").unlink()
    assert publish_feeds(NOW).written == ["all.ics"]


def test_cancelled_hearings_stay_for_the_configured_days_then_leave(app, two_cases, feeds_dir, parse):
    hearing = db.session.get(Hearing, two_cases["h2"].id)
    hearing.status = HearingStatus.CANCELLED
    hearing.updated_at = cancelled_at = NOW  # as the editing service stamps it
    db.session.commit()
    uid = ical.event_uid(hearing)

    publish_feeds(cancelled_at + timedelta(days=1))
    feed = parse(read(feeds_dir, "all.ics"))
    assert str(feed.event(uid)["STATUS"]) == "CANCELLED"
    assert int(feed.event(uid)["SEQUENCE"]) == 2
    assert feed.strict_event(uid).status == "CANCELLED"

    days = app.config["FEED_CANCELLED_DAYS"]
    publish_feeds(cancelled_at + timedelta(days=days, seconds=1))
    assert uid not in parse(read(feeds_dir, "all.ics")).uids


def test_past_hearings_are_kept_for_the_configured_window(app, make_hearing, feeds_dir, parse):
    days = app.config["FEED_PAST_DAYS"]
    kept = make_hearing(starts_at=NOW - timedelta(days=days - 1))
    dropped = make_hearing(starts_at=NOW - timedelta(days=days + 1))
    db.session.commit()
    publish_feeds(NOW)
    uids = parse(read(feeds_dir, "all.ics")).uids
    assert ical.event_uid(kept) in uids and ical.event_uid(dropped) not in uids


def test_time_zones_each_appear_once_before_the_events(make_court, make_hearing, feeds_dir, parse):
    moscow = make_court(name="Moscow court", timezone="Europe/Moscow")
    berlin = make_court(name="Berlin court", timezone="Europe/Berlin")
    vladivostok = make_court(name="Vladivostok court", timezone="Asia/Vladivostok")
    for court in (moscow, berlin, vladivostok, moscow):
        make_hearing(court=court)
    db.session.commit()
    publish_feeds(NOW)
    feed = parse(read(feeds_dir, "all.ics"))
    assert sorted(str(z["TZID"]) for z in feed.cal.walk("VTIMEZONE")) == ["Asia/Vladivostok", "Europe/Berlin", "Europe/Moscow"]
    assert feed.text.rindex("END:VTIMEZONE") < feed.text.index("BEGIN:VEVENT")
    for event in feed.events:
        assert event["DTSTART"].params["TZID"] in {"Europe/Moscow", "Europe/Berlin", "Asia/Vladivostok"}
        assert event.decoded("DTSTART").tzinfo is not None
    # a summer hearing in Berlin: the strict parser applies the VTIMEZONE's DST rule
    summer = make_hearing(court=berlin, starts_at=datetime(2026, 7, 1, 8, 0, tzinfo=timezone.utc))
    db.session.commit()
    publish_feeds(NOW)
    strict = parse(read(feeds_dir, "all.ics")).strict_event(ical.event_uid(summer))
    assert strict.begin.datetime.utcoffset() == timedelta(hours=2)
    assert strict.begin.datetime == datetime(2026, 7, 1, 8, 0, tzinfo=timezone.utc)


@pytest.mark.parametrize("warm", [False, True])
def test_query_count_does_not_grow_with_the_number_of_hearings(
    warm, make_case, make_defendant, make_hearing, make_court, count_queries
):
    def seed(cases: int, per_case: int) -> None:
        court = make_court()
        for c in range(cases):
            case = make_case()
            people = [make_defendant(cases=[case]) for _ in range(3)]
            for n in range(per_case):
                make_hearing(case=case, court=court, defendants=people[: 1 + n % 3],
                             starts_at=NOW + timedelta(days=1 + n))
        db.session.commit()

    counts = []
    for cases, per_case in ((1, 2), (3, 40)):
        seed(cases, per_case)
        if warm:
            publish_feeds(NOW)
            hearing = db.session.scalars(db.select(Hearing).limit(1)).one()
            hearing.judge = f"changed in round {cases}"
            db.session.commit()
        db.session.expire_all()
        with count_queries() as counter:
            publish_feeds(NOW)
        counts.append(counter.count)
    assert counts[0] == counts[1], counts
    assert counts[1] <= 6


def test_a_reader_never_sees_a_half_written_file(two_cases, feeds_dir):
    publish_feeds(NOW)
    target = feeds_dir / "all.ics"
    stop = threading.Event()
    seen: list[bytes] = []
    errors: list[str] = []

    def reader() -> None:
        while not stop.is_set():
            body = target.read_bytes()
            if not (body.startswith(b"BEGIN:VCALENDAR\r\n") and body.endswith(b"END:VCALENDAR\r\n")):
                errors.append(f"partial read of {len(body)} bytes")
            seen.append(body)

    thread = threading.Thread(target=reader)
    thread.start()
    try:
        hearing = db.session.get(Hearing, two_cases["h2"].id)
        for n in range(30):
            hearing.outcome_note = "Note " + "x" * (n * 500)  # each version a different length
            db.session.commit()
            assert "all.ics" in publish_feeds(NOW).written
    finally:
        stop.set()
        thread.join()
    assert not errors, errors[:3]
    assert len(set(seen)) > 1  # the reader really saw the file change underneath it
    assert not list(feeds_dir.rglob(".*.tmp"))


def test_a_failed_write_leaves_the_old_file_intact(two_cases, feeds_dir, monkeypatch):
    publish_feeds(NOW)
    before = read(feeds_dir, "all.ics")
    hearing = db.session.get(Hearing, two_cases["h2"].id)
    hearing.judge = "Someone new"
    db.session.commit()

    def disk_fails(source, target):  # noqa: ANN001
        raise OSError(5, "Input/output error")

    monkeypatch.setattr(os, "replace", disk_fails)  # the file system fails, not our code
    with pytest.raises(OSError):
        publish_feeds(NOW)
    assert read(feeds_dir, "all.ics") == before
    assert not list(feeds_dir.rglob(".*.tmp"))

    monkeypatch.undo()
    assert "all.ics" in publish_feeds(NOW).written  # the next run catches up
    assert b"Someone new" in read(feeds_dir, "all.ics")


def test_files_are_readable_by_a_web_server(two_cases, feeds_dir):
    publish_feeds(NOW)
    assert (feeds_dir / "all.ics").stat().st_mode & 0o777 == 0o644


def test_the_cli_publishes_with_progress(app, two_cases, feeds_dir):
    result = app.test_cli_runner().invoke(args=["publish-feeds"])
    assert result.exit_code == 0, result.output
    assert "20 feeds" in result.output and "20 written" in result.output
    assert "Checking and writing feeds" in result.output
    assert (feeds_dir / "all.ics").exists()


def test_the_scheduler_job_publishes(app, two_cases, feeds_dir):
    from scheduler.jobs import JOBS

    (job,) = [j for j in JOBS if j.name == "publish_feeds"]
    assert job.seconds == 60
    job.run(app)
    assert (feeds_dir / "all.ics").exists()


def test_publishing_and_a_single_download_share_the_cached_event(app, two_cases, feeds_dir):
    """The snapshot's keys and the ORM objects' keys agree, so each version is serialized once."""
    publish_feeds(NOW)
    db.session.expire_all()
    hearing = db.session.get(Hearing, two_cases["h1"].id)
    hits = calendars.EVENTS.hits
    text = calendars.event_bytes(hearing, app.config["BASE_URL"])
    assert calendars.EVENTS.hits == hits + 1
    assert text in read(feeds_dir, "all.ics")


def test_a_file_another_publisher_rewrote_is_checked_again(two_cases, feeds_dir):
    """The web app republishes too (after a defendant is hidden): the scheduler must not trust
    its memory of what it wrote when someone else has written the file since."""
    publish_feeds(NOW)
    right = read(feeds_dir, "cases/first.ics")
    files.write_atomically(feeds_dir / "cases/first.ics", right.replace(b"Anna", b"Older"))  # another process
    report = publish_feeds(NOW)
    assert report.written == ["cases/first.ics"]
    assert read(feeds_dir, "cases/first.ics") == right


def test_publishers_take_turns(app, two_cases, feeds_dir):
    """A publish that read the database before a change must finish writing before the next
    one starts; otherwise its older files could land after the newer ones."""
    finished = threading.Event()

    def another_publisher() -> None:
        with app.app_context():
            publish_feeds(NOW)
            db.session.remove()
        finished.set()

    with files.publish_lock(feeds_dir):
        thread = threading.Thread(target=another_publisher)
        thread.start()
        assert not finished.wait(0.5)  # it waits for the lock...
    thread.join(30)
    assert finished.is_set()  # ...and runs once it is free
    assert (feeds_dir / "all.ics").exists()


def test_a_file_changed_in_place_is_rewritten_once_the_folders_are_listed(two_cases, feeds_dir):
    """Between two listings of FEEDS_DIR (publish.SCAN_SECONDS) a publisher stats only the files
    of folders another writer touched: every publisher writes by rename, which changes the
    folder. A file edited in place by hand is found at the next listing."""
    publish_feeds(NOW)
    right = read(feeds_dir, "all.ics")
    with open(feeds_dir / "all.ics", "r+b") as handle:
        handle.write(b"X")
    assert publish_feeds(NOW).written == []
    for state in publish._STATE.values():
        state.scanned_at -= publish.SCAN_SECONDS + 1  # the listing is due
    assert publish_feeds(NOW).written == ["all.ics"]
    assert read(feeds_dir, "all.ics") == right


def test_a_file_another_publisher_removed_in_another_folder_is_written_again(two_cases, feeds_dir):
    publish_feeds(NOW)
    (feeds_dir / "ru" / "with-alarm" / "cases" / "first.ics").unlink()
    assert publish_feeds(NOW).written == ["ru/with-alarm/cases/first.ics"]
