"""The dry run of hearings (also the defendants sheet's next-hearing columns; part of planner.Planner)."""
from __future__ import annotations

from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from flask_babel import gettext as _

from tracker.exchange.plan import STEP_HEARINGS, CaseHandle, CourtHandle, DefendantHandle, Item, local_shown, shown
from tracker.exchange.reading import Row, Sheet
from tracker.exchange.values import BadCell, is_empty, parse_cell
from tracker.records import wallclock
from tracker.records.enums import HearingKind, HearingStatus
from tracker.records.models import Hearing


class HearingRows:
    """Hearings, matched by external id or by court, time and defendant."""

    def plan_next_hearing(self, sheet: Sheet, row: Row, handle: DefendantHandle) -> None:
        table = sheet.table
        try:
            raw_start, raw_court = row.cells.get("next_hearing"), row.cells.get("next_hearing_court")
            local = None if is_empty(raw_start) else parse_cell(raw_start, table.column("next_hearing"), self.today)
            court_name = None if is_empty(raw_court) else parse_cell(raw_court, table.column("next_hearing_court"),
                                                                     self.today)
        except BadCell as error:
            self.problem(sheet, row, "next_hearing", str(error))
            return
        if local is None:
            self.problem(sheet, row, "next_hearing", _("Give the date and time of the hearing."))
            return
        if court_name is None:
            self.problem(sheet, row, "next_hearing_court", _("Name the court of the hearing."))
            return
        court = self.court_ref(court_name, sheet, row)
        starts_at = self._instant(sheet, row, "next_hearing", local, court)
        if starts_at is None:
            return
        label = f"{handle.slug}: {court_name}, {local:%Y-%m-%d %H:%M}"
        person = handle.existing
        if person is not None and court.existing is not None and \
                (court.existing.id, starts_at, person.id) in self.hearings_by_place:
            self.add(Item("hearings", sheet.source, row.number, "unchanged", label), (STEP_HEARINGS,), None)
            return
        if self.duplicate(sheet, row, ("hearing", court_name, starts_at, id(handle)), "next_hearing"):
            return
        item = Item("hearings", sheet.source, row.number, "create", label,
                    self.changes(None, {"defendants": [handle.slug], "court": court_name, "starts_at": local}))

        def create(applier: Any) -> None:
            person = handle.record
            case = person.cases[0] if len(person.cases) == 1 else None
            applier.services.create_hearing(
                applier.session,
                applier.services.HearingData(court=court.record, starts_at=starts_at, defendants=[person], case=case),
                by=applier.user, now=applier.now)
        self.add(item, (STEP_HEARINGS, sheet.source, row.number), create)

    # hearings -----------------------------------------------------------------------------------

    HEARING_COLUMNS = {"kind": "kind", "status": "status", "duration_minutes": "duration_minutes",
                       "courtroom": "courtroom", "seats": "seats", "judge": "judge", "open": "is_open",
                       "video_link_note": "video_link_note", "outcome_note": "outcome_note",
                       "source_url": "source_url", "source_checked_on": "source_checked_on",
                       "external_id": "external_id"}

    HEARING_DEFAULTS = {"kind": HearingKind.OTHER, "status": HearingStatus.SCHEDULED, "duration_minutes": 120,
                        "courtroom": "", "seats": None, "judge": "", "is_open": True, "video_link_note": "", "outcome_note": ""}

    def plan_hearing(self, sheet: Sheet, row: Row) -> None:
        values, good = self.cells(sheet, row)
        handles = self.owners(sheet, row, values)
        if not good or handles is None:
            return
        if values.get("duration_minutes") == 0:
            self.problem(sheet, row, "duration_minutes", _("Enter 1 to 1440 minutes."))
            return
        case = self.row_case(sheet, row, values)
        if case is False:
            return
        court = self.court_ref(values["court"], sheet, row)
        local: datetime = values["starts_at"]
        starts_at = self._instant(sheet, row, "starts_at", local, court)
        if starts_at is None:
            return
        external_id = values.get("external_id")
        existing = self.hearings_by_external.get(external_id) if external_id else None
        if existing is None and court.existing is not None:
            for handle in handles:
                if handle.existing is not None:
                    found = self.hearings_by_place.get((court.existing.id, starts_at, handle.existing.id))
                    if found is not None and (not external_id or found.external_id in (None, external_id)):
                        existing = found
                        break
        key = ("hearing", external_id) if external_id else ("hearing", values["court"], starts_at, id(handles[0]))
        if self.duplicate(sheet, row, key, "external_id" if external_id else "starts_at"):
            return
        label = f"{', '.join(h.slug for h in handles)}: {values['court']}, {local:%Y-%m-%d %H:%M}"
        wanted = {field: values[column] for column, field in self.HEARING_COLUMNS.items() if column in values}
        for name, default in self.HEARING_DEFAULTS.items():
            if name in wanted and wanted[name] is None:
                wanted[name] = default
        if existing is None:
            if case is not None and not self.case_allowed(case):
                self.problem(sheet, row, "case", _("Your account may not add records to the case '%(case)s'.",
                                                   case=values["case"]))
                return
            self._create_hearing(sheet, row, handles, court, starts_at, local, case, wanted, label)
        else:
            if not self.may_edit(existing):
                self.problem(sheet, row, "external_id" if external_id else "starts_at",
                             _("Another record already uses this key, and your account may not edit it."))
                return
            if case is not None and case.existing is not None and case.existing.id != existing.case_id \
                    and not self.case_allowed(case):
                self.problem(sheet, row, "case", _("Your account may not add records to the case '%(case)s'.",
                                                   case=values["case"]))
                return
            self._update_hearing(sheet, row, existing, handles, court, starts_at, local, case, wanted, label,
                                 "case" in values)

    def _instant(self, sheet: Sheet, row: Row, column: str, local: datetime, court: CourtHandle) -> datetime | None:
        """The hearing's instant from the court's wall time; a time the court's clocks skip or
        repeat (without the offset that tells which) is refused on its cell (tracker.records.wallclock)."""
        try:
            return wallclock.to_utc(local, ZoneInfo(court.timezone))
        except wallclock.LocalTimeError as error:
            self.problem(sheet, row, column, error.message(in_file=True))
            return None

    def _create_hearing(self, sheet: Sheet, row: Row, handles: list[DefendantHandle], court: CourtHandle,
                        starts_at: datetime, local: datetime, case: CaseHandle | None, wanted: dict,
                        label: str) -> None:
        shown_values = {"defendants": [h.slug for h in handles], "court": court.name, "starts_at": local, **wanted}
        if case is not None:
            shown_values["case"] = case.slug
        item = Item("hearings", sheet.source, row.number, "create", label, self.changes(None, shown_values))
        values = {**self.HEARING_DEFAULTS, **wanted}

        def create(applier: Any) -> None:
            data = applier.services.HearingData(court=court.record, starts_at=starts_at,
                                                defendants=[h.record for h in handles],
                                                case=case.record if case else None, values=values)
            applier.services.create_hearing(applier.session, data, by=applier.user, now=applier.now)
        self.add(item, (STEP_HEARINGS, sheet.source, row.number), create)

    def _update_hearing(self, sheet: Sheet, row: Row, hearing: Hearing, handles: list[DefendantHandle],
                        court: CourtHandle, starts_at: datetime, local: datetime, case: CaseHandle | None,
                        wanted: dict, label: str, case_given: bool) -> None:
        changes = self.changes(hearing, wanted)
        if court.existing is None or court.existing.id != hearing.court_id:
            changes.append(("court", hearing.court.name, court.name))
        if hearing.starts_at != starts_at:
            changes.append(("starts_at", local_shown(hearing.starts_at, hearing.court.tz), shown(local)))
        if case_given and (case.existing.id if case and case.existing else None) != hearing.case_id:
            changes.append(("case", hearing.case.slug if hearing.case else "", case.slug if case else ""))
        # co-defendants the importer may not edit stay, unseen
        kept = [d for d in hearing.defendants if not self.may_edit(d)]
        before = sorted(d.slug for d in hearing.defendants if d not in kept)
        after = sorted(h.slug for h in handles)
        if before != after:
            changes.append(("defendants", ", ".join(before), ", ".join(after)))
        item = Item("hearings", sheet.source, row.number, "update" if changes else "unchanged", label, changes)
        changed = {c[0] for c in changes}
        values = {k: v for k, v in wanted.items() if k in changed}

        def update(applier: Any) -> None:
            new_case = (case.record if case else None) if case_given else hearing.case
            data = applier.services.HearingData(court=court.record, starts_at=starts_at,
                                                defendants=[h.record for h in handles] + kept, case=new_case,
                                                values=values)
            applier.services.update_hearing(applier.session, hearing, data, expected_version=None,
                                            by=applier.user, now=applier.now)
        self.add(item, (STEP_HEARINGS, sheet.source, row.number), update if changes else None)
