"""Feeds over HTTP: the public feeds (published files, or built on demand), the
"add to my calendar" download, and an editor's private feed and its page.
The caching rules live in serving.py.

Every feed exists in each language: /feeds/all.ics in the site's default language,
/feeds/ru/all.ics in Russian, and so on (`<lang>` matches only the other configured
languages, so /feeds/xx/all.ics is a 404). A path, not a query: nginx or a CDN serves
the published files by path alone.
"""
from __future__ import annotations

import re
from functools import lru_cache
from typing import Callable
from urllib.parse import quote

import sqlalchemy as sa
from babel import Locale
from flask import Blueprint, Flask, Response, abort, current_app, flash, redirect, render_template, request, url_for
from flask_babel import force_locale, get_locale
from flask_babel import gettext as _
from flask_login import current_user
from markupsafe import Markup
from sqlalchemy.orm import selectinload
from werkzeug.routing import BaseConverter

from tracker.access import editor_required, public, token_access
from tracker.extensions import db, utcnow
from tracker.feeds import private
from tracker.feeds.calendars import hearing_ics
from tracker.feeds.files import ALARM_DIR
from tracker.feeds.forms import RegenerateTokenForm, RevokeTokenForm
from tracker.feeds.publish import build_feed
from tracker.feeds.snapshot import feed_languages, feeds_url
from tracker.feeds.serving import MIMETYPE, Served, public_cache_control, published, wants_gzip
from tracker.records.display import Display, id_url_parts
from tracker.records.queries import public_hearing_clause
from tracker.records.models import Hearing

bp = Blueprint("feeds", __name__, url_prefix="/feeds")


class FeedLanguageConverter(BaseConverter):
    """`<feedlang:lang>`: one of the configured languages other than the default (whose feeds
    have no language in their path); anything else does not match, so it is a 404."""

    def __init__(self, url_map, *args, **kwargs) -> None:  # noqa: ANN001
        super().__init__(url_map, *args, **kwargs)
        self.regex = "|".join(re.escape(lang) for lang in url_map.feed_languages) or "(?!)"


def register_converter(app: Flask) -> None:
    """Before the blueprint: its rules use the converter, which reads the app's languages."""
    default = app.config["BABEL_DEFAULT_LOCALE"]
    app.url_map.feed_languages = [lang for lang in app.config.get("LANGUAGES", ()) if lang != default]
    app.url_map.converters["feedlang"] = FeedLanguageConverter


def _language_prefix(lang: str | None) -> str:
    return f"{lang}/" if lang else ""


def calendar_response(served: Served, *, filename: str, download: bool = False) -> Response:
    """200 or 304 for a calendar body, honouring If-None-Match, then If-Modified-Since."""
    zipped = wants_gzip(request.headers.get("Accept-Encoding"))
    headers = served.headers(zipped)
    if served.not_modified(request.headers.get("If-None-Match"), request.headers.get("If-Modified-Since")):
        return Response(status=304, headers=headers)
    response = Response(served.gzipped if zipped else served.body, content_type=MIMETYPE, headers=headers)
    if zipped:
        response.headers["Content-Encoding"] = "gzip"
    disposition = "attachment" if download else "inline"
    response.headers["Content-Disposition"] = f'{disposition}; filename="{filename}"'
    return response


def _public_cache() -> str:
    return public_cache_control(current_app.config)


@bp.get("/all.ics", defaults={"kind": "all", "slug": None, "alarm": False, "lang": None})
@bp.get(f"/{ALARM_DIR}/all.ics", defaults={"kind": "all", "slug": None, "alarm": True, "lang": None})
@bp.get("/cases/<slug>.ics", defaults={"kind": "cases", "alarm": False, "lang": None})
@bp.get(f"/{ALARM_DIR}/cases/<slug>.ics", defaults={"kind": "cases", "alarm": True, "lang": None})
@bp.get("/defendants/<slug>.ics", defaults={"kind": "defendants", "alarm": False, "lang": None})
@bp.get(f"/{ALARM_DIR}/defendants/<slug>.ics", defaults={"kind": "defendants", "alarm": True, "lang": None})
@bp.get("/<feedlang:lang>/all.ics", defaults={"kind": "all", "slug": None, "alarm": False})
@bp.get(f"/<feedlang:lang>/{ALARM_DIR}/all.ics", defaults={"kind": "all", "slug": None, "alarm": True})
@bp.get("/<feedlang:lang>/cases/<slug>.ics", defaults={"kind": "cases", "alarm": False})
@bp.get(f"/<feedlang:lang>/{ALARM_DIR}/cases/<slug>.ics", defaults={"kind": "cases", "alarm": True})
@bp.get("/<feedlang:lang>/defendants/<slug>.ics", defaults={"kind": "defendants", "alarm": False})
@bp.get(f"/<feedlang:lang>/{ALARM_DIR}/defendants/<slug>.ics", defaults={"kind": "defendants", "alarm": True})
@public
def feed(kind: str, slug: str | None, alarm: bool, lang: str | None):
    relative = "all.ics" if kind == "all" else f"{kind}/{slug}.ics"
    if alarm:
        relative = f"{ALARM_DIR}/{relative}"
    relative = _language_prefix(lang) + relative
    served = None
    if slug is None or not slug.startswith("."):
        served = published(current_app.config["FEEDS_DIR"], relative, _public_cache())
    if served is None:  # not yet published (or a slug that cannot be a file name)
        body = build_feed(relative, utcnow())
        if body is None:
            abort(404, description=_("There is no such calendar."))
        served = Served.of(body, cache_control=_public_cache())
    return calendar_response(served, filename=relative.rsplit("/", 1)[-1])


