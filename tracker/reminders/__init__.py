"""The reminders feature: volunteers' sign-ups, reminder emails, the outbox and its sender."""
from __future__ import annotations

from flask import Flask

def init_app(app: Flask) -> None:
    from tracker.reminders import models  # noqa: F401  (tables known to Alembic)
    from tracker.reminders import views

    app.register_blueprint(views.bp)
    if app.config.get("DEV_MAIL_DIR"):
        from tracker.reminders import devmail

        app.register_blueprint(devmail.bp)

    @app.context_processor
    def reminders_context():
        return {"reminder_signup_form": views.signup_form, "dev_mail": bool(app.config.get("DEV_MAIL_DIR"))}
