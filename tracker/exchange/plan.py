"""The dry run: what an import would create, update and leave alone, and every bad row.

`make_plan` reads the database (a fixed number of batched queries, whatever the file's
size) and writes nothing. The plan it returns lists one item per row that is fine and
one problem per bad cell; `Plan.digest` fingerprints exactly what the editor was shown,
so a confirmation is refused when the plan made again at that moment differs. Applying
it (`tracker.exchange.apply`) goes through the editing services, record by record.

Privacy: a row that matches a record the importer may not edit gets a problem that
names no data of that record, so a hidden defendant stays hidden from the editors who
may not see it.
"""
from __future__ import annotations

import hashlib
import json
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, timezone
from typing import Any, Callable, Iterable
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from flask_babel import gettext as _
from sqlalchemy.orm import Session, selectinload

from tracker.auth.models import User
from tracker.access import can_edit
from tracker.exchange import columns as cols
from tracker.exchange.reading import Problem, Row, Sheet, Workbook
from tracker.exchange.values import BadCell, is_empty, make_slug, parse_cell, transliterate
from tracker.records.custody import current_measure, custody_chain
from tracker.records.enums import HearingKind, HearingStatus, Instance, LettersStatus
from tracker.records.models import Case, Court, Defendant, Hearing, hearing_defendants

# The order in which an import applies its changes: what a row refers to exists first.
STEP_CASES, STEP_COURTS, STEP_DEFENDANTS, STEP_PLACEMENTS, STEP_MEASURES, STEP_DECISIONS, STEP_STATUS, \
    STEP_HEARINGS = range(8)
CHUNK = 500  # ids per IN (...) list


@dataclass
class Item:
    """One row that can be imported, as the dry run shows it."""

    table: str
    source: str
    row: int
    action: str  # "create", "update", "extend" or "unchanged"
    label: str
    changes: list[tuple[str, str, str]] = field(default_factory=list)  # (field, before, after)


@dataclass
class Step:
    order: tuple
    run: Callable[[Any], None]  # called with the Applier
    item: Item | None


@dataclass
class Plan:
    items: list[Item] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    steps: list[Step] = field(default_factory=list)
    rows: int = 0

    @property
    def ok(self) -> bool:
        return not self.problems

    @property
    def changes(self) -> int:
        return sum(1 for i in self.items if i.action != "unchanged")

    def counts(self) -> dict[str, dict[str, int]]:
        result: dict[str, dict[str, int]] = {}
        for item in self.items:
            per_table = result.setdefault(item.table, {"create": 0, "update": 0, "unchanged": 0})
            per_table["update" if item.action == "extend" else item.action] += 1
        return result

    @property
    def digest(self) -> str:
        """A fingerprint of everything the dry run shows: the same digest means the same dry run."""
        shown = {
            "items": [[i.table, i.source, i.row, i.action, i.label, i.changes] for i in self.items],
            "problems": [[p.source, p.row, p.column, p.message] for p in self.problems],
            "notes": self.notes,
        }
        return hashlib.sha256(json.dumps(shown, ensure_ascii=False, sort_keys=True).encode()).hexdigest()

    def ordered_steps(self) -> list[Step]:
        return sorted(self.steps, key=lambda s: s.order)


@dataclass(eq=False)
class DefendantHandle:
    """A defendant an import refers to: already in the tracker, or created by a row of the file."""

    slug: str
    existing: Defendant | None = None
    row: Row | None = None
    source: str = ""
    bad: bool = False  # its row has problems: rows referring to it report that
    editable: bool = True
    created: Defendant | None = None

    @property
    def record(self) -> Defendant:
        found = self.existing or self.created
        assert found is not None, f"defendant {self.slug} used before it was created"
        return found


@dataclass
class CaseHandle:
    slug: str
    existing: Case | None = None
    created: Case | None = None

    @property
    def record(self) -> Case:
        found = self.existing or self.created
        assert found is not None
        return found


@dataclass
class CourtHandle:
    name: str
    timezone: str
    address: str = ""
    existing: Court | None = None
    created: Court | None = None
    planned: bool = False  # its creation is already an item of the plan

    @property
    def record(self) -> Court:
        found = self.existing or self.created
        assert found is not None
        return found


