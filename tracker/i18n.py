"""Which language a page is in, and the switch that lets a reader choose it.

The order, first match wins (docs/development.md, "How the language is chosen"):

1. `?lang=ru` in the URL: one page in that language (a link someone shared), nothing kept;
2. the reader's explicit choice, kept in the `lang` cookie by the switch at the foot of
   every page (`/language?to=ru&next=/hearings`): a plain link, so it works without
   JavaScript and without a session or an account;
3. the browser's `Accept-Language`;
4. `BABEL_DEFAULT_LOCALE`.

Only languages listed in `LANGUAGES` are ever chosen, so a third language is a catalogue
and one entry there. `current_language()` is the one function that decides; Flask-Babel's
locale selector, `<html lang>`, `Content-Language` and anything that caches pages by
language (ETags) call it. The switch is the only place that sets the cookie: every other
response leaves cookies alone, so anonymous public pages stay cacheable. A response
whose language came from the cookie or `Accept-Language` says so in `Vary`.
"""
from __future__ import annotations

import re
from functools import lru_cache
from urllib.parse import urlencode

from babel import Locale
from babel.support import NullTranslations
from flask import Blueprint, Flask, Response, abort, current_app, has_request_context, redirect, request, url_for
from flask.globals import _cv_app
import flask_babel
from flask_babel import get_translations
from flask_babel.speaklater import LazyString
from flask_babel import gettext as _
from jinja2 import pass_context
from jinja2.runtime import Context
from markupsafe import Markup
from werkzeug.datastructures import LanguageAccept

from tracker.access import public
from tracker.links import safe_next

LANGUAGE_COOKIE = "lang"
LANGUAGE_ARG = "lang"
COOKIE_MAX_AGE = 400 * 24 * 3600  # the longest browsers keep a cookie (RFC 6265bis)

bp = Blueprint("i18n", __name__)


def languages() -> list[str]:
    """The languages the site speaks, from `LANGUAGES` (the default one first if unlisted)."""
    listed = list(current_app.config["LANGUAGES"])
    default = default_language()
    return listed if default in listed else [default, *listed]


def default_language() -> str:
    return current_app.config.get("BABEL_DEFAULT_LOCALE") or "en"


def _known(value: str | None) -> str | None:
    """`value` if it is one of LANGUAGES (case and region ignored: "RU", "ru-RU"), else None."""
    return _known_in(value, languages())


def _known_in(value: str | None, listed: list[str]) -> str | None:
    if not value or len(value) > 16:
        return None
    code = value.strip().replace("_", "-").split("-")[0].lower()
    return code if code in listed else None


def current_language() -> str:
    """The language of this request's response, by the order in the module's docstring.

    Outside a request (the scheduler, the CLI) it is the default language; mail and
    feeds that have a reader's language of their own pass it explicitly.
    """
    if not has_request_context():
        return default_language()
    chosen = getattr(request, "_tracker_language", None)  # on the request: an app context may hold several
    if chosen is None:
        chosen, source = _choose()
        request._tracker_language, request._tracker_language_source = chosen, source
    return chosen


def language_source() -> str | None:
    """What decided this request's language: "query", "cookie", "header", "default", or None
    when nothing asked for it (a feed, a JSON answer)."""
    return getattr(request, "_tracker_language_source", None) if has_request_context() else None


def _choose() -> tuple[str, str]:
    cookie = None if _header_only() else request.cookies.get(LANGUAGE_COOKIE)
    return choose_language(request.args.get(LANGUAGE_ARG), cookie, request.accept_languages, languages(),
                           default_language())


# Data for other sites (the JSON API, the public CSV) is read by programs and other sites'
# pages: the language comes from `?lang=` or Accept-Language only, never from a reader's
# cookie, so their answers vary on Accept-Language alone and caches share them.
HEADER_ONLY_BLUEPRINTS = frozenset({"api", "export"})


def _header_only() -> bool:
    return request.blueprint in HEADER_ONLY_BLUEPRINTS


