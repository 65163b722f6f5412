"""Records in and out: spreadsheet import (with a dry run) and the admins' full export."""
from __future__ import annotations

from flask import Flask

from tracker.exchange import cli, models, views  # noqa: F401  (models: tables known to Alembic)


def init_app(app: Flask) -> None:
    app.register_blueprint(views.bp)
    # first of all hooks: the CSRF check reads the body, and the size limit must apply before it does
    app.before_request_funcs.setdefault(None, []).insert(0, views.limit_upload_size)
    app.cli.add_command(cli.import_records_command)
    app.cli.add_command(cli.export_records_command)
