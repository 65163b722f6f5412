"""What a public page needs to turn its rows into text, worked out once per request.

A list page shows hundreds of rows that repeat the same few phrases, days, courts and
links. Asking gettext, Babel, `url_for` and `both_scripts` again for each row (through a
macro or an include per row) cost 5 to 40 times the page's SQL (docs/rendering.md). A
`Display` is made once per request (`display()`), and:

- resolves each translated phrase once (`phrase`, `markup`);
- formats each distinct (instant, zone) and each distinct day once (`moment`, `day`);
- builds a kind of link once with `url_for` and then only substitutes the key (`url_maker`);
- knows once whether the reader reads the originals' script first (`names`).

Features that add something to each hearing line (the calendar link, "I'll be there", the
editors' tools) register a factory (`add_hearing_extra`): it is called once per list with
every line, may read what it needs for all of them in one query, and returns the per-line
HTML maker. The records never import those features.
"""
from __future__ import annotations

import re
from datetime import date, datetime
from typing import Any, Callable
from urllib.parse import quote

import sqlalchemy as sa
from flask import Flask, current_app, g, url_for
from flask_babel import get_locale, get_translations
from flask_login import current_user
from markupsafe import Markup, escape

from tracker import formats
from tracker.extensions import db
from tracker.i18n import lazy_text, one_period
from tracker.records.models import Hearing
from tracker.records.names import both_scripts, first_script, in_script, reader_reads_original

_SENTINEL_INT = 918273645
_SENTINEL_STR = "x918273645x"
EXTRAS_KEY = "records.hearing_extras"
_UNQUOTED = re.compile(r"[A-Za-z0-9_.~-]*")  # the characters quote(…, safe="-_.~") keeps

# (lines, display) -> a maker of one line's HTML, or None when it adds nothing on this page
ExtraFactory = Callable[[list[Any], "Display"], Callable[[Any], str] | None]


def add_hearing_extra(app: Flask, order: int, factory: ExtraFactory) -> None:
    """Register something shown at the end of every hearing line, after the records' own
    fields; `order` places it among the others (10: calendar, 20: attendance, 30: editors)."""
    extras: list[tuple[int, ExtraFactory]] = app.extensions.setdefault(EXTRAS_KEY, [])
    extras.append((order, factory))
    extras.sort(key=lambda pair: pair[0])


def url_maker(endpoint: str, key: str, **values: Any) -> Callable[[Any], str]:
    """`url_for(endpoint, key=value, **values)` as a function of `value`: the URL is built once
    with a stand-in and the value put in its place, so a page of 300 links calls `url_for` once.
    Works for the int and default (slug) converters, the only ones public lists link with."""
    try:
        head, _, tail = url_for(endpoint, **{key: _SENTINEL_STR}, **values).partition(_SENTINEL_STR)
    except Exception:  # noqa: BLE001 - an int converter: the value is a number, nothing to quote
        head, tail = id_url_parts(endpoint, key, **values)

        def make_number(value: Any) -> str:
            return f"{head}{int(value)}{tail}"

        return make_number

    def make(value: Any) -> str:
        value = str(value)
        if _UNQUOTED.fullmatch(value):  # a slug: what quote() would leave as it is (~3 µs saved a link)
            return f"{head}{value}{tail}"
        return f"{head}{quote(value, safe='-_.~')}{tail}"

    return make


def id_url_parts(endpoint: str, key: str, **values: Any) -> tuple[str, str]:
    """What comes before and after the number in `url_for(endpoint, key=number, **values)`, for
    a route whose `key` is an int: a list that writes 300 links (a hearing's calendar file, "I'll
    be there") puts `head`, the id and `tail` into the line's one f-string, with no call a line."""
    head, _, tail = url_for(endpoint, **{key: _SENTINEL_INT}, **values).partition(str(_SENTINEL_INT))
    return head, tail


