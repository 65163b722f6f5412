"""The reminders feature: volunteers' sign-ups, reminder emails, the outbox and its sender."""
from __future__ import annotations

from flask import Flask

DEFAULTS = {
    "MAIL_RETRY_BASE_SECONDS": 60,  # first retry after a minute, then 2, 4, 8... (capped at 6 hours)
    "REMINDER_SIGNUP_LIMIT": "5 per minute;30 per hour",
    "DIGEST_HOUR": 7,  # the weekly digest goes out on Monday from this hour (DEFAULT_TIMEZONE)
    "SEND_BATCH_LIMIT": 5000,  # messages per run of the send job, so a run ends in bounded time
}


def init_app(app: Flask) -> None:
    import os

    from tracker.reminders import models  # noqa: F401  (tables known to Alembic)
    from tracker.reminders import views

    for key, value in DEFAULTS.items():
        app.config.setdefault(key, type(value)(os.environ.get(key, value)))
    app.register_blueprint(views.bp)
    _tune_sqlite(app)
    if app.config.get("DEV_MAIL_DIR"):
        from tracker.reminders import devmail

        app.register_blueprint(devmail.bp)

    @app.context_processor
    def reminders_context():
        return {"reminder_signup_form": views.signup_form, "dev_mail": bool(app.config.get("DEV_MAIL_DIR"))}


def _tune_sqlite(app: Flask) -> None:
    """SQLite in WAL mode with NORMAL sync: the web app reads while the scheduler writes.

    The sender commits after every message (that is what makes a crash resend at most
    one); with the default rollback journal each commit is an fsync (~5 ms here), with
    WAL it is a write to the log. A power cut may lose the last commits, so a few
    messages could be sent again, each with its Message-ID; a killed process loses nothing.
    """
    import sqlalchemy as sa

    from tracker.extensions import db

    with app.app_context():
        engine = db.engine
    if engine.dialect.name != "sqlite" or engine.url.database in (None, "", ":memory:"):
        return

    @sa.event.listens_for(engine, "connect")
    def set_pragmas(dbapi_connection, _record):  # noqa: ANN001
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.close()
