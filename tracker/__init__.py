"""The tracker application factory: the one module above every feature.

Features, from the ground up (docs/architecture.md): records and mail; auth; editing,
feeds and reminders; solidarity actions; the API, the exchange and the admins' pages. Each is a package
with an `init_app(app)` that registers its blueprints, CLI commands and template helpers.
"""
from __future__ import annotations

import logging
from pathlib import Path
from zoneinfo import ZoneInfo

from flask import Flask, Response, current_app, has_request_context, render_template, request, session
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import LoginManager, user_accessed
from flask_login.config import COOKIE_NAME as REMEMBER_COOKIE
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException
from werkzeug.middleware.proxy_fix import ProxyFix

from tracker import (actions, admin, api, attendance, auth, caching, edge, editing, exchange, feeds, formats, i18n, layout, mail,
                     records, redaction, reminders)
from tracker.access import public
from tracker.extensions import babel, check_connections, csrf, db, limiter, login_manager, migrate, tune_sqlite
from tracker.generation import read_committed
from tracker.form_markup import field as field_markup
from tracker.links import fixed_link
from tracker.records.models import Case

FEATURES = (records, mail, auth, editing, feeds, reminders, attendance, actions, api, exchange, admin)

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
        check_connections(db.engine)  # a dropped connection refused at checkout, without a round trip
    migrate.init_app(app, db, directory=str(_project_dir() / "migrations"))
    csrf.init_app(app)
    limiter.init_app(app)
    login_manager.init_app(app)
    babel.init_app(app, locale_selector=i18n.current_language)
    caching.init_app(app)  # before the API's session interface wraps the guarded one

    edge.init_app(app)  # before the features: their routes' <int:...> use its converter
    i18n.init_app(app)  # the language switch, Content-Language and Vary
    for feature in FEATURES:
        feature.init_app(app)

    app.add_url_rule("/healthz", "healthz", healthz)
    _load_visitors_directly(login_manager)
    _register_error_pages(app)
    _register_template_helpers(app)
    app.extensions[caching.READ_WITH_GENERATION] = (DEMO_QUERY, (True,))  # the banner's question, with a page's ETag
    app.after_request(_security_headers)
    if app.config.get("TRUSTED_PROXIES"):
        hops = app.config["TRUSTED_PROXIES"]
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=hops, x_proto=hops, x_host=hops)
    return app


@public
def healthz() -> Response:
    """For load balancers and the HTTP bench: the app answers, touching no database or session."""
    return Response("ok\n", mimetype="text/plain", headers={"Cache-Control": "no-store"})


def _load_visitors_directly(login: LoginManager) -> None:
    """Flask-Login's user loading, short for a visitor who can be no one else: empty session,
    no "stay logged in" cookie, no `Authorization` header and no request loader.

    Flask-Login answers them with its anonymous user, but first hashes the client's address
    and User-Agent for the session protection check (which an empty session skips) and looks
    for the header through werkzeug's raising lookup (~40 µs of every visitor's page). Here
    they get the same answer (`user_accessed` sent, the anonymous user set) without those;
    anyone else goes Flask-Login's whole way. Once per process: the manager is shared by apps.
    """
    if getattr(login, "_tracker_direct_visitors", False):
        return
    load_user = login._load_user  # noqa: SLF001

    def load_user_or_visitor():  # noqa: ANN202
        config = current_app.config
        header = "HTTP_" + config.get("AUTH_HEADER_NAME", "Authorization").upper().replace("-", "_")
        if (not session and login._request_callback is None  # noqa: SLF001
                and config.get("REMEMBER_COOKIE_NAME", REMEMBER_COOKIE) not in request.cookies
                and header not in request.environ):
            user_accessed.send(current_app._get_current_object())  # noqa: SLF001
            return login._update_request_context_with_user()  # noqa: SLF001
        return load_user()

    login._load_user = load_user_or_visitor  # noqa: SLF001
    login._tracker_direct_visitors = True


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


# Every response's security headers, in the order they are written; a view's own value wins.
SECURITY_HEADERS = (
    ("Content-Security-Policy", CONTENT_SECURITY_POLICY),
    ("X-Content-Type-Options", "nosniff"),
    ("Referrer-Policy", "same-origin"),
    ("X-Frame-Options", "DENY"),
    ("Permissions-Policy", "interest-cohort=(), geolocation=(), camera=(), microphone=()"),
)


def _security_headers(response):  # noqa: ANN001, ANN202
    """`SECURITY_HEADERS` on every response, unless the view set its own; a page whose URL
    holds a secret (`access == "token"`) sends no referrer. The names a response already has
    are read once (werkzeug's `setdefault` scans the header list anew for each of five)."""
    headers = response.headers
    present = {name.lower() for name in headers.keys()}
    view = current_app.view_functions.get(request.endpoint or "")
    secret_url = getattr(view, "access", None) == "token"
    for name, value in SECURITY_HEADERS:
        if secret_url and name == "Referrer-Policy":
            # the URL holds a secret: not even this site's own stylesheet request or access log gets it
            headers[name] = "no-referrer"
        elif name.lower() not in present:
            headers.add(name, value)
    return response


