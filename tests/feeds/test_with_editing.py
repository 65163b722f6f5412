"""A change made by an editor through the editing services reaches the feeds at the
next publish: the same event, moved, with a higher SEQUENCE; then cancelled."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone
from zoneinfo import ZoneInfo

from tracker.editing import services
from tracker.extensions import db
from tracker.feeds import ical
from tracker.feeds.publish import publish_feeds
from tracker.records.models import Hearing

NOW = datetime(2026, 3, 2, 9, 0, tzinfo=timezone.utc)


def test_postponed_then_cancelled_by_an_editor(app, make_user, make_case, make_defendant, make_hearing,
                                              feeds_dir, parse):
    editor = make_user()
    entered = NOW - timedelta(days=30)  # the records were entered a month ago
    case = make_case(slug="case", created_at=entered, updated_at=entered)
    person = make_defendant(slug="vera", name_latin="Vera", name_original="Вера", cases=[case],
                            created_at=entered, updated_at=entered)
    hearing = make_hearing(case=case, defendants=[person], starts_at=NOW + timedelta(days=2))
    db.session.commit()
    uid = ical.event_uid(hearing)
    publish_feeds(NOW)
    before = parse((feeds_dir / "defendants/vera.ics").read_bytes()).event(uid)

    later = NOW + timedelta(hours=3)
    new_start = NOW + timedelta(days=20)
    services.postpone_hearing(db.session, db.session.get(Hearing, hearing.id), new_start, by=editor, now=later)
    db.session.commit()
    report = publish_feeds(later)
    assert "defendants/vera.ics" in report.written and report.events_rendered == 1

    moved = parse((feeds_dir / "defendants/vera.ics").read_bytes())
    event = moved.event(uid)
    assert int(event["SEQUENCE"]) > int(before["SEQUENCE"])
    assert event.decoded("DTSTART") == new_start.astimezone(ZoneInfo("Europe/Moscow"))
    assert event.decoded("DTSTAMP") == later
    assert moved.strict_event(uid).begin.datetime == new_start
    assert len(moved.events) == 1  # moved, not duplicated

    cancelled_at = later + timedelta(hours=1)
    services.cancel_hearing(db.session, db.session.get(Hearing, hearing.id), "Judge ill", by=editor, now=cancelled_at)
    db.session.commit()
    publish_feeds(cancelled_at)
    feed = parse((feeds_dir / "all.ics").read_bytes())
    assert str(feed.event(uid)["STATUS"]) == "CANCELLED"
    assert int(feed.event(uid)["SEQUENCE"]) > int(event["SEQUENCE"])
    assert feed.strict_event(uid).status == "CANCELLED"

    gone = cancelled_at + timedelta(days=app.config["FEED_CANCELLED_DAYS"], minutes=1)
    publish_feeds(gone)
    assert uid not in parse((feeds_dir / "all.ics").read_bytes()).uids
