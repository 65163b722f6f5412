"""Going to a hearing ("I'll be there"): sign-up, confirmation, the public count, withdrawing,
and the editors' list and message. An attendance is a reminders subscription to one hearing
(tracker/attendance/logic.py says why)."""
from __future__ import annotations

from flask import Flask, g

from tracker.attendance import logic, views
from tracker.attendance.demo import load_demo_attendees
from tracker.extensions import db, utcnow
from tracker.records.demo import add_to_demo
from tracker.records.models import Hearing
from tracker.reminders.models import Scope
from tracker.reminders.subscriptions import register_pages


def going_count(hearing: Hearing) -> int:
    """How many confirmed they will go, for a hearing on a public page.

    One query per page whatever its number of hearings: the first call counts for every
    hearing this request has loaded (the session's identity map holds the page's
    hearings), on the attendances' hearing index; a hearing loaded later costs one more.
    """
    counts: dict[int, int] = g.setdefault("attendance_counts", {})
    if hearing.id not in counts:
        loaded = {thing.id for thing in db.session.identity_map.values() if isinstance(thing, Hearing)}
        wanted = (loaded | {hearing.id}) - counts.keys()
        counts.update(dict.fromkeys(wanted, 0))
        counts.update(logic.going_counts(db.session, wanted))
    return counts[hearing.id]


def attendance_open(hearing: Hearing) -> bool:
    return logic.is_open(hearing, utcnow())


def init_app(app: Flask) -> None:
    app.register_blueprint(views.bp)
    # reminders' and notices' links of an attendance lead to its own pages
    register_pages(app, Scope.HEARING, confirm="attendance.confirm", manage="attendance.withdraw",
                   unsubscribe="attendance.withdraw")
    add_to_demo(app, load_demo_attendees)
    app.jinja_env.globals["going_count"] = going_count
    app.jinja_env.globals["attendance_open"] = attendance_open
