"""A defendant's history in date order (arrest, custody, transfers, hearings, decisions),
derived from the records for the public page and never stored."""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import Iterable

from markupsafe import Markup, escape

from tracker.records.enums import MeasureKind
from tracker.records.display import Display
from tracker.records.lines import HearingLine, source
from tracker.records.models import Defendant, Hearing
from tracker.formats import short_day
from tracker.i18n import plain_gettext as _  # Flask-Babel's gettext, without its lookups per call


@dataclass(order=True)
class TimelineEntry:
    day: date
    order: int
    kind: str  # "arrest", "measure", "extension", "hearing", "decision", "transfer", "release"
    text: str = field(compare=False)
    detail: str = field(compare=False, default="")
    source_url: str | None = field(compare=False, default=None)
    source_checked_on: date | None = field(compare=False, default=None)
    hearing: Hearing | HearingLine | None = field(compare=False, default=None)


def timeline_html(entries: list[TimelineEntry], show: Display) -> Markup:
    """The timeline's items, written in one pass (records/defendant.html prints them once): each
    day formatted once, each source link made by `lines.source`. The template's loop printed six
    values an entry through `escape`."""
    items = []
    for entry in entries:
        detail = f": {escape(entry.detail)}" if entry.detail else ""
        items.append(f'\n  <li class="tl-{entry.kind}"><time datetime="{entry.day.isoformat()}">'
                     f"{escape(show.short_day(entry.day))}</time> <strong>{escape(entry.text)}</strong>{detail} "
                     f"{source(entry.source_url, entry.source_checked_on, show)}</li>\n")
    return Markup("".join(items))


def timeline(defendant: Defendant, hearings: Iterable[Hearing | HearingLine]) -> list[TimelineEntry]:
    """The defendant's history in date order, derived from the records (never stored). The
    public page passes hearing lines (records.lines), which answer the same attributes."""
    entries: list[TimelineEntry] = []
    if defendant.arrested_on:
        entries.append(TimelineEntry(defendant.arrested_on, 0, "arrest", _("Arrested")))
    for placement in defendant.placements:
        if placement.in_transit:
            text = _("In transit, whereabouts unknown")
        else:
            text = _("Held at %(place)s", place=placement.facility)
        entries.append(
            TimelineEntry(placement.since, 1, "transfer", text, placement.note, placement.source_url,
                          placement.source_checked_on)
        )
    by_id = {m.id: m for m in defendant.measures}
    for measure in defendant.measures:
        previous = by_id.get(measure.extends_id) if measure.extends_id else None
        if measure.kind is MeasureKind.RELEASED:
            text, kind = _("Released"), "release"
        elif previous is not None and previous.kind is measure.kind:
            text, kind = _("%(measure)s extended", measure=measure.kind.label.capitalize()), "extension"
        else:
            text, kind = measure.kind.label.capitalize(), "measure"
        details = []
        if measure.until:
            details.append(_("until %(day)s", day=short_day(measure.until)))
        if measure.next_review_on:
            details.append(_("next review %(day)s", day=short_day(measure.next_review_on)))
        if measure.ordered_by:
            details.append(_("ordered by %(court)s", court=measure.ordered_by))
        if measure.note:
            details.append(measure.note)
        entries.append(
            TimelineEntry(
                measure.starts_on, 2, kind, text, "; ".join(details),
                measure.source_url, measure.source_checked_on,
            )
        )
    for hearing in hearings:
        local = hearing.local_start
        text = f"{hearing.kind.label.capitalize()} ({hearing.status.label})"
        detail = hearing.court.name + (f": {hearing.outcome_note}" if hearing.outcome_note else "")
        entries.append(
            TimelineEntry(local.date(), 3, "hearing", text, detail, hearing.source_url,
                          hearing.source_checked_on, hearing)
        )
    for decision in defendant.decisions:
        text = f"{decision.instance.label.capitalize()}: {decision.outcome.label}"
        if decision.has_term:
            text += f", {decision.term_text}"
        details = [d for d in (decision.court, decision.regime, decision.note) if d]
        if decision.under_appeal:
            details.append(_("under appeal"))
        entries.append(
            TimelineEntry(decision.decided_on, 4, "decision", text, "; ".join(details),
                          decision.source_url, decision.source_checked_on)
        )
    entries.sort()
    return entries