def shown(value: Any) -> str:
    """A value as the dry run shows it (and as the export writes it)."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if hasattr(value, "value") and not isinstance(value, (int, float)):
        return str(value.value)
    if isinstance(value, datetime):
        return value.strftime("%Y-%m-%d %H:%M")
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, (list, tuple, set, frozenset)):
        return ", ".join(sorted(str(v) for v in value))
    return str(value)


def _chunks(values: Iterable, size: int = CHUNK) -> Iterable[list]:
    values = list(values)
    for start in range(0, len(values), size):
        yield values[start:start + size]


class Planner:
    """Builds a Plan from a Workbook for one user; reads the database, never writes."""

    def __init__(self, session: Session, book: Workbook, *, user: User | None, now: datetime,
                 default_timezone: str = "Europe/Moscow") -> None:
        self.session, self.book, self.user, self.now = session, book, user, now
        self.today = now.date()
        self.default_timezone = default_timezone
        self.plan = Plan(problems=list(book.problems), notes=list(book.notes), rows=book.row_count)
        # the cases the importer may edit; None: every case (an admin, or the command line without --as)
        self.allowed_cases: frozenset[int] | None = user.case_ids if user is not None else None
        self.defendants_by_key: dict[str, DefendantHandle] = {}  # external_id or slug -> handle (file rows)
        self.case_handles: dict[str, CaseHandle] = {}
        self.court_handles: dict[str, CourtHandle] = {}
        self.seen: dict[tuple, int] = {}
        self.handle_of_row: dict[int, DefendantHandle] = {}  # id(row) -> the defendant it creates or updates
        self.wanted_status: dict[int, Any] = {}  # id(handle) -> the status its row gives

    # --- helpers ------------------------------------------------------------------------

    def may_edit(self, thing: Any) -> bool:
        if self.user is None:  # the command line without --as: the operator of the instance
            return True
        return can_edit(self.user, thing)

    def problem(self, sheet: Sheet, row: Row, column: str | None, message: str) -> None:
        self.plan.problems.append(Problem(sheet.source, row.number, column, message))

    def cells(self, sheet: Sheet, row: Row) -> tuple[dict[str, Any], bool]:
        """Parsed values of the row's non-empty cells (empty present ones as None); False if any was bad."""
        values: dict[str, Any] = {}
        good = True
        for name in sheet.columns:
            column = sheet.table.column(name)
            raw = row.cells.get(name)
            if is_empty(raw):
                if column.required:
                    self.problem(sheet, row, name, _("This cell is required."))
                    good = False
                values[name] = None
                continue
            try:
                values[name] = parse_cell(raw, column, self.today)
            except BadCell as error:
                self.problem(sheet, row, name, str(error))
                good = False
        return values, good

    def duplicate(self, sheet: Sheet, row: Row, key: tuple, column: str | None) -> bool:
        first = self.seen.get(key)
        if first is not None:
            self.problem(sheet, row, column, _("Row %(row)d already has this record.", row=first))
            return True
        self.seen[key] = row.number
        return False

    def add(self, item: Item | None, order: tuple, run: Callable[[Any], None] | None) -> None:
        if item is not None:
            self.plan.items.append(item)
        if run is not None:
            self.plan.steps.append(Step(order, run, item))

    def changes(self, record: Any, wanted: dict[str, Any]) -> list[tuple[str, str, str]]:
        found = []
        for name, value in wanted.items():
            if record is None and value in (None, "", []):
                continue  # a new record: only what it will have
            before = getattr(record, name) if record is not None else None
            if record is None or before != value:
                found.append((name, shown(before) if record is not None else "", shown(value)))
        return found

    # --- loading what the file refers to, in batches ---------------------------------------

    def load(self) -> None:
        slugs, external_ids = set(), set()
        hearing_ids = set()
        for sheet in self.book.sheets:
            for row in sheet.rows:
                for name in ("slug", "external_id", "defendant", "defendants"):
                    raw = row.cells.get(name)
                    if is_empty(raw) or (name == "external_id" and sheet.table is cols.HEARINGS):
                        continue
                    for piece in str(raw).replace(";", ",").replace("\n", ",").split(","):
                        piece = " ".join(piece.split())
                        if piece.endswith(".0") and piece[:-2].isdigit():
                            piece = piece[:-2]
                        (slugs if name == "slug" else external_ids).add(piece)
                        if name in ("defendant", "defendants"):
                            slugs.add(piece)
                if sheet.table is cols.DEFENDANTS and is_empty(row.cells.get("slug")):
                    name = row.cells.get("name_latin") or row.cells.get("name_original")
                    if not is_empty(name):
                        slugs.add(make_slug(str(name)))
                if sheet.table is cols.HEARINGS and not is_empty(row.cells.get("external_id")):
                    hearing_ids.add(" ".join(str(row.cells["external_id"]).split()).removesuffix(".0"))
        options = (selectinload(Defendant.cases), selectinload(Defendant.measures),
                   selectinload(Defendant.decisions), selectinload(Defendant.placements))
        found: dict[int, Defendant] = {}
        for column, wanted in ((Defendant.slug, slugs), (Defendant.external_id, external_ids)):
            for chunk in _chunks(wanted):
                for person in self.session.scalars(sa.select(Defendant).where(column.in_(chunk)).options(*options)):
                    found[person.id] = person
        self.db_by_slug = {d.slug: d for d in found.values()}
        self.db_by_external = {d.external_id: d for d in found.values() if d.external_id}
        self.cases_by_slug = {c.slug: c for c in self.session.scalars(sa.select(Case))}
        self.cases_by_title = {c.title.casefold(): c for c in self.cases_by_slug.values()}
        self.courts = {c.name: c for c in self.session.scalars(sa.select(Court))}
        hearings: dict[int, Hearing] = {}
        for chunk in _chunks(hearing_ids):
            for hearing in self.session.scalars(
                sa.select(Hearing).where(Hearing.external_id.in_(chunk)).options(selectinload(Hearing.defendants))
            ):
                hearings[hearing.id] = hearing
        for chunk in _chunks([d.id for d in found.values()]):
            ids = sa.select(hearing_defendants.c.hearing_id).where(hearing_defendants.c.defendant_id.in_(chunk))
            for hearing in self.session.scalars(
                sa.select(Hearing).where(Hearing.id.in_(ids)).options(selectinload(Hearing.defendants))
            ):
                hearings[hearing.id] = hearing
        self.hearings_by_external = {h.external_id: h for h in hearings.values() if h.external_id}
        self.hearings_by_place: dict[tuple[int, datetime, int], Hearing] = {}
        for hearing in hearings.values():
            for person in hearing.defendants:
                self.hearings_by_place.setdefault((hearing.court_id, hearing.starts_at, person.id), hearing)

    # --- references --------------------------------------------------------------------------

    def defendant_ref(self, text: str) -> DefendantHandle | None:
        """A defendant named by external_id or slug: a row of this file first, then the tracker.

        One the importer may not edit and that is not public is not found, as if it did not exist.
        """
        handle = self.defendants_by_key.get(f"id:{text}") or self.defendants_by_key.get(f"slug:{text}")
        if handle is not None:
            return handle
        person = self.db_by_external.get(text) or self.db_by_slug.get(text)
        if person is None:
            return None
        editable = self.may_edit(person)
        if not editable and not person.is_public:
            return None
        handle = DefendantHandle(slug=person.slug, existing=person, editable=editable)
        self.defendants_by_key[f"slug:{person.slug}"] = handle
        if person.external_id:
            self.defendants_by_key[f"id:{person.external_id}"] = handle
        return handle

    def case_ref(self, text: str) -> CaseHandle | None:
        handle = self.case_handles.get(text)
        if handle is not None:
            return handle
        case = self.cases_by_slug.get(text) or self.cases_by_title.get(text.casefold())
        if case is None:
            return None
        return self.case_handles.setdefault(case.slug, CaseHandle(case.slug, existing=case))

    def case_allowed(self, handle: CaseHandle) -> bool:
        if self.allowed_cases is None:
            return True
        return handle.existing is not None and handle.existing.id in self.allowed_cases

    def court_ref(self, name: str, sheet: Sheet, row: Row) -> CourtHandle:
        """A court by name; one the tracker does not have is created, once, with the default zone."""
        handle = self.court_handles.get(name)
        if handle is None:
            existing = self.courts.get(name)
            handle = CourtHandle(name, existing.timezone if existing else self.default_timezone, existing=existing)
            self.court_handles[name] = handle
        if handle.existing is None and not handle.planned:
            handle.planned = True
            item = Item("courts", sheet.source, row.number, "create", name,
                        [("name", "", name), ("timezone", "", handle.timezone)])
            self.add(item, (STEP_COURTS, row.number), self._create_court(handle))
        return handle

    def _create_court(self, handle: CourtHandle) -> Callable[[Any], None]:
        def run(applier: Any) -> None:
            handle.created = applier.services.get_or_create_court(
                applier.session, handle.name, address=handle.address, tz=handle.timezone, by=applier.user,
                now=applier.now)
        return run

    # --- the tables -----------------------------------------------------------------------------

    def make(self) -> Plan:
        self.load()
        by_table: dict[str, list[Sheet]] = defaultdict(list)
        for sheet in self.book.sheets:
            by_table[sheet.table.name].append(sheet)
        # cases and courts first, so rows of other tables can refer to the new ones
        for table, method in (("cases", self.plan_case), ("courts", self.plan_court),
                              ("defendants", self.plan_defendant)):
            for sheet in by_table[table]:
                for row in sheet.rows:
                    method(sheet, row)
        for sheet in by_table["defendants"]:
            for row in sheet.rows:
                self.plan_shorthand(sheet, row)
        for table, method in (("placements", self.plan_placement), ("measures", self.plan_measure),
                              ("decisions", self.plan_decision), ("hearings", self.plan_hearing)):
            for sheet in by_table[table]:
                for row in sheet.rows:
                    method(sheet, row)
        self.plan.items.sort(key=lambda i: (cols.TABLES.index(cols.TABLES_BY_NAME[i.table]), i.source, i.row))
        return self.plan

    # cases ----------------------------------------------------------------------------------

    def plan_case(self, sheet: Sheet, row: Row) -> None:
        values, good = self.cells(sheet, row)
        slug = values.get("slug")
        if not good or slug is None or self.duplicate(sheet, row, ("case", slug), "slug"):
            return
        existing = self.cases_by_slug.get(slug)
        wanted = {k: (v if v is not None else ("" if k != "case_number" else None))
                  for k, v in values.items() if k in ("title", "case_number", "description", "charges")}
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
                             address=values.get("address") or "", planned=True)
        self.court_handles[name] = handle
        item = Item("courts", sheet.source, row.number, "create", name,
                    self.changes(None, {"name": name, "address": handle.address, "timezone": handle.timezone}))
        self.add(item, (STEP_COURTS, row.number), self._create_court(handle))

    # defendants -----------------------------------------------------------------------------

    DEFENDANT_COLUMNS = {
        "external_id": "external_id", "slug": "slug", "name_original": "name_original",
        "name_latin": "name_latin", "status": "status", "public": "is_public", "birth_date": "birth_date",
        "arrested_on": "arrested_on", "charges": "charges", "bio": "bio", "letters_address": "letters_address",
        "letters_status": "letters_status", "lawyer_contacts": "lawyer_contacts",
        "internal_notes": "internal_notes",
    }
    DEFENDANT_DEFAULTS = {"bio": "", "charges": "", "letters_address": "", "lawyer_contacts": "",
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
            kept = [c for c in person.cases if self.allowed_cases is not None and c.id not in self.allowed_cases]
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
            applier.services.update_measure(applier.session, current, {"until": until}, expected_version=None,
                                            by=applier.user, now=applier.now)
        self.add(item, (STEP_MEASURES, handle.slug, current.starts_on, row.number), correct)

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
        starts_at = local.replace(tzinfo=ZoneInfo(court.timezone)).astimezone(timezone.utc)
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
        changes = self.changes(existing, wanted)
        item = Item("measures", sheet.source, row.number, "update" if changes else "unchanged", label, changes)
        changed = {c[0] for c in changes}

        def update(applier: Any) -> None:
            applier.services.update_measure(applier.session, existing,
                                            {k: v for k, v in wanted.items() if k in changed},
                                            expected_version=None, by=applier.user, now=applier.now)
        self.add(item, (STEP_MEASURES, handle.slug, starts_on, row.number), update if changes else None)

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
        case = None
        if values.get("case"):
            case = self.case_ref(values["case"])
            if case is None:
                self.problem(sheet, row, "case", _("Unknown case '%(case)s'.", case=values["case"]))
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
        changes = self.changes(existing, wanted)
        item = Item("decisions", sheet.source, row.number, "update" if changes else "unchanged", label, changes)
        changed = {c[0] for c in changes}

        def update(applier: Any) -> None:
            applier.services.update_decision(applier.session, existing,
                                             {k: v for k, v in wanted.items() if k in changed},
                                             expected_version=None, by=applier.user, now=applier.now)
        self.add(item, (STEP_DECISIONS, handle.slug, decided_on, row.number), update if changes else None)

    def plan_placement(self, sheet: Sheet, row: Row) -> None:
        values, good = self.cells(sheet, row)
        handle = self.owner(sheet, row, values)
        if not good or handle is None:
            return
        facility, since = values["facility"], values["since"]
        if self.duplicate(sheet, row, ("placement", id(handle), since, facility), "since"):
            return
        wanted = {k: (v if v is not None or k in ("source_url", "source_checked_on") else "")
                  for k, v in values.items() if k in ("note", "source_url", "source_checked_on")}
        label = f"{handle.slug}: {facility}, {since.isoformat()}"
        person = handle.existing
        existing = None
        if person is not None:
            existing = next((p for p in person.placements if p.since == since and p.facility == facility), None)
        if existing is None:
            latest = max((p.since for p in person.placements), default=None) if person is not None else None
            if latest is not None and since < latest:
                self.problem(sheet, row, "since", _("A transfer cannot come before the current placement "
                                                    "(%(day)s).", day=latest.isoformat()))
                return
            created = {"note": "", **wanted, "facility": facility, "since": since}
            item = Item("placements", sheet.source, row.number, "create", label,
                        self.changes(None, {"facility": facility, "since": since, **wanted}))

            def transfer(applier: Any) -> None:
                applier.services.record_transfer(applier.session, handle.record, created, expected_version=None,
                                                 by=applier.user, now=applier.now)
            self.add(item, (STEP_PLACEMENTS, handle.slug, since, row.number), transfer)
            return
        changes = self.changes(existing, wanted)
        item = Item("placements", sheet.source, row.number, "update" if changes else "unchanged", label, changes)
        changed = {c[0] for c in changes}

        def update(applier: Any) -> None:
            applier.services.update_placement(applier.session, existing,
                                              {k: v for k, v in wanted.items() if k in changed},
                                              expected_version=None, by=applier.user, now=applier.now)
        self.add(item, (STEP_PLACEMENTS, handle.slug, since, row.number), update if changes else None)

    # hearings -----------------------------------------------------------------------------------

    HEARING_COLUMNS = {"kind": "kind", "status": "status", "duration_minutes": "duration_minutes",
                       "courtroom": "courtroom", "judge": "judge", "open": "is_open",
                       "video_link_note": "video_link_note", "outcome_note": "outcome_note",
                       "source_url": "source_url", "source_checked_on": "source_checked_on",
                       "external_id": "external_id"}
    HEARING_DEFAULTS = {"kind": HearingKind.OTHER, "status": HearingStatus.SCHEDULED, "duration_minutes": 120,
                        "courtroom": "", "judge": "", "is_open": True, "video_link_note": "", "outcome_note": ""}

    def plan_hearing(self, sheet: Sheet, row: Row) -> None:
        values, good = self.cells(sheet, row)
        handles = []
        for text in values.get("defendants") or []:
            handle = self.owner(sheet, row, {"defendants": text}, "defendants")
            if handle is None:
                good = False
            else:
                handles.append(handle)
        if not good:
            return
        if values.get("duration_minutes") == 0:
            self.problem(sheet, row, "duration_minutes", _("Enter 1 to 1440 minutes."))
            return
        case = None
        if values.get("case"):
            case = self.case_ref(values["case"])
            if case is None:
                self.problem(sheet, row, "case", _("Unknown case '%(case)s'.", case=values["case"]))
                return
        court = self.court_ref(values["court"], sheet, row)
        local: datetime = values["starts_at"]
        starts_at = local.replace(tzinfo=ZoneInfo(court.timezone)).astimezone(timezone.utc)
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
            before = hearing.starts_at.astimezone(hearing.court.tz)
            changes.append(("starts_at", shown(before), shown(local)))
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


def make_plan(session: Session, book: Workbook, *, user: User | None, now: datetime,
              default_timezone: str = "Europe/Moscow") -> Plan:
    """The dry run of importing `book` as `user` at `now`: reads the database, writes nothing."""
    return Planner(session, book, user=user, now=now, default_timezone=default_timezone).make()