def choose_language(from_query: str | None, from_cookie: str | None, accept: LanguageAccept,
                    listed: list[str], default: str) -> tuple[str, str]:
    """The order of the module's docstring on the raw parts of a request, with no Flask request:
    the pages' revalidation middleware (tracker/caching.py) names a page's language before
    Flask runs, and must agree with the page."""
    for value, source in ((from_query, "query"), (from_cookie, "cookie")):
        known = _known_in(value, listed)
        if known:
            return known, source
    from_header = accept.best_match(listed)
    if from_header:
        return from_header, "header"
    return default, "default"


@lru_cache(maxsize=64)
def language_name(code: str) -> str:
    """A language's name in itself ("Русский", "English"): what a reader of it looks for."""
    try:
        name = Locale.parse(code).get_display_name(code) or code
    except (ValueError, LookupError):
        return code
    return name[:1].upper() + name[1:]


def switch_links() -> list[dict[str, str]]:
    """The language switch: one link per language, the current one marked."""
    here = current_language()
    target = _here_without_lang()
    root = request.script_root
    return [
        {"code": code, "name": language_name(code), "current": code == here,
         "url": _switch_url(id(current_app.url_map), root, code, target)}
        for code in languages()
    ]


@lru_cache(maxsize=1024)
def _switch_url(_url_map: int, _script_root: str, code: str, target: str) -> str:
    """`url_for` of the switch, remembered: every page asks for the same few (~12 µs each).
    The key holds all the relative link depends on (the app's rules, the mount point)."""
    return url_for("i18n.switch", to=code, next=target)


def _here_without_lang() -> str:
    """This page's path and query, less any `lang=`: where the switch sends the reader back."""
    if getattr(request, "_tracker_error_page", False):
        # an error page does not echo the address it refused (a hidden defendant's slug, a
        # token): its switch goes home
        return url_for("records.index")
    args = [(k, v) for k, v in request.args.items(multi=True) if k != LANGUAGE_ARG]
    if request.method != "GET":  # a form sent back with errors: its page, not its POST
        args = []
    if not args:
        return request.path
    return f"{request.path}?{urlencode(args)}"


@bp.route("/language")
@public
def switch() -> Response:
    """Keep the reader's choice in a cookie and go back to the page they were on.

    A GET, so the switch is a plain link that works without JavaScript; it changes no
    row, only the reader's own cookie, which is what the link is for. `next` goes through
    `safe_next`, so the switch cannot send anyone to another site.
    """
    code = _known(request.args.get("to"))
    if code is None:
        abort(400, description=_("Unknown language: choose one of %(languages)s.",
                                  languages=", ".join(languages())))
    target = safe_next(request.args.get("next"), request.host_url) or url_for("records.index")
    response = redirect(target, code=303)
    response.set_cookie(LANGUAGE_COOKIE, code, max_age=COOKIE_MAX_AGE, path="/", samesite="Lax",
                        httponly=True, secure=request.is_secure)
    response.headers["Cache-Control"] = "no-store"
    return response


def _language_headers(response: Response) -> Response:
    """`Content-Language` on what was written in a language, and `Vary` on what chose it."""
    source = language_source()
    if source is None or request.endpoint == "i18n.switch":
        return response
    if response.mimetype in ("text/html", "text/plain"):
        response.headers.setdefault("Content-Language", current_language())
    if source != "query":  # ?lang= alone decides: nothing else the same URL could vary on
        if _header_only():
            vary_on(response, "Accept-Language")
        else:
            vary_on(response, "Accept-Language", "Cookie")
    return response


def vary_on(response: Response, *names: str) -> None:
    """`response.vary.add(name)` for each of `names`, the same header written (the names kept
    in order, none twice, case aside), without werkzeug's parse and re-serialisation of the
    header on every `add` (a page adds four: here, and the cache's validator)."""
    headers = response.headers
    current = headers.get("Vary")
    if current is None:
        headers["Vary"] = ", ".join(dict.fromkeys(names))
        return
    if '"' in current:  # a quoted value (never ours): werkzeug's own parser
        for name in names:
            response.vary.add(name)
        return
    listed = [part.strip() for part in current.split(",") if part.strip()]
    known = {part.lower() for part in listed}
    missing = [name for name in names if name.lower() not in known]
    if missing:
        headers["Vary"] = ", ".join([*listed, *dict.fromkeys(missing)])


