"""The dry run of what is recorded about a defendant: custody measures (also the defendants
sheet's custody columns), decisions and placements (part of planner.Planner)."""
from __future__ import annotations

from typing import Any

from flask_babel import gettext as _

from tracker.exchange.plan import (
    STEP_DECISIONS,
    STEP_MEASURES,
    STEP_PLACEMENTS,
    STEP_STATUS,
    DefendantHandle,
    Item,
    shown,
)
from tracker.exchange.reading import Row, Sheet
from tracker.exchange.values import is_empty, parse_cell
from tracker.records.custody import current_measure, custody_chain
from tracker.records.enums import Instance


class CustodyRows:
    """Measures, decisions and placements, and the shorthand columns of a defendants row."""

    def plan_shorthand(self, sheet: Sheet, row: Row) -> None:
        """custody/custody_since/custody_until and next_hearing/next_hearing_court of a defendants row."""
        handle = self._row_handle(sheet, row)
        if handle is None:
            return
        if any(not is_empty(row.cells.get(c)) for c in ("custody", "custody_since", "custody_until")):
            self.plan_custody(sheet, row, handle)
        if any(not is_empty(row.cells.get(c)) for c in ("next_hearing", "next_hearing_court")):
            self.plan_next_hearing(sheet, row, handle)
        if id(handle) in self.wanted_status:
            wanted = self.wanted_status[id(handle)]

            def settle(applier: Any) -> None:
                """A measure or decision added above may have set another status: the file's wins."""
                person = handle.record
                if person.status is not wanted:
                    applier.services.update_defendant(applier.session, person, {"status": wanted},
                                                      expected_version=None, by=applier.user, now=applier.now)
            self.add(None, (STEP_STATUS, sheet.source, row.number), settle)

    def _row_handle(self, sheet: Sheet, row: Row) -> DefendantHandle | None:
        handle = self.handle_of_row.get(id(row))
        return None if handle is None or handle.bad else handle

    def plan_custody(self, sheet: Sheet, row: Row, handle: DefendantHandle) -> None:
        table = sheet.table
        values: dict[str, Any] = {}
        for name in ("custody", "custody_since", "custody_until"):
            raw = row.cells.get(name)
            values[name] = None if is_empty(raw) else parse_cell(raw, table.column(name), self.today)
        if values["custody"] is None:
            self.problem(sheet, row, "custody", _("Name the custody measure, e.g. pre_trial_detention."))
            return
        if values["custody_since"] is None:
            self.problem(sheet, row, "custody_since", _("Give the date this custody began."))
            return
        kind, since, until = values["custody"], values["custody_since"], values["custody_until"]
        if until is not None and until <= since:
            self.problem(sheet, row, "custody_until", _("This date must come after the start (%(day)s).",
                                                        day=since.isoformat()))
            return
        person = handle.existing
        label = f"{handle.slug}: {kind.value} {since.isoformat()}"
        first = None
        if person is not None:
            first = next((m for m in person.measures if m.kind is kind and m.starts_on == since), None)
        if first is None:
            item = Item("measures", sheet.source, row.number, "create", label,
                        self.changes(None, {"kind": kind, "starts_on": since, "until": until}))

            def add(applier: Any) -> None:
                applier.services.add_measure(applier.session, handle.record,
                                             {"kind": kind, "starts_on": since, "until": until},
                                             expected_version=None, by=applier.user, now=applier.now)
            self.add(item, (STEP_MEASURES, handle.slug, since, row.number), add)
            return
        current = current_measure(person.measures)
        chain = custody_chain(current, {m.id: m for m in person.measures}) if current else []
        if current is None or first not in chain or current.kind is not kind or until == current.until \
                or until is None:
            # the tracker knows a later measure than this row: it is newer than the spreadsheet
            self.add(Item("measures", sheet.source, row.number, "unchanged", label), (STEP_MEASURES,), None)
            return
        if current.until is not None and until > current.until:
            item = Item("measures", sheet.source, row.number, "extend", label,
                        [("until", shown(current.until), shown(until))])

            def extend(applier: Any) -> None:
                applier.services.extend_custody(applier.session, person, until, by=applier.user, now=applier.now)
            self.add(item, (STEP_MEASURES, handle.slug, until, row.number), extend)
            return
        if until <= current.starts_on:
            self.problem(sheet, row, "custody_until", _("This date must come after the start (%(day)s).",
                                                        day=current.starts_on.isoformat()))
            return
        item = Item("measures", sheet.source, row.number, "update", label,
                    [("until", shown(current.until), shown(until))])

        def correct(applier: Any) -> None:
            applier.services.correct_record(applier.session, current, {"until": until}, expected_version=None,
                                            by=applier.user, now=applier.now)
        self.add(item, (STEP_MEASURES, handle.slug, current.starts_on, row.number), correct)

    # rows about one defendant ------------------------------------------------------------------

    def owner(self, sheet: Sheet, row: Row, values: dict, column: str = "defendant") -> DefendantHandle | None:
        text = values.get(column)
        if text is None:
            return None
        handle = self.defendant_ref(text)
        if handle is None:
            self.problem(sheet, row, column, _("Unknown defendant '%(ref)s'.", ref=text))
            return None
        if not handle.editable:
            self.problem(sheet, row, column, _("Your account may not edit the defendant '%(ref)s'.", ref=text))
            return None
        if handle.bad:
            self.problem(sheet, row, column, _("The defendant '%(ref)s' is not imported: see %(source)s, row "
                                               "%(row)d.", ref=text, source=handle.source,
                                               row=handle.row.number if handle.row else 0))
            return None
        return handle

    def owners(self, sheet: Sheet, row: Row, values: dict) -> list[DefendantHandle] | None:
        """Every defendant a `defendants` cell names (hearings, actions); None when any is refused
        (each refusal is reported)."""
        handles = [self.owner(sheet, row, {"defendants": text}, "defendants")
                   for text in values.get("defendants") or []]
        return None if None in handles else handles  # type: ignore[return-value]

    def plan_measure(self, sheet: Sheet, row: Row) -> None:
        values, good = self.cells(sheet, row)
        handle = self.owner(sheet, row, values)
        if not good or handle is None:
            return
        kind, starts_on = values["kind"], values["starts_on"]
        if self.duplicate(sheet, row, ("measure", id(handle), kind, starts_on), "starts_on"):
            return
        for name in ("until", "next_review_on"):
            if values.get(name) is not None and values[name] <= starts_on:
                self.problem(sheet, row, name, _("This date must come after the start (%(day)s).",
                                                 day=starts_on.isoformat()))
                return
        wanted = {k: (v if v is not None or k in ("until", "next_review_on", "source_url", "source_checked_on")
                      else "") for k, v in values.items()
                  if k in ("until", "next_review_on", "ordered_by", "note", "source_url", "source_checked_on")}
        label = f"{handle.slug}: {kind.value} {starts_on.isoformat()}"
        person = handle.existing
        existing = None
        if person is not None:
            existing = next((m for m in person.measures if m.kind is kind and m.starts_on == starts_on), None)
        if existing is None:
            is_extension = bool(values.get("extension"))
            shown_values = {"kind": kind, "starts_on": starts_on, **wanted}
            if is_extension:
                shown_values["extension"] = True
            item = Item("measures", sheet.source, row.number, "create", label, self.changes(None, shown_values))
            created = {"ordered_by": "", "note": "", **wanted, "kind": kind, "starts_on": starts_on}

            def add(applier: Any) -> None:
                person = handle.record
                extends = None
                if is_extension:
                    extends = current_measure(m for m in person.measures if m.starts_on <= starts_on)
                applier.services.add_measure(applier.session, person, created, extends=extends,
                                             expected_version=None, by=applier.user, now=applier.now)
            self.add(item, (STEP_MEASURES, handle.slug, starts_on, row.number), add)
            return
        self.correct(sheet, row, "measures", label, existing, wanted,
                     (STEP_MEASURES, handle.slug, starts_on, row.number))

    DECISION_FIELDS = ("court", "term_years", "term_months", "term_days", "regime", "credited_days",
                       "release_override", "under_appeal", "note", "source_url", "source_checked_on", "outcome")

    def plan_decision(self, sheet: Sheet, row: Row) -> None:
        values, good = self.cells(sheet, row)
        handle = self.owner(sheet, row, values)
        if not good or handle is None:
            return
        decided_on = values["decided_on"]
        instance = values.get("instance") or Instance.FIRST
        if self.duplicate(sheet, row, ("decision", id(handle), decided_on, instance), "decided_on"):
            return
        case = self.row_case(sheet, row, values)
        if case is False:
            return
        defaults = {"court": "", "regime": "", "note": "", "term_years": 0, "term_months": 0, "term_days": 0,
                    "credited_days": 0, "under_appeal": False}
        wanted = {k: (defaults.get(k) if v is None else v) for k, v in values.items() if k in self.DECISION_FIELDS}
        label = f"{handle.slug}: {instance.value} {decided_on.isoformat()}"
        person = handle.existing
        existing = None
        if person is not None:
            existing = next((d for d in person.decisions if d.decided_on == decided_on and d.instance is instance),
                            None)
        if existing is None:
            created = {**defaults, **wanted, "decided_on": decided_on, "instance": instance}
            shown_values = {"decided_on": decided_on, "instance": instance, **wanted}
            if case is not None:
                shown_values["case"] = case.slug
            item = Item("decisions", sheet.source, row.number, "create", label, self.changes(None, shown_values))

            def record(applier: Any) -> None:
                applier.services.record_decision(applier.session, handle.record, created,
                                                 case=case.record if case else None, expected_version=None,
                                                 by=applier.user, now=applier.now)
            self.add(item, (STEP_DECISIONS, handle.slug, decided_on, row.number), record)
            return
        self.correct(sheet, row, "decisions", label, existing, wanted,
                     (STEP_DECISIONS, handle.slug, decided_on, row.number))

    def plan_placement(self, sheet: Sheet, row: Row) -> None:
        values, good = self.cells(sheet, row)
        handle = self.owner(sheet, row, values)
        if not good or handle is None:
            return
        facility, since, in_transit = values.get("facility") or "", values["since"], bool(values.get("in_transit"))
        if in_transit and (facility or values.get("facility_original")):
            self.problem(sheet, row, "facility", _("Leave the facility empty while the destination is not known."))
            return
        if not in_transit and not facility:
            self.problem(sheet, row, "facility", _("Name the facility, or mark the destination as not yet known."))
            return
        if self.duplicate(sheet, row, ("placement", id(handle), since, facility, in_transit), "since"):
            return
        wanted = {k: (v if v is not None or k in ("source_url", "source_checked_on") else "")
                  for k, v in values.items() if k in ("facility_original", "note", "source_url", "source_checked_on")}
        place = facility or _("in transit")
        label = f"{handle.slug}: {place}, {since.isoformat()}"
        person = handle.existing
        existing = None
        if person is not None:
            existing = next((p for p in person.placements if p.since == since and p.facility == facility
                             and p.in_transit == in_transit), None)
        if existing is None:
            latest = max((p.since for p in person.placements), default=None) if person is not None else None
            if latest is not None and since < latest:
                self.problem(sheet, row, "since", _("A transfer cannot come before the current placement "
                                                    "(%(day)s).", day=latest.isoformat()))
                return
            created = {"note": "", **wanted, "facility": facility, "since": since, "in_transit": in_transit}
            shown_values = {"facility": facility, "since": since, **({"in_transit": True} if in_transit else {}),
                            **wanted}
            item = Item("placements", sheet.source, row.number, "create", label, self.changes(None, shown_values))
            # letters: what the file's defendants row says wins over what a transfer implies
            letters = self.wanted_letters.get(id(handle))

            def transfer(applier: Any) -> None:
                applier.services.record_transfer(applier.session, handle.record, created, letters_status=letters,
                                                 expected_version=None, by=applier.user, now=applier.now)
            self.add(item, (STEP_PLACEMENTS, handle.slug, since, row.number), transfer)
            return
        self.correct(sheet, row, "placements", label, existing, wanted,
                     (STEP_PLACEMENTS, handle.slug, since, row.number))
