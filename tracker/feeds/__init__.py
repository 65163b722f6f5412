"""Calendar feeds: iCalendar building (ical), publishing to FEEDS_DIR (publish),
serving with ETag/304/gzip (views), an editor's private feed (private)."""
from __future__ import annotations

import os

from flask import Flask

# Settings of this feature with their defaults (environment variables override them).
DEFAULTS = {
    # days to appeal a first-instance decision (shown in editors' private feeds)
    "APPEAL_DAYS": int(os.environ.get("APPEAL_DAYS", "15")),
    # pin the right-hand side of event UIDs if the site ever moves (default: BASE_URL's host)
    "FEED_UID_DOMAIN": os.environ.get("FEED_UID_DOMAIN", ""),
    # where subscribers fetch feeds, if not the app itself (e.g. https://cdn.example.org/feeds)
    "FEEDS_URL": os.environ.get("FEEDS_URL", ""),
    # how long HTTP caches and CDNs may keep a feed before asking again
    "FEED_CACHE_SECONDS": int(os.environ.get("FEED_CACHE_SECONDS", "60")),
    # answer unchanged-feed polls (304) before Flask runs; off only to measure the difference
    "FEED_REVALIDATION_MIDDLEWARE": os.environ.get("FEED_REVALIDATION_MIDDLEWARE", "1") not in ("0", "false", "no"),
}


def init_app(app: Flask) -> None:
    from tracker.feeds import cli, serving, views

    for key, value in DEFAULTS.items():
        app.config.setdefault(key, value)
    app.register_blueprint(views.bp)
    app.cli.add_command(cli.publish_feeds_command)
    app.add_template_global(views.feed_links, "feed_links")
    if app.config["FEED_REVALIDATION_MIDDLEWARE"]:
        # polls of published feeds that have not changed are answered before Flask runs
        app.wsgi_app = serving.RevalidationMiddleware(app.wsgi_app, app.config)
