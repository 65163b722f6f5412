"""The jobs the scheduler runs. Each is a thin wrapper: app context, read the clock once,
call a `tracker` function, commit. Feature packages add their entry to JOBS.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

from flask import Flask


@dataclass(frozen=True)
class Job:
    name: str
    seconds: int
    run: Callable[[Flask], None]


JOBS: list[Job] = []


def publish_feeds_job(app: Flask) -> None:
    """Every minute: a change an editor made reaches the calendar feeds within a minute."""
    from tracker.extensions import db, utcnow
    from tracker.feeds.publish import publish_feeds

    with app.app_context():
        try:
            publish_feeds(utcnow())
        finally:
            db.session.rollback()  # read-only; end the transaction before the connection returns


JOBS.append(Job("publish_feeds", 60, publish_feeds_job))

# Reminders: plan (change notices, due reminders, missed, digests, deadline alerts),
# send the outbox, and delete sign-ups nobody confirmed.
from scheduler import reminders as _reminders  # noqa: E402

JOBS += [
    Job("plan-mail", 30, _reminders.plan_mail),
    Job("send-mail", 15, _reminders.send_mail),
    Job("purge-signups", 3600, _reminders.purge_signups),
]


def purge_import_uploads_job(app: Flask) -> None:
    """Every 10 minutes: uploads nobody confirmed hold private data; delete them once expired."""
    from datetime import timedelta

    from tracker.exchange.uploads import purge_uploads
    from tracker.extensions import db, utcnow

    with app.app_context():
        try:
            purge_uploads(db.session, utcnow(), timedelta(minutes=app.config["IMPORT_UPLOAD_MAX_AGE_MINUTES"]))
            db.session.commit()
        finally:
            db.session.remove()


JOBS.append(Job("purge-import-uploads", 600, purge_import_uploads_job))
