"""Public actions as HTML, written in Python: the /actions page lists up to 500 of them.

The Jinja macro this replaces (`action_item` in `actions/_action.html`) cost ~60 µs an
action: a macro call, two dozen attribute lookups through the template runtime, a
`url_for` per defendant and case. Here the reader's texts, locale and links are looked up
once per list (docs/rendering-floor.md, "/actions"). Same markup and escaping as the macro: texts from
the catalogue are markup as in templates (Jinja's newstyle gettext), every value from the
database is escaped.
"""
from __future__ import annotations

from collections.abc import Iterable
from zoneinfo import ZoneInfo

from flask import current_app, request
from markupsafe import Markup, escape

from tracker.actions.models import Action
from tracker.actions.places import country_names, local_text_in, locale_name
from tracker.i18n import catalogue
from tracker.links import slug_link_in


class _Writer:
    """What every item of one list shares, looked up once: the reader's locale and texts, and
    the links' mount point. """

    def __init__(self) -> None:
        self.locale = locale_name()
        self.url_map, self.root = id(current_app.url_map), request.script_root
        self._texts: tuple[Markup, Markup, Markup] | None = None

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
        which flatters a benchmark more than it helps a reader after an edit.)"""
        case = action.case
        return self.write((self.locale, self.url_map, self.root, show_place, action.id, action.title,
                           action.description, action.organiser, action.city, action.country, action.address,
                           action.timezone, action.starts_at, action.ends_at, action.status,
                           None if case is None else (case.slug, case.title),
                           tuple((person.slug, person.name_latin) for person in action.public_defendants())))

    def write(self, key: tuple) -> str:
        (locale, _map, _root, show_place, action_id, title, description, organiser, city, country, address,
         zone, starts_at, ends_at, status, case, people) = key
        called_off, organised_by, in_solidarity = self.texts()
        cancelled = status.value == "cancelled"
        start = starts_at.astimezone(ZoneInfo(zone)).replace(microsecond=0)
        html = [f'<li class="action{" cancelled" if cancelled else ""}" id="action-{action_id}">\n  <strong>']
        if cancelled:
            html.append(f"{called_off} ")
        when = local_text_in(starts_at, ends_at, zone, locale)
        html.append(f"{escape(title)}</strong><br>\n  <time datetime=\"{escape(start.isoformat())}\">"
                    f"{escape(when)}</time>")
        if show_place:
            html.append(f" · {escape(city)}, {escape(country_names(locale).get(country, country))}")
        if address:
            html.append(f"\n  <br>{escape(address)}")
        if organiser:
            html.append(f"\n  <br>{organised_by % {'name': organiser}}")
        if people or case:
            links = [f'<a href="{escape(self.link("records.defendant", slug))}">{escape(name)}</a>'
                     for slug, name in people]
            if case is not None:
                links.append(f'<a href="{escape(self.link("records.case", case[0]))}">{escape(case[1])}</a>')
            html.append(f"\n  <br>{in_solidarity}\n    {', '.join(links)}")
        if description:
            # the macro's line breaks kept: a page's text reads "…affair Bring…", not "…affairBring…"
            html.append("\n  ")
            html.extend(f"<p>{escape(para)}</p>" for para in description.split("\n\n") if para.strip())
        html.append("\n</li>")
        return "".join(html)

    def link(self, endpoint: str, slug: str) -> str:
        return slug_link_in(self.url_map, self.root, endpoint, slug)


def actions_html(actions: Iterable[Action], show_place: bool = False) -> Markup:
    """The `<li>` of each public action, in order: what, when (the place's zone, named), where,
    who for. Never the organiser's contact."""
    writer = _Writer()
    return Markup("".join(writer.item(action, show_place) for action in actions))
