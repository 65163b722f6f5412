"""The admins' full export, and the empty template editors fill in.

The export is one .xlsx workbook, a sheet per table of `tracker.exchange.columns`, with
everything the records hold, private fields and hidden defendants included: a backup,
and the way to move to another instance, since the import reads it back unchanged.
Not included: accounts, subscriptions, attendance sign-ups and the audit history (see docs/import.md).
"""
from __future__ import annotations

import csv
import io
from datetime import date, datetime
from typing import Any, Iterable

import sqlalchemy as sa
from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
from openpyxl.styles import Font
from sqlalchemy.orm import Session, selectinload

from tracker.actions.models import Action
from tracker.exchange import columns as cols
from tracker.exchange.plan import shown
from tracker.records.models import Case, Court, CustodyMeasure, Decision, Defendant, Hearing, Placement

EXPORT_COLUMNS: dict[str, list[str]] = {
    table.name: [c.name for c in table.columns
                 if not (table is cols.DEFENDANTS and c.name.startswith(("custody", "next_hearing")))]
    for table in cols.TABLES
}


def _cell(sheet: Any, value: Any, bold: bool = False) -> WriteOnlyCell:
    """A cell that is what it says: a text starting with '=' stays text, never a formula."""
    if isinstance(value, (date, datetime)) and not isinstance(value, datetime):
        cell = WriteOnlyCell(sheet, value=value)
        cell.number_format = "yyyy-mm-dd"
        return cell
    if isinstance(value, int) and not isinstance(value, bool):
        return WriteOnlyCell(sheet, value=value)
    text = ILLEGAL_CHARACTERS_RE.sub("", shown(value))
    cell = WriteOnlyCell(sheet, value=text)
    cell.data_type = "s"
    if bold:
        cell.font = Font(bold=True)
    return cell


