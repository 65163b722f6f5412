"""Public actions as HTML, written in Python: the /actions page lists up to 500 of them.

The Jinja macro this replaced (`action_item`, once in `actions/_action.html`) cost ~60 µs an
action: a macro call, two dozen attribute lookups through the template runtime, a
`url_for` per defendant and case. Here the reader's texts, locale and links are looked up
once per list (docs/rendering-floor.md, "/actions"). Same markup and escaping as the macro: texts from
the catalogue are markup as in templates (Jinja's newstyle gettext), every value from the
database is escaped.
"""
from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from urllib.parse import quote
from zoneinfo import ZoneInfo

from flask import current_app, g, request
from flask_babel import lazy_gettext as _l
from markupsafe import Markup

from tracker.actions.models import Action, ActionStatus
from tracker.actions.places import country_names, local_text_in, locale_name
from tracker.i18n import catalogue
from tracker.links import slug_link_in
from tracker.records.display import display
from tracker.records.names import escape_text, first_script, reader_reads_original

IN_CALENDAR = _l("In your calendar:")
SUBSCRIBE = _l("Subscribe in Apple Calendar, Outlook or Thunderbird")
GOOGLE = _l("Google Calendar")
ADDRESS = _l("the calendar's address")


class _Writer:
    """What every item of one list shares, looked up once: the reader's locale and texts, the
    links' mount point, and each person's, case's and place's markup."""

    def __init__(self) -> None:
        self.locale = locale_name()
        self.reads_original = reader_reads_original()
        self.url_map, self.root = id(current_app.url_map), request.script_root
        self._texts: tuple[Markup, Markup, Markup] | None = None
        self._anchors: dict[tuple[str, str, str, str], str] = {}
        self._places: dict[tuple[str, str], str] = {}
        self._times: dict[tuple[datetime, datetime, str], str] = {}

    def texts(self) -> tuple[Markup, Markup, Markup]:
        if self._texts is None:
            translations = catalogue()
            self._texts = (Markup(translations.ugettext("Called off:")),
                           Markup(translations.ugettext("Organised by %(name)s")),
                           Markup(translations.ugettext("In solidarity with:")))
        return self._texts

    def item(self, action: Action, show_place: bool) -> str:
        """The item, written from the values it shows. (An in-process memo of items by those
        values was tried and dropped: it saved ~30% only when the same page was asked twice,
        which flatters a benchmark more than it helps a reader after an edit.) What repeats
        within the list (a person's or case's link, a city and country, a time) is written once,
        in this writer's own dicts: a lookup there is a fraction of a `Display.once` call."""
        called_off, organised_by, in_solidarity = self._texts or self.texts()
        key = (action.starts_at, action.ends_at, action.timezone)
        when = self._times.get(key)
        if when is None:
            when = self._times[key] = self._when(*key)
        cancelled = action.status is ActionStatus.CANCELLED
        html = (f'<li class="action cancelled" id="action-{action.id}">\n  <strong>{called_off} '
                if cancelled else f'<li class="action" id="action-{action.id}">\n  <strong>')
        html = f"{html}{escape_text(action.title)}</strong><br>\n  {when}"
        if show_place:
            html += self._places.get((action.city, action.country)) or self.place(action.city, action.country)
        if action.address:
            html = f"{html}\n  <br>{escape_text(action.address)}"
        if action.organiser:
            html = f"{html}\n  <br>{organised_by % {'name': action.organiser}}"
        people, case = action.public_defendants(), action.case
        if people or case:
            anchors, anchor = self._anchors, self.anchor
            links = [anchors.get(("records.defendant", person.slug, person.name_latin, person.name_original))
                     or anchor("records.defendant", person.slug, person.name_latin, person.name_original)
                     for person in people]
            if case is not None:
                links.append(anchors.get(("records.case", case.slug, case.title, case.title_original))
                             or anchor("records.case", case.slug, case.title, case.title_original))
            html = f"{html}\n  <br>{in_solidarity}\n    {', '.join(links)}"
        if action.description:
            # the macro's line breaks kept: a page's text reads "…affair Bring…", not "…affairBring…"
            html = f"{html}\n  {paragraphs(action.description)}"
        return f"{html}\n</li>"

    def _when(self, starts_at: datetime, ends_at: datetime, zone: str) -> str:
        start = starts_at.astimezone(ZoneInfo(zone)).isoformat(timespec="seconds")  # no replace(): ~1 µs
        text = local_text_in(starts_at, ends_at, zone, self.locale)
        return f'<time datetime="{escape_text(start)}">{escape_text(text)}</time>'

    def place(self, city: str, country: str) -> str:
        key = (city, country)
        written = self._places.get(key)
        if written is None:
            name = country_names(self.locale).get(country, country)
            written = self._places[key] = f" · {escape_text(city)}, {escape_text(name)}"
        return written

    def anchor(self, endpoint: str, slug: str, latin: str, original: str) -> str:
        """A person's or case's link, named in the reader's script, written once per list."""
        key = (endpoint, slug, latin, original)
        written = self._anchors.get(key)
        if written is None:
            href = slug_link_in(self.url_map, self.root, endpoint, slug)
            text = first_script(latin, original, self.reads_original)
            written = self._anchors[key] = f'<a href="{escape_text(href)}">{escape_text(text)}</a>'
        return written


def paragraphs(description: str) -> str:
    """A description's `<p>`s, split at blank lines, empty ones left out. (Not memoised: a real
    list's descriptions differ, and a memo would only flatter the benchmark's repeated one.)"""
    if "\n\n" not in description:
        return f"<p>{escape_text(description)}</p>" if description.strip() else ""
    return "".join([f"<p>{escape_text(para)}</p>" for para in description.split("\n\n") if para.strip()])


def actions_html(actions: Iterable[Action], show_place: bool = False) -> Markup:
    """The `<li>` of each public action, in order: what, when (the place's zone, named), where,
    who for. Never the organiser's contact. One writer a request (/actions calls this per city)."""
    writer = g.get("actions_writer")
    if writer is None:
        writer = g.actions_writer = _Writer()
    return Markup("".join(writer.item(action, show_place) for action in actions))


def calendar_links_html(url: str) -> Markup:
    """An actions calendar's links (the Jinja macro `calendar_links` this replaces, byte for
    byte): subscribe by webcal, in Google Calendar, or copy the address. Written here because a
    defendant's and a case's page show it under their actions, and the macro's import and call
    were a third of that list's cost. The phrases as the template's `_()` gives them."""
    show = display()
    webcal = url.replace("https://", "webcal://").replace("http://", "webcal://")
    google = quote(webcal, safe="/")  # Jinja's `urlencode` of a str
    return Markup(f'<p class="calendar-links">{show.markup(IN_CALENDAR)}\n'
                  f'  <a href="{escape_text(webcal)}">{show.markup(SUBSCRIBE)}</a>\n'
                  f'  · <a href="https://calendar.google.com/calendar/r?cid={escape_text(google)}" '
                  f'rel="noopener noreferrer">{show.markup(GOOGLE)}</a>\n'
                  f'  · <a href="{escape_text(url)}">{show.markup(ADDRESS)}</a></p>')