# Error pages in the reader's language: werkzeug's names and default explanations are English.
ERROR_TITLES = {
    400: _l("Bad request"),
    401: _l("Log in first"),
    403: _l("Not allowed"),
    404: _l("Page not found"),
    405: _l("Not accepted at this address"),
    409: _l("Changed meanwhile"),
    413: _l("Too large"),
    422: _l("Could not be processed"),
    429: _l("Too many attempts"),
    500: _l("Server error"),
}
ERROR_REASONS = {
    400: _l("The request could not be understood. Check the address, or go back and try again."),
    401: _l("Log in to see this page."),
    403: _l("Your account may not open this page."),
    405: _l("This address does not take this kind of request: use the page's links and buttons."),
    413: _l("What you sent is too large."),
}


def error_title(error: HTTPException) -> str:
    """The error's name in the reader's language."""
    return str(ERROR_TITLES.get(error.code or 500, error.name or ERROR_TITLES[500]))


def error_reason(error: HTTPException) -> str | None:
    """Why, in the reader's language: the view's own reason (it says `_()`), else ours for the code.

    Werkzeug's class default descriptions are English and generic; so is Flask-WTF's CSRF
    message ("The CSRF token is missing."), which a reader needs told what to do instead.
    """
    if isinstance(error, CSRFError):
        return _("This form has expired or was not sent from this site's page. Go back, reload the page "
                 "and send the form again; what you typed may need to be entered again.")
    own = error.description
    default = getattr(type(error), "description", None)
    if own and own != default and (error.code or 500) < 500:
        return str(own)
    reason = ERROR_REASONS.get(error.code or 500)
    return str(reason) if reason else None


def _register_error_pages(app: Flask) -> None:
    own_pages = {name for name in app.jinja_env.list_templates() if name.startswith("errors/")}

    def render_error(error: HTTPException):
        template = f"errors/{error.code}.html"
        request._tracker_error_page = True  # the language switch does not echo the refused address
        # the templates there are were listed at start: a 404 does not look for errors/404.html on disk
        return (
            render_template(template if template in own_pages else "errors/generic.html", error=error,
                            title=error_title(error), reason=error_reason(error)),
            error.code,
        )

    app.register_error_handler(HTTPException, render_error)

    @app.errorhandler(500)
    def internal_error(error):  # noqa: ANN001
        db.session.rollback()
        app.logger.exception("unhandled error on %s", request.path)
        request._tracker_error_page = True
        return render_template("errors/generic.html", error=error, title=str(ERROR_TITLES[500]), reason=None), 500


def demo_mode() -> bool:
    """Whether the demo's records are loaded (the banner at the top of every page).

    `records.queries.has_demo_data`'s question, asked on the worker's own autocommit
    connection (`generation.read_committed`, ~10 µs on SQLite) rather than through the ORM
    session (~120 µs), so a page that needs no other query (an error page) opens no session,
    and the page's own statements are the only ones counted against it. It sees what is
    committed, which is all a banner needs: no view loads the demo.
    """
    if has_request_context():
        read = request.environ.get(caching.READ_WITH_GENERATION, request)
        if read is not request:  # read with the page's generation, in the same statement (caching.read_page_generation)
            return read is not None
    return read_committed(db.engine, DEMO_QUERY, (True,)) is not None


DEMO_QUERY = f"SELECT 1 FROM {Case.__table__.name} WHERE is_demo = ? LIMIT 1"


def _register_template_helpers(app: Flask) -> None:
    app.jinja_env.globals.update(demo_mode=demo_mode, fixed_link=fixed_link, field_markup=field_markup)
    layout.init_app(app)  # base.html's head, header and footer, kept per language (tracker/layout.py)

    @app.template_filter("local")
    def local_time(value) -> str:  # noqa: ANN001
        """A hearing's start in its court's time zone, with the zone named, in the reader's language."""
        return formats.hearing_moment(value)

    @app.template_filter("datetime_attr")
    def datetime_attr(value) -> str:  # noqa: ANN001
        """The machine-readable value of a <time datetime>: HTML allows at most milliseconds."""
        if hasattr(value, "microsecond"):
            value = value.replace(microsecond=0)
        return value.isoformat()

    # "Wed, Dec 2, 2026" (a heading) and "Dec 2, 2026" (inside a sentence), through Babel
    app.add_template_filter(formats.day, "day")
    app.add_template_filter(formats.short_day, "short_day")

    @app.template_filter("moment_short")
    def moment_short(value, zone: ZoneInfo | str | None = None) -> str:  # noqa: ANN001
        """A stamp (a login, a change) in `zone`, by default the site's (DEFAULT_TIMEZONE), zone named."""
        return formats.moment_short(value, zone or current_app.config["DEFAULT_TIMEZONE"]) if value else ""
