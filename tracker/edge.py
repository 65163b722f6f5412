"""What the app refuses where input comes in: in URL paths and query strings.

Form bodies are checked by the forms themselves (tracker/forms.py), field by field,
so the message can stand next to the field; this module holds the character rules
both share and the checks that have no form to speak through:

- a control character (NUL, CR, LF, the other C0 and C1 controls, DEL, the Unicode
  line separators) anywhere in the path or the query string is answered with a
  400 and a reason, before any view runs. No slug, token, id or search term has
  one, and PostgreSQL refuses NUL in text outright (a 500 otherwise).
- an integer in a URL (`<int:...>`) is at most what an id column (INTEGER, 32 bits
  on PostgreSQL) holds; a larger one is simply no such page (404), not an overflow.
"""
from __future__ import annotations

import re

from flask import Flask, abort, request
from flask_babel import gettext as _
from werkzeug.routing import IntegerConverter, ValidationError

# Everything that can end a line or a header, or that a database or terminal treats specially.
CONTROL_CHARACTERS = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029]")
# The same, less what a multi-line text may hold: tab and line feed.
CONTROL_CHARACTERS_BUT_LINES = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\u2028\u2029]")
LARGEST_ID = 2**31 - 1  # every id column is INTEGER: 32 bits on PostgreSQL (64 on SQLite)


class BoundedIntConverter(IntegerConverter):
    """`<int:...>` that never hands a view a number no table could hold."""

    def __init__(self, map, fixed_digits: int = 0, min: int | None = None,  # noqa: A002
                 max: int | None = LARGEST_ID, signed: bool = False) -> None:  # noqa: A002
        super().__init__(map, fixed_digits=fixed_digits, min=min, max=max, signed=signed)

    def to_python(self, value: str) -> int:
        """A number no id can have becomes 0, which no record has: the view answers its own
        404 (the API's in JSON, the pages' in HTML), and no query ever overflows."""
        if len(value.lstrip("-")) > len(str(LARGEST_ID)):  # before int(): very long digit strings are slow
            return 0
        try:
            return super().to_python(value)
        except ValidationError:
            return 0


def query_id(name: str) -> int | None:
    """A record id from the query string, or None when it is missing or could not be one."""
    value = request.args.get(name, type=int)
    return value if value is not None and 0 < value <= LARGEST_ID else None


def refuse_control_characters() -> None:
    """400 for a path or query string with a control character in it (a before_request hook)."""
    if CONTROL_CHARACTERS.search(request.path):
        abort(400, description=_("The address contains a control character (such as a line break or NUL)."))
    for key, value in request.args.items(multi=True):
        if CONTROL_CHARACTERS.search(key) or CONTROL_CHARACTERS.search(value):
            abort(400, description=_("The query contains a control character (such as a line break or NUL)."))


def init_app(app: Flask) -> None:
    """Call before the features register their routes: rules bind their converters when added."""
    app.url_map.converters["int"] = BoundedIntConverter
    app.before_request(refuse_control_characters)