@bp.get("/hearings/<int:hearing_id>.ics", defaults={"lang": None})
@bp.get("/<feedlang:lang>/hearings/<int:hearing_id>.ics")
@public
def hearing(hearing_id: int, lang: str | None):
    """"Add to my calendar": one public hearing as a file to open, in the language of its
    address (pages link to the reader's: a shared cache keeps one copy per address)."""
    found = db.session.scalar(
        sa.select(Hearing)
        .where(Hearing.id == hearing_id, public_hearing_clause())
        .options(selectinload(Hearing.defendants), selectinload(Hearing.case))
    )
    if found is None:
        abort(404, description=_("There is no such public hearing."))
    with force_locale(lang or current_app.config["BABEL_DEFAULT_LOCALE"]):
        body = hearing_ics(found, current_app.config["BASE_URL"])
    return calendar_response(
        Served.of(body, cache_control=_public_cache()), filename=f"hearing-{found.id}.ics", download=True
    )


@bp.get("/private/<token>.ics", defaults={"lang": None})
@bp.get("/<feedlang:lang>/private/<token>.ics")
@token_access
def private_feed(token: str, lang: str | None):
    user = private.user_by_feed_token(db.session, token)
    if user is None:
        abort(404)  # the same answer for a wrong and a revoked token
    body = private.private_feed(db.session, user, utcnow(), lang)
    return calendar_response(Served.of(body, cache_control="private, no-cache"), filename="private.ics")


@bp.get("/private")
@editor_required
def private_page():
    return render_template(
        "feeds/private.html",
        url=private.private_feed_url(current_user, reader_language()),
        regenerate_form=RegenerateTokenForm(),
        revoke_form=RevokeTokenForm(),
    )


@bp.post("/private/regenerate")
@editor_required
def regenerate_token():
    if RegenerateTokenForm().validate_on_submit():
        private.regenerate_feed_token(current_user)
        db.session.commit()
        flash(_("Your private calendar has a new address. The old one no longer works."), "success")
    return redirect(url_for("feeds.private_page"))


@bp.post("/private/revoke")
@editor_required
def revoke_token():
    if RevokeTokenForm().validate_on_submit():
        private.revoke_feed_token(current_user)
        db.session.commit()
        flash(_("Your private calendar address no longer works."), "success")
    return redirect(url_for("feeds.private_page"))


def reader_language() -> str | None:
    """The reader's language when its feeds have a folder of their own (None: the default's)."""
    try:
        locale = str(get_locale() or "")
    except Exception:  # no request (a test rendering a template): the default language
        return None
    languages = feed_languages()
    if locale not in languages:
        locale = locale.replace("-", "_").split("_")[0]
    return locale if locale in languages[1:] else None


def hearing_calendar_links(lines: list, show: Display) -> Callable[[object], str]:
    """"Add to my calendar" on each active hearing of a public list (records.display), its
    link in the reader's language, the link built once for the list."""
    head, tail = id_url_parts("feeds.hearing", "hearing_id", lang=reader_language())
    # the line's paragraph around its id, written once for the list (no call a line for the link)
    before, middle = f'<p class="add-to-calendar"><a href="{head}', f'{tail}" download="hearing-'
    text = Markup(_("Add to my calendar"))  # outside the f-string: Babel extracts no call inside one
    after = f'.ics">{text}</a></p>'

    def line_html(line) -> str:  # noqa: ANN001
        if not line.is_active:
            return ""
        return f"{before}{line.id}{middle}{line.id}{after}"

    return line_html


def _links(base: str, language: str, relative: str) -> dict[str, str]:
    """`language`: the language's folder ("ru/") or "" for the default language."""
    links = {}
    for prefix, variant in (("", ""), ("alarm_", f"{ALARM_DIR}/")):
        https = f"{base}/{language}{variant}{quote(relative)}"
        links[prefix + "url"] = https
        links[prefix + "webcal"] = "webcal://" + https.split("://", 1)[1]
        # Google fetches subscriptions itself and needs the https address
        google_source = "https://" + https.split("://", 1)[1]
        links[prefix + "google"] = "https://calendar.google.com/calendar/render?cid=" + quote(google_source, safe="")
    return links


def feed_links(scope: tuple | None) -> dict | None:
    """The subscribe links of a page, in the reader's language: webcal for Apple/Outlook,
    Google's, and the plain URL; `others` offers the same feed in the other languages (the
    same events, with the same UIDs: switching never shows a hearing twice)."""
    if not scope:
        return None
    kind, thing = scope
    if kind == "all":
        relative = "all.ics"
    elif kind == "case":
        relative = f"cases/{thing.slug}.ics"
    elif kind == "defendant":
        relative = f"defendants/{thing.slug}.ics"
    else:
        return None
    return dict(_feed_links(feeds_url(), reader_language(), feed_languages(), relative))


@lru_cache(maxsize=4096)
def _feed_links(base: str, reader: str | None, languages: tuple[str, ...], relative: str) -> dict:
    """`feed_links` for one feed, language and configuration, made once per process (a page's
    subscribe box: eight quoted addresses and the languages' names, ~0.1 ms on every page
    that has one). Callers get a copy; the `others` list is shared and only read."""
    links = _links(base, _language_prefix(reader), relative)
    mine = reader or languages[0]
    links["language"] = mine
    links["others"] = [
        {"lang": lang, "name": Locale.parse(lang).get_display_name(lang),
         "webcal": _links(base, _language_prefix(None if lang == languages[0] else lang), relative)["webcal"]}
        for lang in languages if lang != mine
    ]
    return links
