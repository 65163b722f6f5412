"""Serving feeds: published files with a strong ETag, Last-Modified, 304 and gzip.

Thousands of calendar clients poll every hour, most of them with If-None-Match:
answering those must cost a stat() and a dictionary lookup, no database and no
hashing. Each worker keeps the files it served, keyed by inode, mtime and size;
publishing replaces a file (new inode), so a change is picked up at once.
"""
from __future__ import annotations

import gzip
import os
import threading
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path

import sqlalchemy as sa
from flask import Blueprint, Response, abort, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy.orm import selectinload

from tracker.auth.roles import editor_required, public, token_access
from tracker.extensions import db, utcnow
from tracker.feeds import ical, private
from tracker.feeds.forms import RegenerateTokenForm, RevokeTokenForm
from tracker.feeds.publish import ALARM_DIR, build_feed, content_etag
from tracker.records.logic import public_hearing_clause
from tracker.records.models import Hearing

bp = Blueprint("feeds", __name__, url_prefix="/feeds")

MIMETYPE = "text/calendar; charset=utf-8"


@dataclass
class Served:
    body: bytes
    etag: str
    last_modified: datetime | None = None
    _gzipped: bytes | None = field(default=None, repr=False)

    @property
    def gzipped(self) -> bytes:
        if self._gzipped is None:
            self._gzipped = gzip.compress(self.body, compresslevel=6, mtime=0)
        return self._gzipped

    @classmethod
    def of(cls, body: bytes, last_modified: datetime | None = None) -> Served:
        return cls(body, content_etag(body), last_modified)


_files: dict[str, tuple[tuple, Served]] = {}
_files_lock = threading.Lock()


def published(relative: str) -> Served | None:
    """The published file at FEEDS_DIR/relative, read once per version of the file."""
    full = os.path.join(current_app.config["FEEDS_DIR"], relative)
    try:
        signature = _signature(os.stat(full))
    except FileNotFoundError:
        return None
    cached = _files.get(full)
    if cached is not None and cached[0] == signature:
        return cached[1]
    try:
        with open(full, "rb") as handle:  # read and stat the same file, even if replaced meanwhile
            stat = os.fstat(handle.fileno())
            body = handle.read()
    except FileNotFoundError:
        return None
    served = Served.of(body, datetime.fromtimestamp(int(stat.st_mtime), timezone.utc))
    with _files_lock:
        _files[full] = (_signature(stat), served)
    return served


def _signature(stat: os.stat_result) -> tuple:
    return (stat.st_ino, stat.st_mtime_ns, stat.st_size)


def _wants_gzip() -> bool:
    return request.accept_encodings["gzip"] > 0


def calendar_response(served: Served, *, filename: str, cache: str, download: bool = False) -> Response:
    """200 or 304 for a calendar body, honouring If-None-Match, then If-Modified-Since."""
    zipped = _wants_gzip()
    etag = served.etag + ("-gz" if zipped else "")
    headers = {
        "ETag": f'"{etag}"',
        "Cache-Control": cache,
        "Vary": "Accept-Encoding",
    }
    if served.last_modified is not None:
        headers["Last-Modified"] = served.last_modified.strftime("%a, %d %b %Y %H:%M:%S GMT")
    not_modified = False
    if request.if_none_match:
        # weak comparison (RFC 9110): the gzip and plain bodies are the same content
        not_modified = request.if_none_match.contains_weak(served.etag) or request.if_none_match.contains_weak(
            served.etag + "-gz"
        )
    elif request.if_modified_since and served.last_modified is not None:
        not_modified = served.last_modified <= request.if_modified_since
    if not_modified:
        return Response(status=304, headers=headers)
    body = served.gzipped if zipped else served.body
    response = Response(body, content_type=MIMETYPE, headers=headers)
    if zipped:
        response.headers["Content-Encoding"] = "gzip"
    disposition = "attachment" if download else "inline"
    response.headers["Content-Disposition"] = f'{disposition}; filename="{filename}"'
    return response


def _public_cache() -> str:
    return f"public, max-age={current_app.config['FEED_CACHE_SECONDS']}"


@bp.get("/all.ics", defaults={"kind": "all", "slug": None, "alarm": False})
@bp.get(f"/{ALARM_DIR}/all.ics", defaults={"kind": "all", "slug": None, "alarm": True})
@bp.get("/cases/<slug>.ics", defaults={"kind": "cases", "alarm": False})
@bp.get(f"/{ALARM_DIR}/cases/<slug>.ics", defaults={"kind": "cases", "alarm": True})
@bp.get("/defendants/<slug>.ics", defaults={"kind": "defendants", "alarm": False})
@bp.get(f"/{ALARM_DIR}/defendants/<slug>.ics", defaults={"kind": "defendants", "alarm": True})
@public
def feed(kind: str, slug: str | None, alarm: bool):
    relative = "all.ics" if kind == "all" else f"{kind}/{slug}.ics"
    if alarm:
        relative = f"{ALARM_DIR}/{relative}"
    served = None
    if slug is None or (not slug.startswith(".") and "/" not in slug):
        served = published(relative)
    if served is None:  # not yet published (or a slug that cannot be a file name)
        body = build_feed(relative, utcnow())
        if body is None:
            abort(404, description=_("There is no such calendar."))
        served = Served.of(body)
    return calendar_response(served, filename=relative.rsplit("/", 1)[-1], cache=_public_cache())


@bp.get("/hearings/<int:hearing_id>.ics")
@public
def hearing(hearing_id: int):
    """"Add to my calendar": one public hearing as a file to open."""
    found = db.session.scalar(
        sa.select(Hearing)
        .where(Hearing.id == hearing_id, public_hearing_clause())
        .options(selectinload(Hearing.defendants), selectinload(Hearing.case))
    )
    if found is None:
        abort(404, description=_("There is no such public hearing."))
    body = ical.hearing_ics(found, current_app.config["BASE_URL"])
    return calendar_response(
        Served.of(body), filename=f"hearing-{found.id}.ics", cache=_public_cache(), download=True
    )


@bp.get("/private/<token>.ics")
@token_access
def private_feed(token: str):
    user = private.user_by_feed_token(db.session, token)
    if user is None:
        abort(404)  # the same answer for a wrong and a revoked token
    body = private.private_feed(db.session, user, utcnow())
    return calendar_response(Served.of(body), filename="private.ics", cache="private, no-cache")


@bp.get("/private")
@editor_required
def private_page():
    return render_template(
        "feeds/private.html",
        url=private.private_feed_url(current_user),
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


def feed_links(scope: tuple | None) -> dict[str, str] | None:
    """The subscribe links of a page: webcal for Apple/Outlook, Google's, and the plain URL."""
    from urllib.parse import quote

    from tracker.feeds.publish import feeds_url

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
    base = feeds_url()
    links = {}
    for prefix, variant in (("", ""), ("alarm_", f"{ALARM_DIR}/")):
        https = f"{base}/{variant}{quote(relative)}"
        links[prefix + "url"] = https
        links[prefix + "webcal"] = "webcal://" + https.split("://", 1)[1]
        # Google fetches subscriptions itself and needs the https address
        google_source = "https://" + https.split("://", 1)[1]
        links[prefix + "google"] = "https://calendar.google.com/calendar/render?cid=" + quote(google_source, safe="")
    return links
