"""Links to this site: absolute ones for what is read far from a request, and redirect
targets that must stay on it. Every package may import this module.

Mail (invitations, reminders), calendar feeds and the scheduler have no request to
take a host from, so their links are built on BASE_URL (`external_url`). A redirect
whose target comes from a request ("?next=", a form's hidden field) is checked by
`safe_next`, the one check, so that no link can send someone to another site.
"""
from __future__ import annotations

from functools import lru_cache
from urllib.parse import urljoin, urlsplit

from flask import current_app, request, url_for


def external_url(endpoint: str, *, base_url: str | None = None, **values: object) -> str:
    """An absolute link to `endpoint` on BASE_URL (or `base_url`), built without a request."""
    base = urlsplit(base_url or current_app.config["BASE_URL"])
    adapter = current_app.url_map.bind(
        base.netloc, script_name=base.path or "/", url_scheme=base.scheme or "https"
    )
    return adapter.build(endpoint, values, force_external=True)


def safe_next(target: str | None, host_url: str) -> str | None:
    """`target` when it is a path on this site, otherwise None (no open redirect).

    The one check for every redirect whose target comes from a request. Browsers drop
    tabs and line breaks inside a URL ("/\\t/evil" becomes "//evil", another site) and a
    line break in a Location header is refused outright, so any control or separator
    character anywhere refuses the target, as do backslashes and "//".
    """
    if not target:
        return None
    target = target.strip(" ")
    if not target.isprintable():  # C0/C1 controls, DEL, line/paragraph separators, ...
        return None
    if not target.startswith("/") or target.startswith("//") or "\\" in target:
        return None
    joined = urlsplit(urljoin(host_url, target))
    if joined.netloc != urlsplit(host_url).netloc or joined.scheme not in ("http", "https"):
        return None
    return target


def fixed_link(endpoint: str, **values: str) -> str:
    """`url_for(endpoint, **values)` for the links every page carries (the navigation, the
    stylesheet): the same few strings on every request, so each is built once per app and mount
    point rather than by the URL map every time (~4 µs each, a dozen a page)."""
    return _fixed_link(id(current_app.url_map), request.script_root, endpoint, tuple(sorted(values.items())))


@lru_cache(maxsize=256)
def _fixed_link(_url_map: int, _script_root: str, endpoint: str, values: tuple[tuple[str, str], ...]) -> str:
    return url_for(endpoint, **dict(values))


def slug_link(endpoint: str, slug: str) -> str:
    """`url_for(endpoint, slug=slug)`, remembered: a list of 500 actions links each of their
    defendants and cases, the same few hundred pages again and again (~4 µs each by the map)."""
    return _slug_link(id(current_app.url_map), request.script_root, endpoint, slug)


def slug_link_in(url_map_id: int, script_root: str, endpoint: str, slug: str) -> str:
    """`slug_link` for a caller that took the app's map and the mount point once (a long list)."""
    return _slug_link(url_map_id, script_root, endpoint, slug)


@lru_cache(maxsize=16384)
def _slug_link(_url_map: int, _script_root: str, endpoint: str, slug: str) -> str:
    return url_for(endpoint, slug=slug)
