"""The reminders feature: volunteers' sign-ups, and the reminders and notices they get."""
from __future__ import annotations

from flask import Flask

from tracker.mail.sending import before_sending
from tracker.reminders import markup, models, views  # noqa: F401  (models: tables known to Alembic)
from tracker.reminders.changes import supersede_stale_reminders


def init_app(app: Flask) -> None:
    app.register_blueprint(views.bp)
    app.jinja_env.globals["reminder_markup"] = markup
    # every sender in this app (the scheduler, a test) leaves out reminders of hearings that moved
    before_sending(app, supersede_stale_reminders)

    @app.context_processor
    def reminders_context() -> dict[str, object]:
        return {"reminder_signup_form": views.signup_form, "reminder_blank_signup": views.blank_signup}
