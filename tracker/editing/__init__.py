"""The editing feature: editors' forms and pages, the services they call, the audit trail and
its readable history, and lawyers' deadline alerts."""
from __future__ import annotations

from flask import Flask

from tracker.editing import defendant_views, hearing_views, models, views  # noqa: F401  (routes; tables for Alembic)
from tracker.editing.pages import bp
from tracker.records.display import add_hearing_extra


def init_app(app: Flask) -> None:
    app.register_blueprint(bp)
    app.jinja_env.globals["can_edit_current"] = views.can_edit_current
    app.jinja_env.globals["visible_to_current"] = views.visible_to_current
    app.jinja_env.globals["edits_every_case"] = views.current_user_edits_every_case
    add_hearing_extra(app, 30, views.hearing_tools)  # "Edit, postpone, history" on the lines editors may change
