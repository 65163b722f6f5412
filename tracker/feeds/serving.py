"""Serving calendar bodies cheaply: strong ETags, Last-Modified, 304 and gzip.

Thousands of calendar clients poll every hour, nearly all of them revalidating with
If-None-Match. Answering those must cost a stat() and a dictionary lookup: each
worker keeps the files it served, keyed by inode, mtime and size (publishing
replaces a file, so a new version has a new inode), with its ETag, its gzip body
and its response headers computed once.

`RevalidationMiddleware` answers such a revalidation of a published file before
Flask even builds a request; everything else (first fetches, on-demand feeds,
private feeds) goes through the Flask views, which use the same functions.
"""
from __future__ import annotations

import gzip
import hashlib
import os
import re
import threading
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Callable, Iterable

from werkzeug.http import http_date, parse_accept_header, parse_date, parse_etags

MIMETYPE = "text/calendar; charset=utf-8"


def content_etag(content: bytes) -> str:
    return hashlib.blake2b(content, digest_size=16).hexdigest()


@dataclass
class Served:
    """A calendar body with its validators, and its gzip twin made on first demand."""

    body: bytes
    etag: str
    last_modified: datetime | None = None
    cache_control: str = "no-cache"
    _gzipped: bytes | None = field(default=None, repr=False)
    _headers: dict[bool, list[tuple[str, str]]] = field(default_factory=dict, repr=False)

    @classmethod
    def of(cls, body: bytes, last_modified: datetime | None = None, cache_control: str = "no-cache") -> Served:
        return cls(body, content_etag(body), last_modified, cache_control)

    @property
    def gzipped(self) -> bytes:
        if self._gzipped is None:
            self._gzipped = gzip.compress(self.body, compresslevel=6, mtime=0)
        return self._gzipped

    def headers(self, zipped: bool) -> list[tuple[str, str]]:
        """The validators and caching headers, the same on a 200 and a 304."""
        found = self._headers.get(zipped)
        if found is None:
            # the gzip body is another representation: it needs its own strong ETag
            found = [
                ("ETag", f'"{self.etag}-gz"' if zipped else f'"{self.etag}"'),
                ("Cache-Control", self.cache_control),
                ("Vary", "Accept-Encoding"),
            ]
            if self.last_modified is not None:
                found.append(("Last-Modified", http_date(self.last_modified)))
            self._headers[zipped] = found
        return found

    def not_modified(self, if_none_match: str | None, if_modified_since: str | None) -> bool:
        """RFC 9110: If-None-Match (weak comparison, so either representation matches)
        wins over If-Modified-Since."""
        if if_none_match:
            etags = parse_etags(if_none_match)
            return etags.contains_weak(self.etag) or etags.contains_weak(self.etag + "-gz")
        if if_modified_since and self.last_modified is not None:
            since = parse_date(if_modified_since)
            return since is not None and self.last_modified <= since
        return False


def wants_gzip(accept_encoding: str | None) -> bool:
    if not accept_encoding or "gzip" not in accept_encoding:
        return False
    return parse_accept_header(accept_encoding)["gzip"] > 0


_files: dict[str, tuple[tuple, Served]] = {}
_files_lock = threading.Lock()


def published(feeds_dir: str, relative: str, cache_control: str) -> Served | None:
    """The published file FEEDS_DIR/relative, read once per version of the file."""
    full = os.path.join(feeds_dir, relative)
    try:
        stat = os.stat(full)
    except (OSError, ValueError):  # missing, or a name no file can have (too long, NUL): not published
        return None
    cached = _files.get(full)
    if cached is not None and cached[0] == (stat.st_ino, stat.st_mtime_ns, stat.st_size):
        return cached[1]
    try:
        with open(full, "rb") as handle:  # read and stat the same file, even if replaced meanwhile
            stat = os.fstat(handle.fileno())
            body = handle.read()
    except (OSError, ValueError):
        return None
    served = Served.of(body, datetime.fromtimestamp(int(stat.st_mtime), timezone.utc), cache_control)
    with _files_lock:
        _files[full] = ((stat.st_ino, stat.st_mtime_ns, stat.st_size), served)
    return served


# The public feeds that publishing writes, in any language (never private feeds or single
# hearings); a folder that is no language has no files, so a miss goes on to Flask.
PUBLISHED_PATH = re.compile(
    r"^/feeds/((?:[a-z]{2,3}(?:_[A-Za-z]{2,4})?/)?(?:with-alarm/)?(?:all|(?:cases|defendants)/(?!\.)[^/]+)\.ics)$"
)


class RevalidationMiddleware:
    """Answer "has this published feed changed?" with 304 without entering Flask.

    Only conditional GET/HEAD requests for a published public feed whose validators
    match are answered here; any other request, or a miss, goes to the app.
    """

    def __init__(self, wsgi_app: Callable, config: dict) -> None:
        self.wsgi_app = wsgi_app
        self.config = config

    def __call__(self, environ: dict, start_response: Callable) -> Iterable[bytes]:
        if_none_match = environ.get("HTTP_IF_NONE_MATCH")
        if_modified_since = environ.get("HTTP_IF_MODIFIED_SINCE")
        if (if_none_match or if_modified_since) and environ.get("REQUEST_METHOD") in ("GET", "HEAD"):
            match = PUBLISHED_PATH.match(environ.get("PATH_INFO", ""))
            if match:
                served = published(self.config["FEEDS_DIR"], match.group(1), public_cache_control(self.config))
                if served is not None and served.not_modified(if_none_match, if_modified_since):
                    zipped = wants_gzip(environ.get("HTTP_ACCEPT_ENCODING"))
                    start_response("304 NOT MODIFIED", list(served.headers(zipped)))
                    return []
        return self.wsgi_app(environ, start_response)


def public_cache_control(config: dict) -> str:
    return f"public, max-age={config['FEED_CACHE_SECONDS']}"
