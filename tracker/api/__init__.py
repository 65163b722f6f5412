"""Data out: the read-only JSON API (/api/v1/) and the public CSV export.

Only what the public pages show. `queries` picks the public records a page at a
time, `serialise` turns them into JSON, `openapi` describes the same shapes,
`export` writes the CSV; `http` holds the ETag, caching and CORS care they share.
"""
from __future__ import annotations

from flask import Flask

from tracker.api import export, http, views


def init_app(app: Flask) -> None:
    app.register_blueprint(views.bp)
    app.register_blueprint(export.bp)
    app.session_interface = http.SessionlessPaths(app.session_interface, (views.bp.url_prefix + "/", "/export/"))
