"""The audit trail as people read it.

`AuditEntry.changes` keeps raw values (ISO UTC strings, enum values, ids: see audit.py), which
is right for storage and for the reminders that read it, and wrong on a page: a lawyer read
"starts at 2026-12-01T08:00:00+00:00 → 2026-12-02T09:30:00+00:00" and "extends id 43". This
turns each entry into lines of field labels and values as the rest of the site shows them:
enum labels, dates for people, a hearing's time in its court's zone with the zone named,
yes/no, and references by what they are ("pre-trial detention until Jun 1, 2026"). Labels go
through gettext and dates through Babel, so a translation needs no code.

Referenced rows are loaded for all entries at once: at most five queries per page, whatever
the number of entries.
"""
from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from flask import current_app
from flask_babel import ngettext
from flask_babel import gettext as _
from sqlalchemy.orm import Session

from tracker import formats
from tracker.editing.history_labels import (
    ACTIONS,
    ADDING,
    CASE,
    CASES,
    COURT,
    DAY,
    DEFENDANTS,
    FIELDS,
    MEASURE,
    MINUTES,
    MOMENT,
    YES_NO,
    Field,
)
from tracker.editing.models import AuditEntry
from tracker.records.models import Case, Court, CustodyMeasure, Defendant, Hearing
from tracker.records.names import in_script, reader_reads_original


@dataclass
class Change:
    """One field's change; None is an empty value (the page marks it as such).

    `before` is False for a field of a record just added: it had no old value to show.
    """

    label: str
    old: str | None
    new: str | None
    before: bool = True


@dataclass
class Subject:
    """What an entry is about, for the admins' feed of every change."""

    kind: str  # "hearing", "case", "defendant" or "court": which editing page it links to
    ident: int
    name: str


@dataclass
class ReadableEntry:
    entry: AuditEntry
    when: str
    who: str
    action: str
    subject: Subject | None = None
    changes: list[Change] = field(default_factory=list)

    @property
    def note(self) -> str:
        return self.entry.note


# --- formatting ------------------------------------------------------------------------


def moment_text(value: datetime, zone: ZoneInfo) -> str:
    """"Dec 2, 2026, 12:30 MSK" / "2 дек. 2026 г., 12:30 МСК": the local time and its zone."""
    return formats.moment_short(value, zone)


def day_text(value: date) -> str:
    """"Dec 2, 2026" / "2 дек. 2026 г."."""
    return formats.short_day(value)


def _empty(value: Any) -> bool:
    return value is None or value == "" or value == []


# --- referenced rows, loaded once for a whole page ---------------------------------------


@dataclass
class References:
    hearings: dict[int, tuple[datetime, int]] = field(default_factory=dict)  # id -> (starts_at, court_id)
    courts: dict[int, tuple[str, str]] = field(default_factory=dict)  # id -> (name as shown, timezone)
    cases: dict[int, str] = field(default_factory=dict)  # id -> title as shown
    defendants: dict[int, str] = field(default_factory=dict)  # id -> name as shown
    measures: dict[int, CustodyMeasure] = field(default_factory=dict)

    @classmethod
    def load(cls, session: Session, entries: Sequence[AuditEntry]) -> References:
        wanted: dict[str, set[int]] = {k: set() for k in (CASE, COURT, DEFENDANTS, MEASURE, "hearing")}

        def add(kind: str, value: Any) -> None:
            for item in value if isinstance(value, list) else [value]:
                if isinstance(item, int):
                    wanted[kind].add(item)

        for entry in entries:
            kinds = {"hearing": "hearing", "case": CASE, "defendant": DEFENDANTS, "court": COURT}
            if entry.entity_type in kinds:
                add(kinds[entry.entity_type], entry.entity_id)
            if entry.defendant_id:
                add(DEFENDANTS, entry.defendant_id)
            for name, pair in (entry.changes or {}).items():
                kind = FIELDS.get(entry.entity_type, {}).get(name, Field("")).kind
                kind = CASE if kind == CASES else kind
                if kind in wanted:
                    for value in pair:
                        add(kind, value)
        refs = cls()
        if wanted["hearing"]:
            for ident, starts_at, court_id in session.execute(
                sa.select(Hearing.id, Hearing.starts_at, Hearing.court_id).where(Hearing.id.in_(wanted["hearing"]))
            ):
                refs.hearings[ident] = (starts_at, court_id)
                wanted[COURT].add(court_id)
        # names and titles are pairs: each in the reader's script first (tracker.records.names)
        reads_original = reader_reads_original()
        if wanted[COURT]:
            refs.courts = {i: (in_script(n, original, reads_original).first, tz) for i, n, original, tz in session.execute(
                sa.select(Court.id, Court.name, Court.name_original, Court.timezone)
                .where(Court.id.in_(wanted[COURT])))}
        if wanted[CASE]:
            refs.cases = {i: in_script(title, original, reads_original).first for i, title, original in session.execute(
                sa.select(Case.id, Case.title, Case.title_original).where(Case.id.in_(wanted[CASE])))}
        if wanted[DEFENDANTS]:
            refs.defendants = {i: in_script(latin, original, reads_original).first for i, latin, original in session.execute(
                sa.select(Defendant.id, Defendant.name_latin, Defendant.name_original)
                .where(Defendant.id.in_(wanted[DEFENDANTS])))}
        if wanted[MEASURE]:
            refs.measures = {m.id: m for m in session.scalars(
                sa.select(CustodyMeasure).where(CustodyMeasure.id.in_(wanted[MEASURE])))}
        return refs

    def court_zone(self, court_id: int | None, fallback: ZoneInfo) -> ZoneInfo:
        court = self.courts.get(court_id) if court_id is not None else None
        return formats.zone_info(court[1]) if court else fallback

    def hearing_name(self, hearing_id: int, fallback: ZoneInfo) -> str | None:
        found = self.hearings.get(hearing_id)
        if found is None:
            return None
        starts_at, court_id = found
        court = self.courts.get(court_id, ("", ""))[0]
        return f"{moment_text(starts_at, self.court_zone(court_id, fallback))}, {court}"