# --- translated strings in templates ---------------------------------------------------
#
# A page's template asks for 20-60 translated strings. Flask-Babel's own template gettext
# finds the catalogue anew for each: three context-local lookups, the locale turned into its
# name, a dictionary read (~10 µs a string, a quarter of an empty page's rendering). These
# find it once per request and locale, and do what Jinja's "newstyle" gettext does with the
# result (Markup when autoescaping, then `%` with the named values), in one call rather than
# Jinja's two. `force_locale` (mail in its reader's language) changes the locale object, so
# the catalogue is looked up again, exactly as Flask-Babel would.


def catalogue() -> NullTranslations:
    """The translations Flask-Babel's `get_translations()` would return now, remembered for the
    app context as long as its locale is the same object."""
    app_ctx = _cv_app.get(None)
    if app_ctx is None:
        return get_translations()
    state = app_ctx.g.__dict__.get("_flask_babel")
    if state is not None:
        remembered = state.__dict__.get("tracker_catalogue")
        if remembered is not None and remembered[0] is state.__dict__.get("babel_locale"):
            return remembered[1]
    translations = get_translations()  # sets babel_locale (and makes the state) if not yet there
    state = app_ctx.g.__dict__.get("_flask_babel")
    if state is not None:
        state.tracker_catalogue = (state.__dict__.get("babel_locale"), translations)
    return translations


def lazy_text(text: object) -> str:
    """`str(text)` for a `lazy_gettext` constant without values (an enum's label), through
    `catalogue()`: Flask-Babel's own path looks the catalogue up through its context locals
    each time (~10 µs), and a list page asks for a label per row."""
    if type(text) is LazyString and text._func is flask_babel.gettext and not text._kwargs \
            and len(text._args) == 1:  # noqa: SLF001
        return catalogue().ugettext(text._args[0])  # noqa: SLF001
    return str(text)


def plain_gettext(string: str, **variables: object) -> str:
    """Flask-Babel's `gettext` (the same text, `%` with the values), through `catalogue()`: for
    Python that words a page's rows (a defendant's timeline), where Flask-Babel's three context
    lookups a call cost more than the rest of the row."""
    text = catalogue().ugettext(string)
    return text % variables if variables else text


_CLOSING_TAGS = re.compile(r"(?:</[a-z]+>)+$")


def one_period(text: str) -> str:
    """A sentence whose last value ends in an abbreviation ends there. CLDR's Russian dates do
    ("до 6 янв. 2027 г."), as does an address someone typed ("ул."): a msgid ending in
    "%(day)s." would read "г.." otherwise. An ellipsis stays."""
    if text.endswith("..") and not text.endswith("..."):
        return text[:-1]
    return text


def end_sentence(html: str, mark: str = ".") -> str:
    """`html` followed by `mark`, except a period after text that already ends in one (before
    any closing tags: "…2027 г.</span>" takes no second period either)."""
    if mark == "." and _CLOSING_TAGS.sub("", html).endswith("."):
        return html
    return f"{html}{mark}"


@pass_context
def template_gettext(context: Context, string: str, **variables: object) -> str:
    """`_()` and `gettext()` in templates: Jinja's newstyle gettext on `catalogue()`."""
    text = catalogue().ugettext(string)
    if context.eval_ctx.autoescape:
        text = Markup(text)
    return one_period(text % variables)  # always a format string ("%%" is "%"), as Jinja's newstyle gettext


@pass_context
def template_ngettext(context: Context, singular: str, plural: str, num: int, **variables: object) -> str:
    """`ngettext()` in templates: as Jinja's newstyle ngettext, `num` among the values."""
    variables.setdefault("num", num)
    text = catalogue().ungettext(singular, plural, num)
    if context.eval_ctx.autoescape:
        text = Markup(text)
    return one_period(text % variables)


def init_app(app: Flask) -> None:
    app.register_blueprint(bp)
    app.after_request(_language_headers)
    app.jinja_env.globals.update(current_language=current_language, language_switch=switch_links)
    # after Flask-Babel's install_gettext_callables (babel.init_app): the same names, faster
    app.jinja_env.globals.update(_=template_gettext, gettext=template_gettext, ngettext=template_ngettext)