class Display:
    """One request's phrases, formats and link makers (see the module's docstring)."""

    def __init__(self) -> None:
        locale = get_locale()
        self.language = str(locale) if locale is not None else formats.language()
        self.reads_original = reader_reads_original()
        self._phrases: dict[Any, Any] = {}
        self._moments: dict[tuple[datetime, str], tuple[Markup, str]] = {}
        self._days: dict[tuple[date, str], str] = {}
        self._urls: dict[tuple, Callable[[Any], str]] = {}
        self._names: dict[tuple, Markup] = {}
        self._editable: dict[frozenset[int], set[int]] = {}

    # --- words ------------------------------------------------------------------------------

    def phrase(self, text: Any) -> str:
        """A phrase in the reader's language, asked once per request. `text` is a module-level
        `lazy_gettext` constant (so that `make messages` extracts it), or a str already translated."""
        if isinstance(text, str):
            return text
        key = id(text)
        found = self._phrases.get(key)
        if found is None:
            found = self._phrases[key] = lazy_text(text)  # through the request's catalogue
        return found

    def once(self, key: tuple, make: Callable[[], Any]) -> Any:
        """`make()`, remembered for this request under `key` (a tuple naming its kind first):
        for what other modules build per distinct value (a freshness sentence, a date)."""
        found = self._phrases.get(key)
        if found is None:
            found = self._phrases[key] = make()
        return found

    def markup(self, text: Any, **variables: Any) -> Markup:
        """A phrase with its variables escaped into it, as Jinja's `_("…", name=value)` gives it."""
        return one_period(Markup(self.phrase(text)) % variables)

    def ngettext(self, singular: str, plural: str, num: int) -> Markup:
        """Jinja's `ngettext()` in a template (`Markup(translation) % {"num": num}`), once per
        phrase and number. Named so that `make messages` extracts its calls' literals."""
        key = ("n", singular, num)
        found = self._phrases.get(key)
        if found is None:
            found = self._phrases[key] = Markup(get_translations().ungettext(singular, plural, num)) % {"num": num}
        return found

    # --- days and moments -------------------------------------------------------------------

    def moment(self, starts_at: datetime, zone: str) -> tuple[Markup, str]:
        """(text, datetime attribute) of an instant in a court's zone, once per distinct pair;
        the text escaped once here rather than on every line that shows it."""
        key = (starts_at, zone)
        found = self._moments.get(key)
        if found is None:
            local = starts_at.astimezone(formats.zone_info(zone))
            found = self._moments[key] = (escape(formats.moment(starts_at, zone, self.language)),
                                          Markup(local.replace(microsecond=0).isoformat()))
        return found

    def day(self, value: date | None) -> str:
        """"Wed, Dec 2, 2026" (`formats.day`), once per distinct day."""
        return self._day(value, formats.MEDIUM_DAY)

    def short_day(self, value: date | None) -> str:
        """"Dec 2, 2026" (`formats.short_day`), once per distinct day."""
        return self._day(value, formats.SHORT_DAY)

    def _day(self, value: date | None, skeleton: str) -> str:
        if value is None:
            return ""
        key = (value, skeleton)
        found = self._days.get(key)
        if found is None:
            found = self._days[key] = formats.in_pattern(value, skeleton, self.language)
        return found

    # --- links and names --------------------------------------------------------------------

    def maker(self, endpoint: str, key: str, **values: Any) -> Callable[[Any], str]:
        """`url_maker`, once per request and kind of link."""
        cache_key = (endpoint, key, tuple(sorted(values.items())))
        found = self._urls.get(cache_key)
        if found is None:
            found = self._urls[cache_key] = url_maker(endpoint, key, **values)
        return found

    def both_scripts(self, latin: str | None, original: str | None, *, tag: str = "span",
                     href: str | None = None) -> Markup:
        """`records.names.both_scripts`, the same HTML, with the reader's script looked up once and
        each distinct name built once per request."""
        key = (latin, original, tag, href)
        found = self._names.get(key)
        if found is None:
            found = self._names[key] = self._both_scripts(latin, original, tag, href)
        return found

    def _both_scripts(self, latin: str | None, original: str | None, tag: str, href: str | None) -> Markup:
        return both_scripts(latin, original, tag=tag, href=href, reads_original=self.reads_original)

    def pair_text(self, latin: str | None, original: str | None) -> str:
        """`str(names.in_script(latin, original))`: "first (other)" as plain text."""
        return str(in_script(latin, original, self.reads_original))

    def first_script(self, latin: str | None, original: str | None) -> str:
        return first_script(latin, original, self.reads_original)

    # --- the features' additions to hearing lines -------------------------------------------

    def editable(self, lines: list[Any]) -> set[int]:
        """The ids of the hearings among `lines` the current user may edit (`access.can_edit`):
        none for a visitor, all for an editor of every case, one query for an editor limited to
        some cases (asked once per list, whichever features want it)."""
        ids = frozenset(line.id for line in lines)
        found = self._editable.get(ids)
        if found is None:
            found = self._editable[ids] = _editable_ids(ids)
        return found

    def hearing_extra_makers(self, lines: list[Any]) -> list[Callable[[Any], str]]:
        """What the registered features add to each of `lines`: each feature asked once for the
        whole list, in order; a maker per feature that shows something on this page."""
        makers = []
        for _order, factory in current_app.extensions.get(EXTRAS_KEY, ()):
            maker = factory(lines, self)
            if maker is not None:
                makers.append(maker)
        return makers


def _editable_ids(ids: frozenset[int]) -> set[int]:
    if not ids or not current_user.is_authenticated or not current_user.is_active:
        return set()
    allowed = current_user.case_ids
    if allowed is None:
        return set(ids)
    if not allowed:
        return set()
    return set(db.session.scalars(sa.select(Hearing.id).where(Hearing.id.in_(sorted(ids)), Hearing.in_cases(allowed))))


def display() -> Display:
    """This request's Display (made on first use)."""
    found = g.get("records_display")
    if found is None:
        found = g.records_display = Display()
    return found
