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
    """How many confirmed they will go: one query per page, whatever its number of hearings."""
    counts = g.get("attendance_counts")
    if counts is None:
        counts = g.attendance_counts = logic.going_counts(db.session, utcnow())
    return counts.get(hearing.id, 0)


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
