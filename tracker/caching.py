"""Public pages a shared cache (nginx `proxy_cache`, a CDN, the browser) can hold.

One mechanism, `@cacheable_page`, on every public HTML page (docs/caching.md):

- an anonymous visitor with no session gets `Cache-Control: public, max-age=…,
  stale-while-revalidate=…`, `Vary: Accept-Language, Cookie` and a strong ETag;
- a matching `If-None-Match` is answered 304 before the view runs: no query of the
  page's rows, no template, one primary-key read of the data generation; most of them
  before Flask runs at all (`PageRevalidation`, a WSGI middleware);
- a logged-in editor, or a visitor whose session holds something (a flash, the address
  just signed up), gets the page rendered for them with `private, no-store` and no ETag.

The ETag is derived, without rendering, from everything that changes the HTML:

- the **data generation** (tracker/generation.py), a counter in `site_settings` that every
  write to a table a public page may show raises in the same transaction. Tables no
  public page shows (`UNSHOWN_TABLES`: the outbox, sign-ups, accounts, the audit trail)
  do not raise it, so sending mail does not empty the caches;
- the language the page is rendered in (`get_locale()`: the `lang` cookie or
  Accept-Language, whichever the app chose);
- the release (a hash of the code, templates, translations and static files, or the
  `RELEASE` setting);
- the clock, at the page's granularity: "minute" pages (upcoming hearings, "next
  hearing", "days ago") change at most every `PAGE_CLOCK_SECONDS`, "day" pages daily;
- the window of the public forms' CSRF token (tracker/forms.py), which is in the HTML.

A guard (`GuardedSessions`) runs after everything else has touched the response: a
response marked public that sets a cookie, or that was rendered for a logged-in user,
is turned into `private, no-store` and logged. No path can put a session's content into
a response a shared cache may keep.
"""
from __future__ import annotations

import hashlib
import logging
from datetime import datetime
from functools import wraps
from pathlib import Path
from urllib.parse import parse_qs
from typing import Callable, TypeVar
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from flask import Flask, Response, current_app, make_response, request, session
from flask.sessions import SecureCookieSessionInterface, SessionInterface, SessionMixin
from flask_babel import get_locale
from flask_login import current_user
from werkzeug.datastructures import LanguageAccept
from werkzeug.http import parse_accept_header, parse_cookie, parse_etags
from werkzeug.exceptions import HTTPException

from tracker.extensions import db, reading_committed, utcnow
from tracker.generation import install_generation_hooks, read_generation, read_generation_with
from tracker.i18n import LANGUAGE_ARG, LANGUAGE_COOKIE, choose_language, vary_on

F = TypeVar("F", bound=Callable)
log = logging.getLogger(__name__)

PRIVATE = "private, no-store"
# What Flask-Login writes into any non-empty session, logged in or not: not the visitor's own.
LOGIN_BOOKKEEPING = frozenset({"_fresh", "_id"})
CLOCKS = ("minute", "day")


def public_token_window(now: datetime, config: dict) -> int:
    """The number of the time window a public form's token is signed for (tracker/forms.py):
    the token is in the page's HTML, so the window is part of the page's ETag."""
    return int(now.timestamp()) // max(1, config["PUBLIC_FORM_TOKEN_WINDOW"])


# --- the release --------------------------------------------------------------------


def release_fingerprint(root: Path) -> str:
    """A hash of what turns rows into HTML: the code, templates, translations, static files."""
    digest = hashlib.blake2b(digest_size=8)
    patterns = ("tracker/**/*.py", "templates/**/*.html", "tracker/translations/**/*.mo", "tracker/static/**/*")
    for pattern in patterns:
        for path in sorted(root.glob(pattern)):
            if path.is_file():
                digest.update(str(path.relative_to(root)).encode())
                digest.update(path.read_bytes())
    return digest.hexdigest()


# --- the page's validator -----------------------------------------------------------


