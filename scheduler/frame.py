"""The frame every scheduler job runs in: one place that reads the clock and ends the transaction.

A job is a function of a session and `now` (the same plain functions the web app calls).
`job` makes it something the scheduler can call with the app: it enters an app context,
reads the clock once unless `now` is given (`python -m scheduler --once --now ...`, the
tests), calls the work, commits; on failure it rolls back, logs and re-raises (APScheduler
and `--once` report it; the next run tries again); the session is always removed.
"""
from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime
from functools import wraps
from typing import TypeVar

from flask import Flask
from sqlalchemy.orm import Session

from tracker.extensions import db, utcnow

log = logging.getLogger("scheduler")

T = TypeVar("T")
Work = Callable[[Session, datetime], T]
Run = Callable[[Flask, datetime | None], T]


def job(work: Work) -> Run:
    """`work(session, now)` as `run(app, now=None)`, in the frame described above."""

    @wraps(work)
    def run(app: Flask, now: datetime | None = None) -> T:
        with app.app_context():
            try:
                result = work(db.session, now or utcnow())
                db.session.commit()
                return result
            except Exception:
                db.session.rollback()
                log.exception("%s failed; the next run tries again", work.__name__)
                raise
            finally:
                db.session.remove()

    return run
