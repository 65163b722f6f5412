"""The tracker application factory: the one module above every feature.

Features, from the ground up (docs/architecture.md): records and mail; auth; editing,
feeds and reminders; solidarity actions; the API, the exchange and the admins' pages. Each is a package
with an `init_app(app)` that registers its blueprints, CLI commands and template helpers.
"""
from __future__ import annotations

import logging
from pathlib import Path

from flask import Flask, current_app, has_request_context, render_template, request
from werkzeug.exceptions import HTTPException
from werkzeug.middleware.proxy_fix import ProxyFix

from tracker import actions, admin, api, auth, edge, editing, exchange, feeds, mail, records, redaction, reminders
from tracker.extensions import babel, csrf, db, limiter, login_manager, migrate, tune_sqlite
from tracker.records.queries import has_demo_data

FEATURES = (records, mail, auth, editing, feeds, reminders, actions, api, exchange, admin)

# Keys that have been public (in this repository or its documentation): never accepted.
PUBLIC_SECRET_KEYS = frozenset({"dev-only-not-secret", "test-secret", "change-me", "secret"})
MIN_SECRET_KEY_LENGTH = 32


class ConfigError(RuntimeError):
    """A setting the app must not start without; the message says what to do."""


CONTENT_SECURITY_POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "font-src 'self'; connect-src 'self'; form-action 'self'; frame-ancestors 'none'; "
    "base-uri 'none'; object-src 'none'"
)


def create_app(config: object | str | None = None) -> Flask:
    app = Flask(
        __name__,
        template_folder="../templates",
        static_folder="static",
        instance_relative_config=False,
    )
    app.config.from_object(config or "config.Config")
    check_secret_key(app.config)
    redaction.install()  # no token from a URL in any log line of this process
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    logging.getLogger("alembic.runtime.plugins").setLevel(logging.WARNING)

    db.init_app(app)
    with app.app_context():
        tune_sqlite(db.engine)
    migrate.init_app(app, db, directory=str(_project_dir() / "migrations"))
    csrf.init_app(app)
    limiter.init_app(app)
    login_manager.init_app(app)
    babel.init_app(app, locale_selector=_select_locale)

    edge.init_app(app)  # before the features: their routes' <int:...> use its converter
    for feature in FEATURES:
        feature.init_app(app)

    _register_error_pages(app)
    _register_template_helpers(app)
    app.after_request(_security_headers)
    if app.config.get("TRUSTED_PROXIES"):
        hops = app.config["TRUSTED_PROXIES"]
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=hops, x_proto=hops, x_host=hops)
    return app


def check_secret_key(config: dict) -> None:
    """Refuse to start on a missing, public or short SECRET_KEY (tests excepted).

    Whoever knows the key can sign a session cookie for any account, an admin's included,
    and make password-reset links. An exception rather than a warning: gunicorn then stops
    with "Worker failed to boot" instead of serving.
    """
    if config.get("TESTING"):
        return
    key = config.get("SECRET_KEY") or ""
    if isinstance(key, bytes):
        key = key.decode("utf-8", "replace")
    if key in PUBLIC_SECRET_KEYS or len(key) < MIN_SECRET_KEY_LENGTH:
        raise ConfigError(
            f"SECRET_KEY is missing, public or shorter than {MIN_SECRET_KEY_LENGTH} characters: set SECRET_KEY "
            "(or SECRET_KEY_FILE, a file holding it) to a random value, e.g. the output of "
            "`python -c 'import secrets; print(secrets.token_urlsafe(48))'`. `make run` makes its own."
        )


def _project_dir() -> Path:
    return Path(__file__).resolve().parent.parent


def _select_locale() -> str | None:
    if not has_request_context():  # the scheduler, the CLI: the default locale
        return None
    return request.accept_languages.best_match(current_app.config["LANGUAGES"])


def _security_headers(response):  # noqa: ANN001, ANN202
    response.headers.setdefault("Content-Security-Policy", CONTENT_SECURITY_POLICY)
    response.headers.setdefault("X-Content-Type-Options", "nosniff")
    view = current_app.view_functions.get(request.endpoint or "")
    if getattr(view, "access", None) == "token":
        # the URL holds a secret: not even this site's own stylesheet request or access log gets it
        response.headers["Referrer-Policy"] = "no-referrer"
    response.headers.setdefault("Referrer-Policy", "same-origin")
    response.headers.setdefault("X-Frame-Options", "DENY")
    response.headers.setdefault("Permissions-Policy", "interest-cohort=(), geolocation=(), camera=(), microphone=()")
    return response


def _register_error_pages(app: Flask) -> None:
    def render_error(error: HTTPException):
        template = f"errors/{error.code}.html"
        return (
            render_template([template, "errors/generic.html"], error=error),
            error.code,
        )

    app.register_error_handler(HTTPException, render_error)

    @app.errorhandler(500)
    def internal_error(error):  # noqa: ANN001
        db.session.rollback()
        app.logger.exception("unhandled error on %s", request.path)
        return render_template("errors/generic.html", error=error), 500


def _register_template_helpers(app: Flask) -> None:
    @app.context_processor
    def site_context():
        def demo_mode() -> bool:
            return has_demo_data(db.session)

        return {"demo_mode": demo_mode}

    @app.template_filter("local")
    def local_time(value, fmt: str = "%Y-%m-%d %H:%M"):  # noqa: ANN001
        """A hearing's start in its court's time zone, with the zone named."""
        local = value.local_start
        return f"{local.strftime(fmt)} ({local.tzname()}, {value.court.timezone})"

    @app.template_filter("datetime_attr")
    def datetime_attr(value) -> str:  # noqa: ANN001
        """The machine-readable value of a <time datetime>: HTML allows at most milliseconds."""
        if hasattr(value, "microsecond"):
            value = value.replace(microsecond=0)
        return value.isoformat()

    @app.template_filter("day")
    def day_filter(value) -> str:  # noqa: ANN001
        return value.strftime("%a %d %b %Y") if value else ""
