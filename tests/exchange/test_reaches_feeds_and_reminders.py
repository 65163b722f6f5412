"""An imported change reaches calendars and volunteers exactly like a hand edit."""
from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import icalendar
import sqlalchemy as sa

from tests.exchange.conftest import files
from tests.reminders.conftest import make_subscription  # noqa: F401  (fixture)
from tracker.extensions import db
from tracker.feeds.publish import publish_feeds
from tracker.records.models import Hearing
from tracker.reminders.changes import notify_hearing_changes
from tracker.mail.sending import send_pending

SHEET = "external_id;defendants;court;starts_at;kind\r\nh-1;anna;Мосгорсуд;{}\r\n"


def test_a_hearing_moved_by_an_import_reaches_followers_and_feeds(app, admin, now, make_defendant, do_import,
                                                                  make_subscription, smtp_server):  # noqa: F811
    make_defendant(slug="anna", name_latin="Anna Ivanova")
    volunteer = make_subscription(leads=(1440,))
    db.session.commit()
    first = (now + timedelta(days=3)).strftime("%d.%m.%Y") + " 11:00"
    moved = (now + timedelta(days=10)).strftime("%d.%m.%Y") + " 11:00"
    do_import(admin, files(hearings__csv=SHEET.format(first + ";trial")))
    notify_hearing_changes(db.session, now)  # the reminders have seen the hearing as imported
    db.session.commit()

    do_import(admin, files(hearings__csv=SHEET.format(moved + ";trial")))
    notify_hearing_changes(db.session, now + timedelta(minutes=1))
    db.session.commit()
    send_pending(db.session, now + timedelta(minutes=1))
    [notice] = smtp_server.received_by(volunteer.email)
    assert notice["Subject"].startswith("Moved to ")

    hearing = db.session.scalar(sa.select(Hearing))
    publish_feeds(now + timedelta(minutes=1))
    calendar = icalendar.Calendar.from_ical((Path(app.config["FEEDS_DIR"]) / "all.ics").read_bytes())
    [event] = calendar.walk("VEVENT")
    assert event.decoded("DTSTART") == hearing.starts_at  # the new time
    assert int(event["SEQUENCE"]) == hearing.version == 2  # calendars replace the old event
