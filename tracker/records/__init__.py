"""Case records: the data model and the public pages."""
from flask import Flask


def init_app(app: Flask) -> None:
    from tracker.records import demo, logic, views

    app.register_blueprint(views.bp)
    app.jinja_env.globals["describe_sentence"] = logic.describe_sentence
    app.cli.add_command(demo.demo_data_command)
