"""Records in and out: spreadsheet import (with a dry run) and the admins' full export."""
from flask import Flask


def init_app(app: Flask) -> None:
    from tracker.exchange import cli, models, views  # noqa: F401  (models: tables known to Alembic)

    app.register_blueprint(views.bp)
    app.cli.add_command(cli.import_records_command)
    app.cli.add_command(cli.export_records_command)
