"""Accounts: users, login, invitations, password resets. Who may do what is tracker/access.py;
the admins' account pages are in tracker/admin."""
from __future__ import annotations

import time

import sqlalchemy as sa
from flask import Flask, render_template, request
from flask_babel import lazy_gettext as _l
from flask_limiter.errors import RateLimitExceeded

from tracker.auth import cli, views
from tracker.auth.forms import LoginForm
from tracker.auth.models import User
from tracker.extensions import db, limiter, login_manager


def configure_sessions(config: dict) -> None:
    """Cookies that never travel over plain HTTP when the site is served over HTTPS."""
    secure = str(config.get("BASE_URL", "")).startswith("https://")
    config["SESSION_COOKIE_SECURE"] = secure
    config["REMEMBER_COOKIE_SECURE"] = secure
    config["REMEMBER_COOKIE_HTTPONLY"] = True
    config["REMEMBER_COOKIE_SAMESITE"] = "Lax"
    config.setdefault("SESSION_COOKIE_HTTPONLY", True)
    config.setdefault("SESSION_COOKIE_SAMESITE", "Lax")


def init_app(app: Flask) -> None:
    configure_sessions(app.config)

    login_manager.login_view = "auth.login"
    login_manager.login_message = _l("Log in to edit.")
    login_manager.login_message_category = "info"

    @login_manager.user_loader
    def load_user(login_id: str) -> User | None:
        """The account a session or remember cookie names by its login id (User.get_id).

        An id replaced since (password set, "log out everywhere", deactivation) names nobody,
        and a deactivated account is logged out on its next request.
        """
        if not login_id or len(login_id) > 64:
            return None
        user = db.session.scalar(sa.select(User).where(User.login_id == login_id))
        return user if user is not None and user.active else None

    app.register_blueprint(views.bp)
    app.cli.add_command(cli.create_user_command)
    _register_rate_limit_page(app)


def _register_rate_limit_page(app: Flask) -> None:
    @app.errorhandler(RateLimitExceeded)
    def too_many(error: RateLimitExceeded):
        """The login page again with the reason, rather than a bare error page."""
        if request.endpoint == "auth.login":
            form = LoginForm()
            form.email.data = request.form.get("email", "")
            return render_template("auth/login.html", form=form, rate_limited=error.description), 429
        return render_template("errors/429.html", error=error, retry_seconds=_retry_seconds()), 429


def _retry_seconds() -> int:
    """Seconds until the limit that refused this request lets the next one through."""
    current = limiter.current_limit
    return max(1, int(current.reset_at - time.time())) if current is not None else 60
