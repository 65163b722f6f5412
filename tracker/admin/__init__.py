"""The admins' pages: accounts, the audit trail of every change, and the outbox.

They sit above the features whose records they show (auth, editing, mail), so no
feature imports them; every route is `admin_required`. URLs are the ones the pages
always had.
"""
from __future__ import annotations

from flask import Flask

from tracker.admin import views


def init_app(app: Flask) -> None:
    app.register_blueprint(views.bp)