def _rows(session: Session) -> dict[str, Iterable[dict[str, Any]]]:
    """Every record as export rows, table by table, in a fixed number of queries."""
    defendants = session.scalars(
        sa.select(Defendant).order_by(Defendant.slug).options(
            selectinload(Defendant.cases), selectinload(Defendant.measures), selectinload(Defendant.decisions),
            selectinload(Defendant.placements))
    ).all()
    hearings = session.scalars(
        sa.select(Hearing).order_by(Hearing.starts_at, Hearing.id)
        .options(selectinload(Hearing.defendants), selectinload(Hearing.case))
    ).all()
    cases = session.scalars(sa.select(Case).order_by(Case.slug)).all()
    courts = session.scalars(sa.select(Court).order_by(Court.name)).all()
    actions = session.scalars(sa.select(Action).order_by(Action.starts_at, Action.id)
                              .options(selectinload(Action.defendants), selectinload(Action.case))).all()

    def measure(m: CustodyMeasure, slug: str) -> dict[str, Any]:
        return {"defendant": slug, "kind": m.kind, "starts_on": m.starts_on, "until": m.until,
                "next_review_on": m.next_review_on, "extension": m.extends_id is not None,
                "ordered_by": m.ordered_by, "note": m.note, "source_url": m.source_url,
                "source_checked_on": m.source_checked_on}

    def decision(d: Decision, slug: str) -> dict[str, Any]:
        return {"defendant": slug, "decided_on": d.decided_on, "instance": d.instance, "outcome": d.outcome,
                "case": d.case.slug if d.case else "", "court": d.court, "term_years": d.term_years,
                "term_months": d.term_months, "term_days": d.term_days, "regime": d.regime,
                "credited_days": d.credited_days, "release_override": d.release_override,
                "under_appeal": d.under_appeal, "note": d.note, "source_url": d.source_url,
                "source_checked_on": d.source_checked_on}

    def placement(p: Placement, slug: str) -> dict[str, Any]:
        return {"defendant": slug, "facility": p.facility, "facility_original": p.facility_original, "since": p.since, "in_transit": p.in_transit,
                "note": p.note, "source_url": p.source_url, "source_checked_on": p.source_checked_on}

    return {
        "cases": ({"slug": c.slug, "title": c.title, "title_original": c.title_original, "case_number": c.case_number,
                   "description": c.description, "charges": c.charges} for c in cases),
        "courts": ({"name": c.name, "name_original": c.name_original, "address": c.address,
                    "address_original": c.address_original, "timezone": c.timezone} for c in courts),
        "defendants": ({
            "external_id": d.external_id, "slug": d.slug, "name_original": d.name_original,
            "name_latin": d.name_latin, "cases": [c.slug for c in d.cases], "status": d.status,
            "public": d.is_public, "birth_date": d.birth_date, "arrested_on": d.arrested_on, "charges": d.charges,
            "bio": d.bio, "letters_address": d.letters_address,
            "letters_address_original": d.letters_address_original, "letters_status": d.letters_status,
            "lawyer_contacts": d.lawyer_contacts, "internal_notes": d.internal_notes,
        } for d in defendants),
        "placements": (placement(p, d.slug) for d in defendants
                       for p in sorted(d.placements, key=lambda p: (p.since, p.id))),
        "measures": (measure(m, d.slug) for d in defendants
                     for m in sorted(d.measures, key=lambda m: (m.starts_on, m.id))),
        "decisions": (decision(x, d.slug) for d in defendants
                      for x in sorted(d.decisions, key=lambda x: (x.decided_on, x.id))),
        # a hearing left with no defendant is on no page and cannot be imported: left out
        "hearings": ({
            "external_id": h.external_id, "defendants": [d.slug for d in h.defendants], "court": h.court.name,
            "starts_at": h.local_start, "case": h.case.slug if h.case else "",
            "kind": h.kind, "status": h.status, "duration_minutes": h.duration_minutes, "courtroom": h.courtroom,
            "seats": h.seats, "judge": h.judge, "open": h.is_open, "video_link_note": h.video_link_note,
            "outcome_note": h.outcome_note, "source_url": h.source_url, "source_checked_on": h.source_checked_on,
        } for h in hearings if h.defendants),
        # times as the place reads them, like hearings' in their court's zone, each with its UTC offset
        "actions": ({
            "external_id": a.external_id, "title": a.title, "status": a.status,
            "starts_at": a.local_start, "ends_at": a.local_end,
            "timezone": a.timezone, "country": a.country, "city": a.city, "address": a.address,
            "organiser": a.organiser, "description": a.description, "case": a.case.slug if a.case else "",
            "defendants": [d.slug for d in a.defendants], "contact": a.contact,
        } for a in actions),
    }


def full_export(session: Session) -> bytes:
    """Every record, private fields and hidden defendants included, as an .xlsx workbook."""
    book = Workbook(write_only=True)
    rows = _rows(session)
    for table in cols.TABLES:
        sheet = book.create_sheet(table.name)
        names = EXPORT_COLUMNS[table.name]
        sheet.append([_cell(sheet, name, bold=True) for name in names])
        for row in rows[table.name]:
            sheet.append([_cell(sheet, row.get(name)) for name in names])
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def template_xlsx() -> bytes:
    """An empty workbook: every table's columns, and a sheet explaining each one."""
    book = Workbook(write_only=True)
    for table in cols.TABLES:
        sheet = book.create_sheet(table.name)
        sheet.append([_cell(sheet, c.name, bold=True) for c in table.columns])
    help_sheet = book.create_sheet("help")
    help_sheet.append([_cell(help_sheet, h, bold=True) for h in ("table", "column", "required", "meaning",
                                                                  "example")])
    for table in cols.TABLES:
        for c in table.columns:
            help_sheet.append([_cell(help_sheet, v) for v in (table.name, c.name, "yes" if c.required else "",
                                                              str(c.help), c.example)])
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def template_csv() -> bytes:
    """The defendants table's header as Excel in a Russian locale writes it: BOM, semicolons.

    No example row: a template uploaded as it is must import nothing.
    """
    out = io.StringIO()
    writer = csv.writer(out, delimiter=";", lineterminator="\r\n")
    writer.writerow([c.name for c in cols.DEFENDANTS.columns])
    return ("\ufeff" + out.getvalue()).encode("utf-8")
