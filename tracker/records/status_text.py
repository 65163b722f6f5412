"""The status line and its freshness, as HTML, for each row of a list of defendants.

These were two macros (`status_line`, `freshness`) called once per row: on the home page
(50 rows) they were half the rendering. The same words are built here with the request's
`Display` (each phrase and day once per request, plain strings and `escape`), so the pages
print `row.status_html` and `row.fresh_html`. The HTML is the macros' (docs/rendering.md):
Jinja's `_("…", x=…)` is `Markup(translation) % escaped values`, and that is what
`Display.markup` does.
"""
from __future__ import annotations

from datetime import date

from flask_babel import format_date
from flask_babel import lazy_gettext as _l
from markupsafe import Markup, escape

from tracker.records.custody import describe_sentence
from tracker.i18n import end_sentence
from tracker.records.display import Display

SINCE = _l("since %(day)s")
UNTIL = _l("until %(day)s")
NOW_UNTIL = _l("now until %(day)s")
NEXT_REVIEW = _l("next review %(day)s")
IN_TRANSIT = _l("in transit since %(day)s, whereabouts unknown")
HELD_AT = _l("held at %(place)s since %(day)s")
RELEASE = _l("expected release %(day)s")
UNVERIFIED = _l("Status unverified since %(day)s")
LAST_KNOWN = _l("Last known: %(status)s.")
NEXT_HEARING = _l("Next hearing:")
NO_MATCH = _l("No defendant matches.")


def medium_day(show: Display, day: date) -> str:
    """Flask-Babel's `dateformat` filter (the medium format), once per day and request."""
    return show.once(("dateformat", day), lambda: format_date(day))


def custody_html(status, show: Display, stale: bool = False) -> str:  # noqa: ANN001
    """records/_macros.html `custody_line`, as it was."""
    parts: list[str] = []
    custody = status.custody
    place, release = status.place, status.release
    end = ";" if place or release else "."
    if custody:
        text = f"{escape(str(custody.kind.label).capitalize())} {show.markup(SINCE, day=show.short_day(custody.since))}"
        # f-strings only: str + Markup would escape the str, already HTML
        if custody.extensions:
            extended = show.ngettext("extended %(num)d time", "extended %(num)d times", custody.extensions)
            text = f"{text}, {extended}"
        if custody.until:
            text = f"{text}, {show.markup(UNTIL if stale else NOW_UNTIL, day=show.short_day(custody.until))}"
        elif custody.next_review_on:
            text = f"{text}, {show.markup(NEXT_REVIEW, day=show.short_day(custody.next_review_on))}"
        parts.append(end_sentence(text, end))
    elif status.sentence:
        parts.append(end_sentence(str(escape(describe_sentence(status.sentence))), end))
    after_place = ";" if release else "."
    if place and place.in_transit:
        parts.append(end_sentence(f'<span class="transit">{show.markup(IN_TRANSIT, day=medium_day(show, place.since))}'
                                  "</span>", after_place))
    elif place:
        where = show.pair_text(place.facility, place.facility_original)
        parts.append(end_sentence(str(show.markup(HELD_AT, place=where, day=show.short_day(place.since))), after_place))
    if release:
        parts.append(end_sentence(f'<span class="release">{show.markup(RELEASE, day=show.short_day(release))}</span>'))
    return " ".join(parts)


def status_html(row, show: Display) -> Markup:  # noqa: ANN001
    """records/_macros.html `status_line`, as it was: the status and custody line, or that
    the status is unverified since when and what was last known."""
    label = row.defendant.status.label
    if row.stale:
        return Markup(
            f'<strong class="unverified">{show.markup(UNVERIFIED, day=medium_day(show, row.stale.since))}</strong>: '
            f"{escape(row.stale.explanation)}. {show.markup(LAST_KNOWN, status=label)} "
            f"{custody_html(row.status, show, stale=True)}")
    return Markup(f"{escape(str(label).capitalize())}. {custody_html(row.status, show)}")


def fresh_html(row, today: date, show: Display) -> Markup:  # noqa: ANN001
    """records/_macros.html `freshness`, as it was: "Custody status checked 3 days ago." """
    if not row.freshness:
        return Markup("")
    facts = " ".join(
        f'<time datetime="{fact.day.isoformat()}" title="{escape(medium_day(show, fact.day))}">'
        f"{sentence(fact, today, show)}</time>" for fact in row.freshness)
    return Markup(f'<span class="freshness">{facts}</span>')


def sentence(fact, today: date, show: Display) -> str:  # noqa: ANN001
    """A fact's "checked 3 days ago", escaped, once per kind and number of days and request
    (each is a gettext through Flask-Babel's context; a list page has two per row)."""
    return show.once(("fresh", fact.fact, bool(fact.checked), fact.days_ago(today)),
                     lambda: str(escape(fact.sentence(today))))


def prepare_rows(rows: list, today: date, show: Display) -> list:
    """Set `name_html` (the linked name in both scripts), `status_html` and `fresh_html` on each
    DefendantRow."""
    defendant_url = show.maker("records.defendant", "slug")
    for row in rows:
        person = row.defendant
        row.name_html = show.both_scripts(person.name_latin, person.name_original, href=defendant_url(person.slug))
        row.status_html = status_html(row, show)
        row.fresh_html = fresh_html(row, today, show)
    return rows


def home_items(rows: list, show: Display) -> Markup:
    """The home page's list items (records/index.html), written in one pass once `prepare_rows`
    and `lines.prepare_next` have set the rows' text: the template's loop cost ~1 µs for each
    of the seven values a row printed."""
    if not rows:
        return Markup(f"\n  <li>{show.phrase(NO_MATCH)}</li>\n")
    label = show.phrase(NEXT_HEARING)
    items = []
    for row in rows:
        found = row.next_hearing
        upcoming = (f'<p>{label} <time datetime="{found.when_attr}">{found.when}</time>, {escape(found.where)}</p>'
                    if found is not None else "")
        items.append(f'\n  <li>\n    <h2>{row.name_html}</h2>\n    <p class="status">{row.status_html}</p>\n'
                     f'    <p class="fresh">{row.fresh_html}</p>\n    {upcoming}\n  </li>\n')
    return Markup("".join(items))


def case_items(rows: list) -> Markup:
    """A case page's defendants (records/case.html), written in one pass after `prepare_rows`."""
    return Markup("".join(f"\n  <li>{row.name_html}:\n  {row.status_html} {row.fresh_html}</li>\n" for row in rows))
