"""The reminders' job wrappers: app context, read the clock once, call `tracker`, commit.

`now` may be passed (`python -m scheduler --once --now ...`, the tests); otherwise
the clock is read here, the only place these jobs read it.
"""
from __future__ import annotations

import logging
from datetime import datetime

from flask import Flask

from scheduler import runtime
from tracker.extensions import db, utcnow
from tracker.mail import sending
from tracker.editing.alerts import enqueue_deadline_alerts
from tracker.reminders.changes import notify_hearing_changes
from tracker.reminders.digest import enqueue_digests
from tracker.reminders.due import enqueue_due, record_missed
from tracker.reminders.subscriptions import purge_unconfirmed

log = logging.getLogger("scheduler.reminders")


PLANNING_STEPS = (notify_hearing_changes, enqueue_due, record_missed, enqueue_digests, enqueue_deadline_alerts)


def plan_mail(app: Flask, now: datetime | None = None) -> list[str]:
    """Change notices first (they make old reminders stale), then due reminders, digests, alerts.

    Each step stands on its own: it is committed alone, and one that fails is logged
    and rolled back while the steps after it still run (a digest that cannot be
    written must not stop the deadline alerts). Inside the steps, one message that
    cannot be composed is logged and skipped (`tracker.mail.outbox.skip_on_error`). Returns the names
    of the steps that failed; the next run tries them again.
    """
    failed: list[str] = []
    with app.app_context():
        now = now or utcnow()
        try:
            for step in PLANNING_STEPS:
                try:
                    step(db.session, now)
                    db.session.commit()
                except Exception:
                    db.session.rollback()
                    failed.append(step.__name__)
                    log.exception("planning mail: %s failed; the other steps go on, the next run tries again",
                                  step.__name__)
        finally:
            db.session.remove()
    return failed


def send_mail(app: Flask, now: datetime | None = None) -> None:
    with app.app_context():
        try:
            sending.send_pending(
                db.session, now or utcnow(), limit=app.config["SEND_BATCH_LIMIT"],
                should_stop=runtime.stopping.is_set, may_claim=runtime.still_leading,
            )
        except Exception:
            db.session.rollback()
            log.exception("sending mail failed; the next run tries again")
            raise
        finally:
            db.session.remove()


def purge_signups(app: Flask, now: datetime | None = None) -> None:
    with app.app_context():
        try:
            purge_unconfirmed(db.session, now or utcnow())
            db.session.commit()
        finally:
            db.session.remove()
