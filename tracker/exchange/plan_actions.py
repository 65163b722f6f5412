"""The dry run of solidarity actions (part of planner.Planner).

An action is matched on its `external_id`, else on its title, city, country and start
together (an action announced twice is one action; a changed title or time without an
external_id is a new action, as with hearings). Rows are checked by the actions' own
rules (`logic.check_submission`: the place's zone, a local time the clocks skip, the end
after the start and within 31 days) and applied through `tracker.actions.logic`, so an
imported approval is audited and raises the action's version (its calendar SEQUENCE) as
an editor's review does.

Case limits follow `Action.in_cases`: a limited editor imports an action only when it is
for one of their cases or their defendants, names no defendant they may not edit (refused
as in the hearings table) and no case of others; an action matched in the tracker that
they may not review is refused without showing anything of it.
"""
from __future__ import annotations

from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from flask_babel import gettext as _
from sqlalchemy.orm import joinedload, selectinload

from tracker.actions import logic
from tracker.actions.models import Action, ActionStatus
from tracker.exchange.plan import STEP_ACTIONS, CaseHandle, DefendantHandle, Item, chunks, local_shown, shown
from tracker.exchange.reading import Row, Sheet
from tracker.exchange.values import is_empty
from tracker.records.models import Defendant

TEXTS = ("title", "description", "organiser", "city", "country", "address", "contact")
FORM_FIELDS = {"starts": "starts_at", "ends": "ends_at"}  # logic's errors name the form's fields


def action_key(title: str, city: str, country: str, starts_at: datetime) -> tuple:
    return ("action", title, city.casefold(), country, starts_at)


