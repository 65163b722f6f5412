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
        text = f"{capitalised(show, custody.kind)} {dated(show, SINCE, custody.since)}"
        # f-strings only: str + Markup would escape the str, already HTML
        if custody.extensions:
            extended = show.ngettext("extended %(num)d time", "extended %(num)d times", custody.extensions)
            text = f"{text}, {extended}"
        if custody.until:
            text = f"{text}, {dated(show, UNTIL if stale else NOW_UNTIL, custody.until)}"
        elif custody.next_review_on:
            text = f"{text}, {dated(show, NEXT_REVIEW, custody.next_review_on)}"
        parts.append(end_sentence(text, end))
    elif status.sentence:
        parts.append(end_sentence(sentence_text(status.sentence, show), end))
    after_place = ";" if release else "."
    if place and place.in_transit:
        parts.append(end_sentence(f'<span class="transit">{show.markup(IN_TRANSIT, day=medium_day(show, place.since))}'
                                  "</span>", after_place))
    elif place:
        where = show.pair_text(place.facility, place.facility_original)
        parts.append(end_sentence(str(show.markup(HELD_AT, place=where, day=show.short_day(place.since))), after_place))
    if release:
        parts.append(end_sentence(f'<span class="release">{dated(show, RELEASE, release)}</span>'))
    return " ".join(parts)


def status_html(row, show: Display) -> Markup:  # noqa: ANN001
    """records/_macros.html `status_line`, as it was: the status and custody line, or that
    the status is unverified since when and what was last known."""
    status = row.defendant.status
    if row.stale:
        since = row.stale.since
        unverified = show.once(("unverified", since), lambda: show.markup(UNVERIFIED, day=medium_day(show, since)))
        last_known = show.once(("last known", status), lambda: show.markup(LAST_KNOWN, status=status.label))
        return Markup(
            f'<strong class="unverified">{unverified}</strong>: '
            f"{escape(row.stale.explanation)}. {last_known} "
            f"{custody_html(row.status, show, stale=True)}")
    return Markup(f"{capitalised(show, status)}. {custody_html(row.status, show)}")


# A list's rows share their days, kinds and sentences (a group's detentions are ordered and
# extended together, by one court), so each text below is made once per request and value.

def capitalised(show: Display, member) -> str:  # noqa: ANN001 - a LabelledEnum member
    """An enum's label with a capital, escaped (keyed by its type too: the enums are str, and
    `DefendantStatus.HOUSE_ARREST == MeasureKind.HOUSE_ARREST`)."""
    return show.once(("capitalised", type(member), member), lambda: str(escape(str(member.label).capitalize())))


def dated(show: Display, phrase, day: date) -> Markup:  # noqa: ANN001 - a lazy_gettext constant
    """`show.markup(phrase, day=show.short_day(day))`."""
    return show.once(("dated", id(phrase), day), lambda: show.markup(phrase, day=show.short_day(day)))


def sentence_text(decision, show: Display) -> str:  # noqa: ANN001 - custody.DecisionFacts
    """`custody.describe_sentence`, escaped (a gettext and up to three ngettext through
    Flask-Babel's context each time)."""
    key = ("sentence", decision.decided_on, decision.outcome, decision.term_years, decision.term_months,
           decision.term_days, decision.regime, decision.under_appeal)
    return show.once(key, lambda: str(escape(describe_sentence(decision))))


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
