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
    if app.config.get("DEV_MAIL_DIR"):
        from tracker.reminders import devmail

        app.register_blueprint(devmail.bp)

    @app.context_processor
    def reminders_context():
        return {"reminder_signup_form": views.signup_form, "dev_mail": bool(app.config.get("DEV_MAIL_DIR"))}
