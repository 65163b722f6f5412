"""The dry run of the cases, courts and defendants sheets (part of planner.Planner)."""
from __future__ import annotations

from typing import Any

from flask_babel import gettext as _

from tracker.exchange.plan import (
    STEP_CASES, STEP_COURTS, STEP_DEFENDANTS, CaseHandle, CourtHandle, DefendantHandle, Item,
)
from tracker.exchange.reading import Row, Sheet
from tracker.exchange.values import make_slug, transliterate
from tracker.records.enums import LettersStatus
from tracker.records.models import Defendant


class RecordRows:
    """Cases, courts and defendants: what rows of other sheets refer to."""

    # cases ----------------------------------------------------------------------------------

    def plan_case(self, sheet: Sheet, row: Row) -> None:
        values, good = self.cells(sheet, row)
        slug = values.get("slug")
        if not good or slug is None or self.duplicate(sheet, row, ("case", slug), "slug"):
            return
        existing = self.cases_by_slug.get(slug)
        wanted = {k: (v if v is not None else ("" if k != "case_number" else None))
                  for k, v in values.items() if k in ("title", "title_original", "case_number", "description", "charges")}
        if existing is None:
            if self.allowed_cases is not None:
                self.problem(sheet, row, "slug", _("Your account is limited to some cases; an admin can add new ones."))
                return
            handle = self.case_handles.setdefault(slug, CaseHandle(slug))
            item = Item("cases", sheet.source, row.number, "create", f"{wanted.get('title')} ({slug})",
                        self.changes(None, {"slug": slug, **wanted}))

            def create(applier: Any) -> None:
                handle.created = applier.services.create_case(
                    applier.session, {"slug": slug, "description": "", "charges": "", **wanted},
                    by=applier.user, now=applier.now)
            self.add(item, (STEP_CASES, row.number), create)
            return
        if not self.may_edit(existing):
            self.problem(sheet, row, "slug", _("Your account may not edit this case."))
            return
        self.case_handles.setdefault(slug, CaseHandle(slug, existing=existing))
        changes = self.changes(existing, wanted)
        item = Item("cases", sheet.source, row.number, "update" if changes else "unchanged",
                    f"{existing.title} ({slug})", changes)

        def update(applier: Any) -> None:
            applier.services.update_case(applier.session, existing, wanted, expected_version=None,
                                         by=applier.user, now=applier.now)
        self.add(item, (STEP_CASES, row.number), update if changes else None)

    # courts ----------------------------------------------------------------------------------

    def plan_court(self, sheet: Sheet, row: Row) -> None:
        values, good = self.cells(sheet, row)
        name = values.get("name")
        if not good or name is None or self.duplicate(sheet, row, ("court", name), "name"):
            return
        existing = self.courts.get(name)
        if existing is not None:
            self.court_handles.setdefault(name, CourtHandle(name, existing.timezone, existing=existing))
            self.add(Item("courts", sheet.source, row.number, "unchanged", name), (STEP_COURTS, row.number), None)
            return
        handle = CourtHandle(name, values.get("timezone") or self.default_timezone,
                             address=values.get("address") or "", name_original=values.get("name_original") or "",
                             address_original=values.get("address_original") or "", planned=True)
        self.court_handles[name] = handle
        if handle.name_original:
            self.court_handles.setdefault(handle.name_original, handle)
        item = Item("courts", sheet.source, row.number, "create", name,
                    self.changes(None, {"name": name, "name_original": handle.name_original,
                                        "address": handle.address, "address_original": handle.address_original,
                                        "timezone": handle.timezone}))
        self.add(item, (STEP_COURTS, row.number), self._create_court(handle))

    # defendants -----------------------------------------------------------------------------

    DEFENDANT_COLUMNS = {
        "external_id": "external_id", "slug": "slug", "name_original": "name_original",
        "name_latin": "name_latin", "status": "status", "public": "is_public", "birth_date": "birth_date",
        "arrested_on": "arrested_on", "charges": "charges", "bio": "bio", "letters_address": "letters_address",
        "letters_address_original": "letters_address_original",
        "letters_status": "letters_status", "lawyer_contacts": "lawyer_contacts",
        "internal_notes": "internal_notes",
    }

    DEFENDANT_DEFAULTS = {"bio": "", "charges": "", "letters_address": "", "letters_address_original": "",
                          "lawyer_contacts": "",
                          "internal_notes": "", "letters_status": LettersStatus.UNKNOWN}

    def plan_defendant(self, sheet: Sheet, row: Row) -> None:
        values, good = self.cells(sheet, row)
        external_id = values.get("external_id")
        name_original = values.get("name_original")
        name_latin = values.get("name_latin") or (transliterate(name_original) if name_original else None)
        slug = values.get("slug") or (make_slug(name_latin) if name_latin else None)
        if not slug:
            if good:
                self.problem(sheet, row, "slug", _("Give a slug: none can be made from this name."))
            return
        existing = self.db_by_external.get(external_id) if external_id else None
        key_column = "external_id"
        if existing is None:
            key_column = "slug"
            existing = self.db_by_slug.get(slug)
            if existing is not None and external_id and existing.external_id not in (None, external_id) \
                    and self.may_edit(existing):
                self.problem(sheet, row, "slug", _("This slug belongs to a record with another external_id."))
                return
        elif values.get("slug") and values["slug"] != existing.slug and values["slug"] in self.db_by_slug:
            self.problem(sheet, row, "slug", _("This address is already used by another record."))
            return
        handle = DefendantHandle(slug=existing.slug if existing else slug, existing=existing, row=row,
                                 source=sheet.source, bad=not good)
        duplicate = self.duplicate(sheet, row, ("defendant", external_id or f"slug:{handle.slug}"),
                                   "external_id" if external_id else "slug")
        if not duplicate and external_id:
            duplicate = self.duplicate(sheet, row, ("defendant", f"slug:{handle.slug}"), "slug")
        if duplicate:
            return
        self.defendants_by_key[f"slug:{handle.slug}"] = handle
        self.handle_of_row[id(row)] = handle
        if values.get("slug"):
            self.defendants_by_key[f"slug:{values['slug']}"] = handle
        if external_id or (existing is not None and existing.external_id):
            self.defendants_by_key[f"id:{external_id or existing.external_id}"] = handle
        if existing is not None and not self.may_edit(existing):
            handle.bad, handle.editable = True, False
            self.problem(sheet, row, key_column,
                         _("Another record already uses this key, and your account may not edit it."))
            return
        cases = self._row_cases(sheet, row, values, existing)
        if not good or cases is False:
            handle.bad = True
            return
        wanted = {field: values[column] for column, field in self.DEFENDANT_COLUMNS.items() if column in values}
        for name, default in self.DEFENDANT_DEFAULTS.items():
            if name in wanted and wanted[name] is None:
                wanted[name] = default
        if wanted.get("status", 0) is None:
            wanted.pop("status")  # an empty status: the measures decide it, as when typing
        if wanted.get("is_public", 0) is None:
            wanted["is_public"] = True if existing is None else existing.is_public
        if existing is not None and values.get("slug") is None:
            wanted.pop("slug", None)  # matched on external_id: the address stays
        if existing is None:
            wanted.update(slug=slug, name_latin=name_latin)
        elif "name_latin" in wanted and wanted["name_latin"] is None:
            wanted["name_latin"] = name_latin
        if "status" in wanted:
            self.wanted_status[id(handle)] = wanted["status"]
        if "letters_status" in wanted:
            self.wanted_letters[id(handle)] = wanted["letters_status"]
        if existing is None:
            self._create_defendant(sheet, row, handle, wanted, cases)
        else:
            self._update_defendant(sheet, row, handle, wanted, cases)

    def _row_cases(self, sheet: Sheet, row: Row, values: dict, existing: Defendant | None) -> list | None | bool:
        """The cases a row names (None: column absent, keep them); False after a problem."""
        if "cases" not in values:
            if existing is None and self.allowed_cases is not None:
                self.problem(sheet, row, "cases", _("Choose one of your cases."))
                return False
            return None
        handles = []
        for text in values["cases"] or []:
            handle = self.case_ref(text)
            if handle is None:
                self.problem(sheet, row, "cases", _("Unknown case '%(case)s'.", case=text))
                return False
            if not self.case_allowed(handle):
                self.problem(sheet, row, "cases", _("Your account may not add records to the case '%(case)s'.",
                                                    case=text))
                return False
            handles.append(handle)
        if self.allowed_cases is not None and not handles and existing is None:
            self.problem(sheet, row, "cases", _("Choose one of your cases."))
            return False
        return handles

    def _create_defendant(self, sheet: Sheet, row: Row, handle: DefendantHandle, wanted: dict,
                          cases: list[CaseHandle] | None) -> None:
        case_slugs = [c.slug for c in cases or []]
        shown_values = {**wanted, "cases": case_slugs}
        item = Item("defendants", sheet.source, row.number, "create", f"{wanted['name_latin']} ({handle.slug})",
                    self.changes(None, shown_values))
        values = {**self.DEFENDANT_DEFAULTS, "is_public": True, **wanted}

        def create(applier: Any) -> None:
            handle.created = applier.services.create_defendant(
                applier.session, values, cases=[c.record for c in cases or []], by=applier.user, now=applier.now)
        self.add(item, (STEP_DEFENDANTS, sheet.source, row.number), create)

    def _update_defendant(self, sheet: Sheet, row: Row, handle: DefendantHandle, wanted: dict,
                          cases: list[CaseHandle] | None) -> None:
        person = handle.existing
        assert person is not None
        changes = self.changes(person, wanted)
        if cases is not None:
            kept = [c for c in person.cases if not self.may_edit(c)]
            before = sorted(c.slug for c in person.cases if c not in kept)
            after = sorted(c.slug for c in cases)
            if before != after:
                changes.append(("cases", ", ".join(before), ", ".join(after)))
            else:
                cases = None
        item = Item("defendants", sheet.source, row.number, "update" if changes else "unchanged",
                    f"{person.name_latin} ({person.slug})", changes)
        changed = {name for name, _before, _after in changes}
        values = {k: v for k, v in wanted.items() if k in changed}

        def update(applier: Any) -> None:
            new_cases = None
            if cases is not None:
                new_cases = [c.record for c in cases] + kept
            applier.services.update_defendant(applier.session, person, values, cases=new_cases,
                                              expected_version=None, by=applier.user, now=applier.now)
        self.add(item, (STEP_DEFENDANTS, sheet.source, row.number), update if changes else None)
