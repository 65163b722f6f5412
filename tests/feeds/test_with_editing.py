"""A change made by an editor through the editing services reaches the feeds at the
next publish: the same event, moved, with a higher SEQUENCE; then cancelled. A change
that takes something out of public view reaches them before the editor's request answers."""
from __future__ import annotations

import re
from datetime import datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest

from tracker.editing import services
from tracker.extensions import db
from tracker.feeds import ical
from tracker.feeds.publish import publish_feeds
from tracker.records.models import Defendant, Hearing

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
    assert "defendants/vera.ics" in report.written and "ru/defendants/vera.ics" in report.written
    assert report.events_rendered == 2  # once in each language

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


# --- what leaves public view leaves the published feeds at once ----------------------------------

FEEDS = ["all.ics", "cases/shared.ics", "defendants/vera.ics",
         "with-alarm/all.ics", "with-alarm/cases/shared.ics", "with-alarm/defendants/vera.ics"]


@pytest.fixture
def published_vera(client, login, make_user, make_case, make_defendant, make_hearing, feeds_dir):
    """Vera and Anna on a joint hearing, Vera alone on another; published and polled once,
    each poller holding an ETag that the revalidation middleware answers with 304."""
    soon = datetime.now(timezone.utc).replace(microsecond=0) + timedelta(days=3)  # the views read the clock
    case = make_case(slug="shared", title="Shared case")
    vera = make_defendant(slug="vera", name_latin="Vera Leaving", name_original="Вера Уходит", cases=[case])
    anna = make_defendant(slug="anna", name_latin="Anna Staying", name_original="Анна", cases=[case])
    make_hearing(case=case, defendants=[vera, anna], starts_at=soon)
    make_hearing(case=case, defendants=[vera], starts_at=soon + timedelta(days=1))
    editor = make_user()
    db.session.commit()
    publish_feeds(datetime.now(timezone.utc))
    etags = {}
    for path in FEEDS:
        first = client.get(f"/feeds/{path}")
        assert first.status_code == 200 and b"Vera Leaving" in first.data
        etags[path] = first.headers["ETag"]
        assert client.get(f"/feeds/{path}", headers={"If-None-Match": etags[path]}).status_code == 304
    login(editor)
    return dict(vera=vera, case=case, etags=etags)


def _save_defendant(client, vera: Defendant, case, **changes: str):
    page = client.get(f"/edit/defendants/{vera.id}").get_data(as_text=True)
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page).group(1)
    form = {"name_latin": vera.name_latin, "name_original": vera.name_original, "slug": vera.slug,
            "status": vera.status.value, "letters_status": vera.letters_status.value, "is_public": "y",
            "cases": [str(case.id)], "version": str(vera.version), "csrf_token": token}
    form.update(changes)
    return client.post(f"/edit/defendants/{vera.id}", data={k: v for k, v in form.items() if v is not None})


def test_a_defendant_hidden_by_an_editor_leaves_every_public_feed_before_the_answer(
    client, published_vera, feeds_dir, parse
):
    vera, etags = published_vera["vera"], published_vera["etags"]
    response = _save_defendant(client, vera, published_vera["case"], is_public=None)  # "Public" unticked
    assert response.status_code == 302

    # the very next poll, with or without the old ETag, from the app or from the files nginx serves
    for path in FEEDS:
        for headers in ({}, {"If-None-Match": etags[path]}):
            answer = client.get(f"/feeds/{path}", headers=headers)
            assert answer.status_code != 304, f"{path} still 'not modified'"
            assert b"Vera" not in answer.data and "Вера".encode() not in answer.data, path
            if path.endswith("vera.ics"):
                assert answer.status_code == 404
            else:
                assert answer.status_code == 200 and b"Anna Staying" in answer.data
                parse(answer.data)
        on_disk = feeds_dir / path
        assert not on_disk.exists() or b"Vera" not in on_disk.read_bytes(), path


def test_a_renamed_defendant_keeps_no_old_name_in_the_feeds(client, published_vera, feeds_dir):
    """A family may ask for initials only: the full name goes at once too."""
    vera = published_vera["vera"]
    response = _save_defendant(client, vera, published_vera["case"], name_latin="V. L.", name_original="В. У.")
    assert response.status_code == 302
    for path in FEEDS:
        body = client.get(f"/feeds/{path}").data
        assert b"Vera Leaving" not in body and b"V. L." in body, path
