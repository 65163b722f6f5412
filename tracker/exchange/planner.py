"""Making a plan: the dry run of one workbook for one user, reading the database in a fixed
number of batched queries and writing nothing. The rows of each kind are planned by a part
of `Planner` of their own (plan_records.py, plan_custody.py, plan_hearings.py, plan_actions.py); this module
holds what they share: parsing cells, references to records, and loading in batches.
"""
from __future__ import annotations

from collections import defaultdict
from datetime import datetime
from typing import Any, Callable

import sqlalchemy as sa
from flask_babel import gettext as _
from sqlalchemy.orm import Session, selectinload

from tracker.access import can_edit
from tracker.auth.models import User
from tracker.exchange import columns as cols
from tracker.exchange.plan import STEP_COURTS, CaseHandle, CourtHandle, DefendantHandle, Item, Plan, Step, chunks, shown
from tracker.exchange.plan_actions import ActionRows
from tracker.exchange.plan_custody import CustodyRows
from tracker.exchange.plan_hearings import HearingRows
from tracker.exchange.plan_records import RecordRows
from tracker.exchange.reading import Problem, Row, Sheet, Workbook
from tracker.exchange.values import BadCell, is_empty, make_slug, parse_cell
from tracker.records.models import Case, Court, Defendant, Hearing, hearing_defendants


class Planner(RecordRows, CustodyRows, HearingRows, ActionRows):
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
        self.wanted_letters: dict[int, Any] = {}  # id(handle) -> the letters status its row gives
        self.actions_by_external: dict[str, Any] = {}  # filled by load_actions when there are action rows
        self.actions_by_key: dict[tuple, Any] = {}

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

    def correct(self, sheet: Sheet, row: Row, table: str, label: str, record: Any, wanted: dict[str, Any],
                order: tuple) -> None:
        """A row that matches a record already recorded about a defendant (a measure, decision or
        placement): the fields that differ are corrected (`services.correct_record`), or nothing changes."""
        changes = self.changes(record, wanted)
        item = Item(table, sheet.source, row.number, "update" if changes else "unchanged", label, changes)
        changed = {name: wanted[name] for name, _before, _after in changes}

        def update(applier: Any) -> None:
            applier.services.correct_record(applier.session, record, changed, expected_version=None,
                                            by=applier.user, now=applier.now)
        self.add(item, order, update if changes else None)

    def row_case(self, sheet: Sheet, row: Row, values: dict[str, Any]) -> CaseHandle | None | bool:
        """The case a row's `case` cell names (None: it names none); False after a problem."""
        if not values.get("case"):
            return None
        case = self.case_ref(values["case"])
        if case is None:
            self.problem(sheet, row, "case", _("Unknown case '%(case)s'.", case=values["case"]))
            return False
        return case

    # --- loading what the file refers to, in batches ---------------------------------------

    def load(self) -> None:
        slugs, external_ids = set(), set()
        hearing_ids = set()
        for sheet in self.book.sheets:
            for row in sheet.rows:
                for name in ("slug", "external_id", "defendant", "defendants"):
                    raw = row.cells.get(name)
                    if is_empty(raw) or (name == "external_id" and sheet.table in (cols.HEARINGS, cols.ACTIONS)):
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
            for chunk in chunks(wanted):
                for person in self.session.scalars(sa.select(Defendant).where(column.in_(chunk)).options(*options)):
                    found[person.id] = person
        self.db_by_slug = {d.slug: d for d in found.values()}
        self.db_by_external = {d.external_id: d for d in found.values() if d.external_id}
        self.cases_by_slug = {c.slug: c for c in self.session.scalars(sa.select(Case))}
        self.cases_by_title = {c.title.casefold(): c for c in self.cases_by_slug.values()}
        for case in self.cases_by_slug.values():  # a row may name its case in either script
            if case.title_original:
                self.cases_by_title.setdefault(case.title_original.casefold(), case)
        self.courts = {c.name: c for c in self.session.scalars(sa.select(Court))}
        for court in list(self.courts.values()):  # a hearing may name its court in either script
            if court.name_original:
                self.courts.setdefault(court.name_original, court)
        hearings: dict[int, Hearing] = {}
        for chunk in chunks(hearing_ids):
            for hearing in self.session.scalars(
                sa.select(Hearing).where(Hearing.external_id.in_(chunk)).options(selectinload(Hearing.defendants))
            ):
                hearings[hearing.id] = hearing
        for chunk in chunks([d.id for d in found.values()]):
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
        """Whether rows may be added to this case: any case, new ones too, for an importer not
        limited to some; otherwise one of theirs (`can_edit`)."""
        return self.allowed_cases is None or (handle.existing is not None and self.may_edit(handle.existing))

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
                applier.session, handle.name, address=handle.address, tz=handle.timezone,
                name_original=handle.name_original, address_original=handle.address_original, by=applier.user,
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
        if by_table["actions"]:
            self.load_actions()
        for table, method in (("placements", self.plan_placement), ("measures", self.plan_measure),
                              ("decisions", self.plan_decision), ("hearings", self.plan_hearing),
                              ("actions", self.plan_action)):
            for sheet in by_table[table]:
                for row in sheet.rows:
                    method(sheet, row)
        self.plan.items.sort(key=lambda i: (cols.TABLES.index(cols.TABLES_BY_NAME[i.table]), i.source, i.row))
        return self.plan


def make_plan(session: Session, book: Workbook, *, user: User | None, now: datetime,
              default_timezone: str = "Europe/Moscow") -> Plan:
    """The dry run of importing `book` as `user` at `now`: reads the database, writes nothing."""
    return Planner(session, book, user=user, now=now, default_timezone=default_timezone).make()