class ActionRows:
    """Solidarity actions, matched by external id or by title, place and start."""

    def load_actions(self) -> None:
        """The actions a file's rows may match: by their external_ids and titles, in batches."""
        external_ids, titles = set(), set()
        for sheet in self.book.sheets:
            if sheet.table.name != "actions":
                continue
            for row in sheet.rows:
                for name, found in (("external_id", external_ids), ("title", titles)):
                    if not is_empty(row.cells.get(name)):
                        found.add(str(row.cells[name]).strip().removesuffix(".0") if name == "external_id"
                                  else str(row.cells[name]).strip())
        loaded: dict[int, Action] = {}
        options = (selectinload(Action.defendants).selectinload(Defendant.cases), joinedload(Action.case))
        for column, wanted in ((Action.external_id, external_ids), (Action.title, titles)):
            for chunk in chunks(wanted):
                for action in self.session.scalars(sa.select(Action).where(column.in_(chunk)).options(*options)
                                                   ).unique():
                    loaded[action.id] = action
        self.actions_by_external = {a.external_id: a for a in loaded.values() if a.external_id}
        self.actions_by_key = {}
        for action in sorted(loaded.values(), key=lambda a: a.id):
            self.actions_by_key.setdefault(action_key(action.title, action.city, action.country, action.starts_at),
                                           action)

    def plan_action(self, sheet: Sheet, row: Row) -> None:
        values, good = self.cells(sheet, row)
        handles = self.owners(sheet, row, values)
        case = self.row_case(sheet, row, values)
        if not good or handles is None or case is False:
            return
        external_id = values.get("external_id")
        by_id = self.actions_by_external.get(external_id) if external_id else None
        if "timezone" in values:
            zone = values["timezone"]
        else:  # the column is not in the file: the action keeps its zone
            zone = by_id.timezone if by_id is not None else None
        try:
            checked = logic.check_submission(self.session, {
                **{name: values.get(name) or "" for name in TEXTS}, "timezone": zone,
                "starts": values["starts_at"], "ends": values["ends_at"]}, self.now, by_editor=True, in_file=True)
        except logic.ActionErrors as problem:
            for name, message in problem.errors.items():
                self.problem(sheet, row, FORM_FIELDS.get(name, name), message)
            return
        stored = checked.values
        key = action_key(stored["title"], stored["city"], stored["country"], stored["starts_at"])
        existing = by_id
        if existing is None:
            found = self.actions_by_key.get(key)
            if found is not None and (not external_id or found.external_id in (None, external_id)):
                existing = found
        key_column = "external_id" if external_id else "title"
        if self.duplicate(sheet, row, ("action", external_id) if external_id else key, key_column):
            return
        if existing is not None and not self.may_edit(existing):
            self.problem(sheet, row, key_column,
                         _("Another record already uses this key, and your account may not edit it."))
            return
        if case is not None and not self.case_allowed(case) and (
                existing is None or case.existing is None or case.existing.id != existing.case_id):
            self.problem(sheet, row, "case", _("Your account may not add records to the case '%(case)s'.",
                                               case=values["case"]))
            return
        if existing is None and self.allowed_cases is not None and case is None and not handles:
            self.problem(sheet, row, "case", _("Choose one of your cases."))
            return
        status = values.get("status")
        if existing is not None and status is ActionStatus.CANCELLED and \
                existing.status not in (ActionStatus.APPROVED, ActionStatus.CANCELLED):
            self.problem(sheet, row, "status", _("Only an approved action can be called off."))
            return
        label = f"{stored['title']}: {stored['city']}, {values['starts_at']:%Y-%m-%d %H:%M}"
        if existing is None:
            self._create_action(sheet, row, stored, values, case, handles, status or ActionStatus.PENDING,
                                external_id, label)
        else:
            self._update_action(sheet, row, existing, stored, values, case, handles, status, external_id, label)

    @staticmethod
    def _form_values(stored: dict, values: dict, case: CaseHandle | None,
                     defendants: list[Defendant]) -> dict[str, Any]:
        """What `logic` takes, as the editors' form sends it: local times, the case's and defendants' ids."""
        return {**{name: stored[name] for name in TEXTS}, "timezone": stored["timezone"],
                "starts": values["starts_at"], "ends": values["ends_at"],
                "case": case.record.id if case is not None else None, "defendants": [d.id for d in defendants]}

    def _create_action(self, sheet: Sheet, row: Row, stored: dict, values: dict, case: CaseHandle | None,
                       handles: list[DefendantHandle], status: ActionStatus, external_id: str | None,
                       label: str) -> None:
        shown_values = {"external_id": external_id, "status": status, **{n: stored[n] for n in TEXTS},
                        "timezone": stored["timezone"], "starts_at": values["starts_at"],
                        "ends_at": values["ends_at"], "case": case.slug if case else None,
                        "defendants": [h.slug for h in handles]}
        item = Item("actions", sheet.source, row.number, "create", label, self.changes(None, shown_values))

        def create(applier: Any) -> None:
            people = [h.record for h in handles]
            logic.create_action(applier.session, self._form_values(stored, values, case, people), status=status,
                                external_id=external_id, keep=people, by=applier.user, now=applier.now)
        self.add(item, (STEP_ACTIONS, sheet.source, row.number), create)

    def _update_action(self, sheet: Sheet, row: Row, action: Action, stored: dict, values: dict,
                       case: CaseHandle | None, handles: list[DefendantHandle], status: ActionStatus | None,
                       external_id: str | None, label: str) -> None:
        # a column the file does not have leaves that field alone
        stored = {**stored, **{name: getattr(action, name) for name in TEXTS if name not in values}}
        changes = self.changes(action, {name: stored[name] for name in (*TEXTS, "timezone")})
        zone = ZoneInfo(stored["timezone"])
        for name in ("starts_at", "ends_at"):
            if getattr(action, name) != stored[name]:
                changes.append((name, local_shown(getattr(action, name), zone), shown(values[name])))
        if "case" in values and (case.existing.id if case and case.existing else None) != action.case_id:
            changes.append(("case", action.case.slug if action.case else "", case.slug if case else ""))
        # defendants the importer may not edit stay, unseen
        kept = [d for d in action.defendants if not self.may_edit(d)]
        if "defendants" in values:
            before = sorted(d.slug for d in action.defendants if d not in kept)
            after = sorted(h.slug for h in handles)
            if before != after:
                changes.append(("defendants", ", ".join(before), ", ".join(after)))
        if external_id and external_id != action.external_id:
            changes.append(("external_id", shown(action.external_id), external_id))
        fields_changed = bool(changes)
        if status is not None and status is not action.status:
            changes.append(("status", action.status.value, status.value))
        item = Item("actions", sheet.source, row.number, "update" if changes else "unchanged", label, changes)

        def update(applier: Any) -> None:
            new_case = (case if "case" in values else None)
            people = [h.record for h in handles] if "defendants" in values else \
                [d for d in action.defendants if d not in kept]
            form = self._form_values(stored, values, new_case, [*people, *kept])
            if "case" not in values:
                form["case"] = action.case_id
            approve = status is ActionStatus.APPROVED and action.status is not ActionStatus.APPROVED
            if fields_changed or approve:
                logic.update_action(applier.session, action, form, expected_version=None, by=applier.user,
                                    now=applier.now, approve=approve, external_id=external_id, keep=people)
            if status is not None and status not in (action.status, ActionStatus.APPROVED):
                logic.set_status(applier.session, action, status, expected_version=None, by=applier.user,
                                 now=applier.now)
        self.add(item, (STEP_ACTIONS, sheet.source, row.number), update if changes else None)
