"""Opaque, signed cursors for keyset pagination.

A cursor holds the sort key of the last item a page showed (for hearings: start and
id) and which listing it belongs to. It is signed with the app's secret, so a client
cannot forge one that points the query at values it chose, and it is checked again
after unsigning. Keyset pagination (WHERE key > last) stays fast on page 1,000 and
does not skip or repeat rows when records are added between two requests, which
OFFSET would.
"""
from __future__ import annotations

from datetime import datetime

from flask import current_app
from flask_babel import gettext as _
from itsdangerous import BadSignature, URLSafeSerializer

from tracker.api.params import MAX_ID, BadParameter

SALT = "tracker.api.cursor.v1"
MAX_CURSOR_LENGTH = 400
# The Python type of each part of each listing's sort key (the last part is always an id).
KEY_TYPES: dict[str, tuple[type, ...]] = {
    "hearings": (datetime, int),
    "defendants": (str, int),
    "cases": (int,),
    "courts": (int,),
    "actions": (datetime, int),
}


def _serializer() -> URLSafeSerializer:
    return URLSafeSerializer(current_app.config["SECRET_KEY"], salt=SALT)


def encode(listing: str, key: tuple) -> str:
    parts = [value.isoformat() if isinstance(value, datetime) else value for value in key]
    return _serializer().dumps([listing, *parts])


def decode(listing: str, cursor: str) -> tuple:
    """The sort key a cursor carries; BadParameter for anything not made by `encode` for `listing`."""
    invalid = BadParameter(_("'cursor' is not a cursor this listing gave out; start again without it."))
    if len(cursor) > MAX_CURSOR_LENGTH or not cursor.isascii():
        raise invalid
    try:
        payload = _serializer().loads(cursor)
    except (BadSignature, ValueError, UnicodeDecodeError):
        raise invalid from None
    types = KEY_TYPES[listing]
    if not isinstance(payload, list) or len(payload) != len(types) + 1 or payload[0] != listing:
        raise invalid
    key = []
    for value, kind in zip(payload[1:], types):
        if kind is datetime:
            if not isinstance(value, str):
                raise invalid
            try:
                value = datetime.fromisoformat(value)
            except ValueError:
                raise invalid from None
            if value.tzinfo is None:
                raise invalid
        elif kind is int:
            if type(value) is not int or not 0 <= value <= MAX_ID:
                raise invalid
        elif not isinstance(value, kind):
            raise invalid
        key.append(value)
    return tuple(key)
