"""Fixtures of the feed tests: four independent parsers, a clean FEEDS_DIR and event cache, users."""
from __future__ import annotations

import shutil
from pathlib import Path

import ics
import pytest
import vobject
from ical.calendar_stream import IcsCalendarStream
from icalendar import Calendar

from tracker.extensions import db
from tracker.feeds import calendars, publish


@pytest.fixture(autouse=True)
def fresh_feeds(app):
    """Each test starts with an empty FEEDS_DIR and cold caches (the event cache's file too),
    as after a deploy."""
    root = Path(app.config["FEEDS_DIR"])
    shutil.rmtree(root, ignore_errors=True)
    root.mkdir(parents=True)
    Path(app.config["FEED_EVENT_CACHE"]).unlink(missing_ok=True)
    calendars.EVENTS.clear()
    publish.forget_published_state()
    yield root
    Path(app.config["FEED_EVENT_CACHE"]).unlink(missing_ok=True)
    calendars.EVENTS.clear()
    publish.forget_published_state()


@pytest.fixture
def feeds_dir(fresh_feeds) -> Path:
    return fresh_feeds


class Parsed:
    """A feed read by four independent parsers, each of which must accept it and find the
    same events: `icalendar` (what the app writes with), the strict `ics`, `vobject` (the
    parser of CalDAV servers such as Radicale) and `ical` (pydantic-validated RFC 5545, the
    one of Home Assistant's calendars)."""

    def __init__(self, body: bytes) -> None:
        self.body = body
        self.text = body.decode("utf-8")
        self.cal = Calendar.from_ical(body)
        self.strict = ics.Calendar(self.text)  # raises on anything it cannot read
        self.vobject = vobject.readOne(self.text, validate=True)
        self.validated = IcsCalendarStream.calendar_from_ics(self.text)  # raises on an invalid value
        uids = sorted(str(e["UID"]) for e in self.cal.walk("VEVENT"))
        assert sorted(e.uid for e in self.strict.events) == uids
        assert sorted(e.uid.value for e in self.vobject.contents.get("vevent", [])) == uids
        assert sorted(e.uid for e in self.validated.events) == uids

    @property
    def events(self) -> list:
        return self.cal.walk("VEVENT")

    def event(self, uid: str):
        found = [e for e in self.events if str(e["UID"]) == uid]
        assert len(found) == 1, f"{uid} appears {len(found)} times"
        return found[0]

    def strict_event(self, uid: str):
        found = [e for e in self.strict.events if e.uid == uid]
        assert len(found) == 1
        return found[0]

    @property
    def uids(self) -> list[str]:
        return [str(e["UID"]) for e in self.events]


@pytest.fixture
def parse():
    return Parsed


@pytest.fixture
def make_user():
    from tracker.auth.models import Role, User

    counter = iter(range(1, 10**6))

    def make(**kw) -> User:
        n = next(counter)
        kw.setdefault("email", f"editor{n}@example.org")
        kw.setdefault("name", f"Editor {n}")
        kw.setdefault("role", Role.EDITOR)
        user = User(**kw)
        db.session.add(user)
        db.session.flush()
        return user

    return make


@pytest.fixture
def login(client):
    """Log a user in through Flask-Login's session, as the login view would."""

    def log_in(user) -> None:
        from flask import g

        # requests share the test's app context, where Flask-Login caches the user it loaded
        g.pop("_login_user", None)
        with client.session_transaction() as session:
            session["_user_id"] = user.get_id()
            session["_fresh"] = True

    return log_in
