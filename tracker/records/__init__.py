"""Case records: the data model, what is derived from it, and the public pages."""
from __future__ import annotations

from flask import Flask

from tracker.records import demo, views
from tracker.records.custody import describe_sentence


def init_app(app: Flask) -> None:
    app.register_blueprint(views.bp)
    app.jinja_env.globals["describe_sentence"] = describe_sentence
    app.cli.add_command(demo.demo_data_command)
