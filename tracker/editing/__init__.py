"""The editing feature: editors' forms, the services they call, the audit trail."""
from flask import Flask


def init_app(app: Flask) -> None:
    from tracker.editing import models  # noqa: F401  (tables known to Alembic)
    from tracker.editing import views

    app.register_blueprint(views.bp)
    app.register_blueprint(views.admin_bp)
    app.jinja_env.globals["can_edit_current"] = views.can_edit_current
    app.jinja_env.globals["visible_to_current"] = views.visible_to_current
    app.jinja_env.globals["edits_every_case"] = views.current_user_edits_every_case