def clock_value(now: datetime, clock: str, config: dict) -> str:
    """The part of the clock a page shows: a minute bucket, or the day (UTC and at home)."""
    if clock == "day":
        return f"{now.date()}/{now.astimezone(ZoneInfo(config['DEFAULT_TIMEZONE'])).date()}"
    return str(int(now.timestamp()) // max(1, config["PAGE_CLOCK_SECONDS"]))


def etag_of(endpoint: str, environ: dict, generation: str, language: str, clock: str, now: datetime,
            app: Flask) -> str:
    """The strong ETag of a page, from what it shows (see the module doc). A pure function of
    its arguments: the view's wrapper and `PageRevalidation` compute the very same one."""
    config = app.config
    parts = [
        endpoint, environ.get("PATH_INFO", ""), environ.get("QUERY_STRING", ""), generation, language,
        app.extensions["page_release"], clock_value(now, clock, config), str(public_token_window(now, config)),
    ]
    return '"p-' + hashlib.blake2b("\x1f".join(parts).encode(), digest_size=12).hexdigest() + '"'


def page_etag(generation: str, clock: str, now: datetime) -> str:
    """The ETag of the current request's page, in the language it is rendered in."""
    return etag_of(request.endpoint or "", request.environ, generation, str(get_locale()), clock, now,
                   current_app._get_current_object())  # noqa: SLF001


def page_language(environ: dict, config: dict) -> str:
    """The language the app renders a page in for this request, read from the raw request by
    the same rule as the app's own choice (`tracker.i18n.choose_language`): `?lang=`, the
    `lang` cookie, Accept-Language, the default. `tests/app/test_caching.py` checks that this
    agrees with `get_locale()` on every combination it tries."""
    listed = list(config["LANGUAGES"])
    default = config.get("BABEL_DEFAULT_LOCALE") or "en"
    if default not in listed:
        listed = [default, *listed]
    query = parse_qs(environ.get("QUERY_STRING", "")).get(LANGUAGE_ARG, [None])[0]
    accept = parse_accept_header(environ.get("HTTP_ACCEPT_LANGUAGE"), LanguageAccept)
    return choose_language(query, parse_cookie(environ).get(LANGUAGE_COOKIE), accept, listed, default)[0]


def shareable_request() -> bool:
    """Whether the page may be the one every anonymous visitor gets: nobody logged in and
    nothing in the session (a flash, the address just signed up: those are this visitor's)."""
    return not current_user.is_authenticated and not visitor_keys(session)


def visitor_keys(session: SessionMixin) -> set[str]:
    """What the session holds for this visitor (a flash, the address just signed up)."""
    return set(session) - LOGIN_BOOKKEEPING


def public_cache_control(config: dict) -> str:
    return (f"public, max-age={config['PAGE_MAX_AGE']}, "
            f"stale-while-revalidate={config['PAGE_STALE_WHILE_REVALIDATE']}")


def _mark_public(response: Response, etag: str) -> Response:
    response.headers["ETag"] = etag
    response.headers["Cache-Control"] = public_cache_control(current_app.config)
    vary_on(response, "Accept-Language", "Cookie")  # the `lang` cookie chooses the language; a session, the private page
    return response


def mark_private(response: Response) -> Response:
    """Never stored by any cache: a page rendered for one visitor."""
    response.headers["Cache-Control"] = PRIVATE
    response.headers.pop("ETag", None)
    vary_on(response, "Cookie")
    return response


def cacheable_page(clock: str = "minute") -> Callable[[F], F]:
    """Make a public page's view cacheable by shared caches (see the module doc).

    `clock`: "minute" for pages whose content moves with the time of day (upcoming
    hearings, the next hearing), "day" for pages that change with the date only.
    """
    if clock not in CLOCKS:
        raise ValueError(f"clock must be one of {CLOCKS}")

    def decorate(view: F) -> F:
        @wraps(view)
        def wrapped(*args, **kwargs):
            if request.method not in ("GET", "HEAD"):
                return view(*args, **kwargs)  # a form sent: the view's own answer, never cached
            if not shareable_request():
                return mark_private(make_response(view(*args, **kwargs)))
            now = utcnow()
            # the generation is read before the page's rows: an edit committed in between
            # gives newer rows the older ETag (the next request renders again), never the reverse
            etag = page_etag(read_page_generation(), clock, now)
            if request.if_none_match.contains_weak(etag.strip('"')):  # If-None-Match compares weakly (RFC 9110)
                not_modified = Response(status=304)
                return _mark_public(not_modified, etag)
            with reading_committed(db.session):  # a shared page writes nothing: no transaction (extensions.Session)
                response = make_response(view(*args, **kwargs))
            if response.status_code != 200:
                return response
            return _mark_public(response, etag)

        wrapped.cacheable = clock  # type: ignore[attr-defined]
        return wrapped  # type: ignore[return-value]

    return decorate


def read_page_generation() -> str:
    """The generation, for a page that may be rendered: with it, in the same statement, what
    `current_app.extensions["read_with_generation"]` asks (the app's demo banner question:
    statement, parameters), kept in this request's environ under that key for its reader."""
    companion = current_app.extensions.get(READ_WITH_GENERATION)
    if companion is None:
        return read_generation(db.engine)
    generation, value = read_generation_with(db.engine, *companion)
    request.environ[READ_WITH_GENERATION] = value
    return generation


READ_WITH_GENERATION = "read_with_generation"


def private_page(view: F) -> F:
    """A public route whose page is one visitor's own (what they just signed up for)."""

    @wraps(view)
    def wrapped(*args, **kwargs):
        return mark_private(make_response(view(*args, **kwargs)))

    wrapped.cacheable = None  # type: ignore[attr-defined]
    return wrapped  # type: ignore[return-value]


# --- the guard ----------------------------------------------------------------------


def guard(response: Response) -> Response:
    """The last word on a response: public only if it sets no cookie and nobody is logged in."""
    cache_control = response.headers.get("Cache-Control", "")
    if "public" not in cache_control:
        return response
    if response.headers.getlist("Set-Cookie") or current_user.is_authenticated:
        log.error("a response marked public set a cookie or was rendered for a user: %s made private",
                  request.endpoint)
        mark_private(response)
    return response


class GuardedSessions(SessionInterface):
    """The app's session interface, with `guard` run after the session cookie is written.

    Flask writes the session cookie after every `after_request` function, so this is the
    one place that sees every cookie a response will carry.
    """

    def __init__(self, inner: SessionInterface) -> None:
        self.inner = inner

    def open_session(self, app: Flask, request) -> SessionMixin | None:  # noqa: ANN001
        """Flask's own answer; without a session cookie (every visitor's first page, most
        pages of a shared cache's), the empty session it would make, without first building
        the cookie's signing serializer (~25 µs: a key derivation's objects, on every page)."""
        inner = self.inner
        if (type(inner) is SecureCookieSessionInterface and app.secret_key
                and not request.cookies.get(inner.get_cookie_name(app))):
            return inner.session_class()
        return inner.open_session(app, request)

    def make_null_session(self, app: Flask):  # noqa: ANN201
        return self.inner.make_null_session(app)

    def is_null_session(self, obj: object) -> bool:
        return self.inner.is_null_session(obj)

    def save_session(self, app: Flask, session: SessionMixin, response: Response) -> None:
        if session and "_user_id" not in session and not visitor_keys(session):
            # a visitor whose flash was shown keeps nobody's data: the cookie goes, and their
            # next page can be the shared one again (Flask-Login's `_fresh` would keep it alive)
            session.clear()
        self.inner.save_session(app, session, response)
        guard(response)

    def __getattr__(self, name: str):  # noqa: ANN204
        return getattr(self.inner, name)


class PageRevalidation:
    """WSGI middleware: a conditional GET of a shared page whose ETag still holds is answered
    304 here, before Flask builds a request, opens a session or loads a user.

    That is most of what a revalidation costs (nginx sends one per page, language and
    `PAGE_MAX_AGE`; browsers one per reload). It decides only what it can decide from the
    raw request: a GET or HEAD with an `If-None-Match` of ours, no session or "stay logged
    in" cookie, a route declared `cacheable_page`. The ETag is computed by the same function
    as the view's (`etag_of`), from the generation read on the worker's own connection.
    Anything else, or any doubt, goes to the app, whose wrapper answers 304 the same way.
    """

    def __init__(self, app: Flask, wsgi_app: Callable) -> None:
        self.app = app
        self.wsgi_app = wsgi_app
        self.engine: sa.Engine | None = None

    def __call__(self, environ: dict, start_response: Callable):  # noqa: ANN204
        if (environ.get("REQUEST_METHOD") in ("GET", "HEAD") and '"p-' in environ.get("HTTP_IF_NONE_MATCH", "")
                and self.app.config["PAGE_REVALIDATION_MIDDLEWARE"]):
            headers = self.not_modified(environ)
            if headers is not None:
                start_response("304 NOT MODIFIED", headers)
                return []
        return self.wsgi_app(environ, start_response)

    def not_modified(self, environ: dict) -> list[tuple[str, str]] | None:
        config = self.app.config
        cookies = parse_cookie(environ)
        if config["SESSION_COOKIE_NAME"] in cookies or config.get("REMEMBER_COOKIE_NAME", "remember_token") in cookies:
            return None  # perhaps someone's own page: the app decides
        try:
            endpoint, _args = self.app.url_map.bind_to_environ(environ).match()
        except HTTPException:  # no such page, a redirect, another method
            return None
        clock = getattr(self.app.view_functions.get(endpoint), "cacheable", None)
        if not clock:
            return None
        if self.engine is None:
            with self.app.app_context():
                self.engine = db.engine
        now = utcnow()
        etag = etag_of(endpoint, environ, read_generation(self.engine), page_language(environ, config), clock,
                       now, self.app)
        if not parse_etags(environ.get("HTTP_IF_NONE_MATCH")).contains_weak(etag.strip('"')):
            return None
        return [("ETag", etag), ("Cache-Control", public_cache_control(config)),
                ("Vary", "Accept-Language, Cookie")]


def init_app(app: Flask) -> None:
    install_generation_hooks()
    root = Path(__file__).resolve().parent.parent
    app.extensions["page_release"] = app.config.get("RELEASE") or release_fingerprint(root)
    app.session_interface = GuardedSessions(app.session_interface)
    app.config.setdefault("PAGE_REVALIDATION_MIDDLEWARE", True)
    app.wsgi_app = PageRevalidation(app, app.wsgi_app)  # type: ignore[method-assign]
