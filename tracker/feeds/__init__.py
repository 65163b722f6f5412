"""Calendar feeds: one hearing's event (ical), whole calendars and the event cache
(calendars), publishing to FEEDS_DIR (snapshot, publish, files), serving with
ETag/304/gzip (serving, views), an editor's private feed (private)."""
from __future__ import annotations

from flask import Flask

from tracker.feeds import cli, immediate, serving, views
from tracker.records.display import add_hearing_extra


def init_app(app: Flask) -> None:
    views.register_converter(app)  # /feeds/<lang>/...: before the rules that use it
    app.register_blueprint(views.bp)
    immediate.init_app(app)  # hiding a defendant republishes before the editor's request answers
    app.cli.add_command(cli.publish_feeds_command)
    app.add_template_global(views.feed_links, "feed_links")
    app.add_template_global(views.reader_language, "feed_language")
    add_hearing_extra(app, 10, views.hearing_calendar_links)  # "Add to my calendar" on each hearing line
    if app.config["FEED_REVALIDATION_MIDDLEWARE"]:
        # polls of published feeds that have not changed are answered before Flask runs
        app.wsgi_app = serving.RevalidationMiddleware(app.wsgi_app, app.config)
