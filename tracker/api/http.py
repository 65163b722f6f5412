"""HTTP care shared by the API and the public export: validators, caching, CORS.

Other sites read these answers from their visitors' browsers and poll them from
scripts, so each answer carries a strong ETag (a hash of the very bytes sent),
answers a matching If-None-Match with 304, may be cached publicly for a while, and
may be read from any origin. Nothing here touches the session: an answer that set
a cookie or varied on one could not be shared by caches.
"""
from __future__ import annotations

import hashlib
import json
from typing import Any

from flask import Flask, Response, current_app, request
from flask.sessions import SessionInterface, SessionMixin

# Labels follow the reader's Accept-Language, so caches must keep one copy per language.
VARY = "Accept-Language"
# Headers a cross-origin script may read besides the CORS-safelisted ones.
EXPOSED = "ETag, Link"


def body_etag(body: bytes) -> str:
    return '"' + hashlib.blake2b(body, digest_size=16).hexdigest() + '"'


def cacheable(body: bytes, mimetype: str, max_age: int, headers: dict[str, str] | None = None) -> Response:
    """A 200 with validators, or a 304 when the client already holds these bytes."""
    etag = body_etag(body)
    common = {"ETag": etag, "Cache-Control": f"public, max-age={max_age}", "Vary": VARY}
    # RFC 9110: If-None-Match uses the weak comparison; "*" matches any current representation.
    if request.if_none_match and request.if_none_match.contains_weak(etag.strip('"')):
        return Response(status=304, headers=common)
    response = Response(body, mimetype=mimetype, headers={**common, **(headers or {})})
    return response


def json_body(data: Any) -> bytes:
    """Compact UTF-8 JSON, keys in the order the serialisers wrote them (so ETags are stable)."""
    return json.dumps(data, ensure_ascii=False, separators=(",", ":")).encode("utf-8")


def json_answer(data: Any, headers: dict[str, str] | None = None) -> Response:
    return cacheable(json_body(data), "application/json", current_app.config["API_CACHE_SECONDS"], headers)


def json_error(status: int, message: str) -> Response:
    """Errors are JSON too, never cached for long, and readable cross-origin."""
    response = Response(json_body({"error": {"status": status, "message": message}}), status=status,
                        mimetype="application/json")
    response.headers["Cache-Control"] = "no-store" if status >= 500 else "public, max-age=60"
    response.headers["Vary"] = VARY
    return response


def allow_cross_origin(response: Response) -> Response:
    """CORS for reading only: any origin, GET and HEAD, never credentials (there are none to send)."""
    response.headers["Access-Control-Allow-Origin"] = "*"
    response.headers["Access-Control-Expose-Headers"] = EXPOSED
    if request.method == "OPTIONS":  # a preflight, e.g. for a fetch() sending If-None-Match
        response.headers["Access-Control-Allow-Methods"] = "GET, HEAD, OPTIONS"
        response.headers["Access-Control-Allow-Headers"] = "If-None-Match, Accept-Language"
        response.headers["Access-Control-Max-Age"] = "86400"
    return response


class SessionlessPaths(SessionInterface):
    """No session at all under some path prefixes; the app's own session interface elsewhere.

    Flask-Login looks into the session after every request, and Flask answers any look
    with `Vary: Cookie`, which would make every cache keep one copy per visitor. Here
    those requests get Flask's null session: nothing is read from the cookie, nothing is
    saved, no cookie is set and nothing varies on one.
    """

    def __init__(self, inner: SessionInterface, prefixes: tuple[str, ...]) -> None:
        self.inner = inner
        self.prefixes = prefixes

    def open_session(self, app: Flask, request) -> SessionMixin | None:  # noqa: ANN001
        if request.path.startswith(self.prefixes):
            return None  # Flask then uses make_null_session()
        return self.inner.open_session(app, request)

    def make_null_session(self, app: Flask):  # noqa: ANN201
        return self.inner.make_null_session(app)

    def is_null_session(self, obj: object) -> bool:
        return self.inner.is_null_session(obj)

    def save_session(self, app: Flask, session: SessionMixin, response: Response) -> None:
        self.inner.save_session(app, session, response)

    def __getattr__(self, name: str):  # noqa: ANN204
        return getattr(self.inner, name)