def _deleted(ident: Any) -> str:
    return _("#%(id)s (deleted)", id=ident)


def _measure_text(measure: CustodyMeasure | None, ident: Any) -> str:
    """"pre-trial detention until Jun 1, 2026": a measure as the timeline names it."""
    if measure is None:
        return _deleted(ident)
    if measure.until:
        return _("%(measure)s until %(day)s", measure=measure.kind.label, day=day_text(measure.until))
    if measure.next_review_on:
        return _("%(measure)s, next review %(day)s", measure=measure.kind.label,
                 day=day_text(measure.next_review_on))
    return _("%(measure)s from %(day)s", measure=measure.kind.label, day=day_text(measure.starts_on))


def _names(ids: Any, known: dict[int, str]) -> str:
    names = [known.get(i) or _deleted(i) for i in (ids if isinstance(ids, list) else [ids])]
    return ", ".join(sorted(names, key=str.casefold))


def _value(spec: Field, value: Any, refs: References, zone: ZoneInfo) -> str | None:
    """A stored value as people read it; None when empty."""
    if _empty(value):
        return None
    try:
        if spec.enum is not None:
            return str(spec.enum(value).label)
        if spec.kind == DAY:
            return day_text(date.fromisoformat(value))
        if spec.kind == MOMENT:
            return moment_text(datetime.fromisoformat(value), zone)
        if spec.kind == YES_NO:
            return _("yes") if value else _("no")
        if spec.kind == MINUTES:
            return ngettext("%(num)d minute", "%(num)d minutes", int(value))
        if spec.kind == CASE or spec.kind == CASES:
            return _names(value, refs.cases)
        if spec.kind == COURT:
            return refs.courts[value][0] if value in refs.courts else _deleted(value)
        if spec.kind == DEFENDANTS:
            return _names(value, refs.defendants)
        if spec.kind == MEASURE:
            return _measure_text(refs.measures.get(value), value)
    except (TypeError, ValueError):  # a value stored before its field's kind changed: show it as it is
        pass
    return str(value)


def _changes(entry: AuditEntry, refs: References, site_zone: ZoneInfo) -> list[Change]:
    specs = FIELDS.get(entry.entity_type, {})
    stored = entry.changes or {}
    # a hearing's times are told in its court's zone: the court before and after the change
    hearing_court = refs.hearings.get(entry.entity_id, (None, None))[1] if entry.entity_type == "hearing" else None
    old_court, new_court = stored.get("court_id", [hearing_court, hearing_court])
    zones = (refs.court_zone(old_court, site_zone), refs.court_zone(new_court, site_zone))
    order = list(specs) + sorted(k for k in stored if k not in specs)
    result = []
    for name in order:
        if name not in stored:
            continue
        old, new = stored[name]
        given = entry.action in ADDING and old is None
        if given and (_empty(new) or new is False or new == 0):
            continue  # a new record: what it was given, not every field left empty
        spec = specs.get(name) or Field(name.replace("_", " ").capitalize())
        result.append(Change(str(spec.label), _value(spec, old, refs, zones[0]), _value(spec, new, refs, zones[1]),
                             before=not given))
    return result


def _subject(entry: AuditEntry, refs: References, site_zone: ZoneInfo) -> Subject | None:
    if entry.entity_type == "hearing":
        name = refs.hearing_name(entry.entity_id, site_zone)
        return Subject("hearing", entry.entity_id, name or _deleted(entry.entity_id))
    if entry.entity_type == "case":
        return Subject("case", entry.entity_id, refs.cases.get(entry.entity_id) or _deleted(entry.entity_id))
    if entry.defendant_id:
        return Subject("defendant", entry.defendant_id,
                       refs.defendants.get(entry.defendant_id) or _deleted(entry.defendant_id))
    if entry.entity_type == "court":
        court = refs.courts.get(entry.entity_id)
        return Subject("court", entry.entity_id, court[0] if court else _deleted(entry.entity_id))
    return None


def describe(session: Session, entries: Iterable[AuditEntry], *, site_zone: str | None = None) -> list[ReadableEntry]:
    """The entries as the history lists show them, in the order given."""
    entries = list(entries)
    if not entries:
        return []
    zone = formats.zone_info(site_zone or current_app.config["DEFAULT_TIMEZONE"])
    refs = References.load(session, entries)
    readable = []
    for entry in entries:
        action = ACTIONS.get((entry.action, entry.entity_type))
        readable.append(ReadableEntry(
            entry=entry,
            when=moment_text(entry.at, zone),
            who=entry.user.email if entry.user else _("(deleted account)"),
            action=str(action) if action else f"{entry.action} {entry.entity_type}".replace("_", " ").capitalize(),
            subject=_subject(entry, refs, zone),
            changes=_changes(entry, refs, zone),
        ))
    return readable
