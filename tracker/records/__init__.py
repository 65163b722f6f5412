"""Case records: the data model, what is derived from it, and the public pages."""
from __future__ import annotations

from flask import Flask

from tracker.records import demo, views
from tracker.records.custody import describe_sentence
from tracker.records.lines import case_options_html, days_html, lines_html
from tracker.records.names import both_scripts, first_script, in_script


def init_app(app: Flask) -> None:
    app.register_blueprint(views.bp)
    app.jinja_env.globals["describe_sentence"] = describe_sentence
    app.jinja_env.globals["hearing_lines"] = lines_html  # records/_hearings.html
    app.jinja_env.globals.update(hearing_days=days_html, case_options=case_options_html)  # records/hearings.html
    # names and places in the reader's script first (records.names): one helper for every page
    app.jinja_env.globals.update(both_scripts=both_scripts, first_script=first_script, in_script=in_script)
    app.cli.add_command(demo.demo_data_command)
