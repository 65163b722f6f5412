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
from tracker.reminders import logic, sending

log = logging.getLogger("scheduler.reminders")


def plan_mail(app: Flask, now: datetime | None = None) -> None:
    """Change notices first (they make old reminders stale), then due reminders, digests, alerts."""
    with app.app_context():
        now = now or utcnow()
        try:
            for step in (logic.notify_hearing_changes, logic.enqueue_due, logic.record_missed,
                         logic.enqueue_digests, logic.enqueue_deadline_alerts):
                step(db.session, now)
                db.session.commit()  # each step stands on its own: one failing does not undo the others
        except Exception:
            db.session.rollback()
            log.exception("planning mail failed; the next run tries again")
            raise
        finally:
            db.session.remove()


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
            logic.purge_unconfirmed(db.session, now or utcnow())
            db.session.commit()
        finally:
            db.session.remove()
