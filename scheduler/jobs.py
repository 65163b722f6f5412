"""The jobs the scheduler runs, every one in the same frame (frame.job) and on an interval
from config.py. Each is a few lines: the work is a `tracker` function the web app may call too.
"""
from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from flask import Flask, current_app
from sqlalchemy.orm import Session

from config import Config
from scheduler import runtime
from scheduler.frame import job
from tracker.editing.alerts import enqueue_deadline_alerts
from tracker.editing.stale_list import enqueue_stale_lists
from tracker.editing.transit_alerts import enqueue_transit_alerts
from tracker.exchange.uploads import purge_uploads
from tracker.feeds import publish
from tracker.mail.sending import SendReport, send_pending
from tracker.reminders.changes import notify_hearing_changes
from tracker.reminders.digest import enqueue_digests
from tracker.reminders.due import enqueue_due, record_missed
from tracker.reminders.subscriptions import purge_unconfirmed

log = logging.getLogger("scheduler.jobs")


@dataclass(frozen=True)
class Job:
    name: str
    seconds: int
    run: Callable[[Flask, datetime | None], object]


@job
def publish_feeds(session: Session, now: datetime) -> None:
    """A change an editor made reaches the calendar feeds within a minute."""
    publish.publish_feeds(now, session=session)


REMINDER_CHUNK = 500  # due reminders committed at a time: the send job starts on the first chunk


def enqueue_due_in_chunks(session: Session, now: datetime) -> int:
    """Due reminders, committed a chunk at a time, so that the send job (started by the
    first chunk, see __main__) sends while the rest is composed: 10,000 reminders reach the
    relay in about the time the relay needs, not that plus the composing."""
    return enqueue_due(session, now, commit_every=REMINDER_CHUNK)


# Change notices first (they make old reminders stale), then due reminders, digests, editors' alerts.
PLANNING_STEPS = (notify_hearing_changes, enqueue_due_in_chunks, record_missed, enqueue_digests, enqueue_deadline_alerts,
                  enqueue_transit_alerts, enqueue_stale_lists)


@job
def plan_mail(session: Session, now: datetime) -> list[str]:
    """Write what is due to the outbox; returns the names of the steps that failed.

    Each step stands on its own: it is committed alone, and one that fails is logged
    and rolled back while the steps after it still run (a digest that cannot be
    written must not stop the deadline alerts). Inside the steps, one message that
    cannot be composed is logged and skipped (`tracker.mail.outbox.skip_on_error`).
    The next run tries the failed steps again.
    """
    failed: list[str] = []
    for step in PLANNING_STEPS:
        try:
            step(session, now)
            session.commit()
        except Exception:
            session.rollback()
            failed.append(step.__name__)
            log.exception("planning mail: %s failed; the other steps go on, the next run tries again", step.__name__)
    return failed


@job
def send_mail(session: Session, now: datetime) -> SendReport:
    """Send the outbox; stops between messages on SIGTERM or when the leader lock is lost.

    While `plan-mail` is still committing chunks of reminders in this process, the sender
    waits for them rather than ending its batch (tracker.mail.arriving).
    """
    runtime.sending.set()
    try:
        return send_pending(session, now, limit=current_app.config["SEND_BATCH_LIMIT"],
                            should_stop=runtime.stopping.is_set, may_claim=runtime.still_leading)
    finally:
        runtime.sending.clear()


@job
def purge_signups(session: Session, now: datetime) -> int:
    """Sign-ups nobody confirmed are deleted once their link has expired."""
    return purge_unconfirmed(session, now)


@job
def purge_import_uploads(session: Session, now: datetime) -> int:
    """Uploads nobody confirmed hold private data: deleted once expired."""
    return purge_uploads(session, now, timedelta(minutes=current_app.config["IMPORT_UPLOAD_MAX_AGE_MINUTES"]))


JOBS: list[Job] = [
    Job("publish_feeds", Config.PUBLISH_FEEDS_EVERY_SECONDS, publish_feeds),
    Job("plan-mail", Config.PLAN_MAIL_EVERY_SECONDS, plan_mail),
    Job("send-mail", Config.SEND_MAIL_EVERY_SECONDS, send_mail),
    Job("purge-signups", Config.PURGE_SIGNUPS_EVERY_SECONDS, purge_signups),
    Job("purge-import-uploads", Config.PURGE_IMPORT_UPLOADS_EVERY_SECONDS, purge_import_uploads),
]
