"""What leaves public view leaves the published feeds before the editor's request answers.

The scheduler republishes every minute, soon enough for a new or moved hearing. Not for a
defendant hidden at the family's request: their page is 404 at once, and the files in
FEEDS_DIR (served by the app's revalidation middleware with 304s, or by nginx) would keep
their name in all.ics, their case's feed and their own feed for up to a minute.

The editing services know nothing of feeds; this module watches the ORM session instead. At
each flush it notes a change to what the public feeds name: a defendant hidden (or shown),
renamed or given a new address, a defendant taken off a hearing, a case renamed, a record
deleted. When the request's transaction has committed, `publish_feeds` runs before the
response is sent; the publish lock (files.publish_lock) keeps a scheduler run that read the
database earlier from writing its older files afterwards. A failed publish is logged and left
to the scheduler's next run: the editor's change is saved either way.
"""
from __future__ import annotations

import logging

import sqlalchemy as sa
from flask import Flask, Response, g, has_request_context
from sqlalchemy.orm import Session

from tracker.extensions import db, utcnow
from tracker.feeds.publish import publish_feeds
from tracker.records.models import Case, Defendant, Hearing

log = logging.getLogger(__name__)

_PENDING = "feeds_republish"  # session.info: a flushed change the feeds must not keep
# What a public feed shows of each record; a change to these may take text out of public view.
WATCHED = {
    Defendant: ("is_public", "name_latin", "name_original", "slug"),
    Case: ("title", "slug"),
}


def takes_text_out_of_public_view(session: Session) -> bool:
    """Whether the pending changes of `session` may remove something the public feeds show."""
    if any(isinstance(obj, (Defendant, Case, Hearing)) for obj in session.deleted):
        return True
    for obj in session.dirty:
        state = sa.inspect(obj)
        for model, names in WATCHED.items():
            if isinstance(obj, model) and any(state.attrs[name].history.has_changes() for name in names):
                return True
        if isinstance(obj, Hearing) and state.attrs.defendants.history.deleted:
            return True
    return False


def _note_flush(session: Session, _context, _instances) -> None:  # noqa: ANN001
    if takes_text_out_of_public_view(session):
        session.info[_PENDING] = True


def _note_commit(session: Session) -> None:
    if session.info.pop(_PENDING, False) and has_request_context():
        g.feeds_republish = True


def _forget(session: Session) -> None:
    session.info.pop(_PENDING, None)


def republish_if_needed(response: Response) -> Response:
    """After a request that committed such a change: republish before the answer goes out."""
    if not g.pop("feeds_republish", False):
        return response
    try:
        report = publish_feeds(utcnow())
        log.info("republished at once: %d written, %d removed", len(report.written), len(report.removed))
    except Exception:  # the change is saved; the scheduler's next run publishes it
        log.exception("republishing the feeds after a change failed; the scheduler will retry")
    finally:
        db.session.rollback()  # read-only; end the transaction
    return response


def init_app(app: Flask) -> None:
    session_class = db.session.session_factory.class_
    if not sa.event.contains(session_class, "before_flush", _note_flush):
        sa.event.listen(session_class, "before_flush", _note_flush)
        sa.event.listen(session_class, "after_commit", _note_commit)
        sa.event.listen(session_class, "after_rollback", _forget)
    app.after_request(republish_if_needed)
