"""The public CSV export: one row per public defendant, what the public pages show.

For people who keep their own spreadsheet or count prisoners, and for sites without a
programmer. UTF-8 with a byte order mark, so that Excel opens Cyrillic names right
(LibreOffice, Python's `utf-8-sig` and pandas read the mark as such); commas by default,
semicolons on request for Excel in locales that use a decimal comma (`?delimiter=semicolon`).

Columns are a list of (name, function) pairs: adding one, e.g. a court's or a
facility's name in the original script, is one line here. Every text cell that a
spreadsheet would take for a formula is neutralised (CSV injection).
"""
from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any, Callable, Iterator

from flask import Blueprint, abort, current_app, request
from flask_babel import gettext as _
from sqlalchemy.orm import Session

from tracker.api import queries
from tracker.api.http import allow_cross_origin, cacheable
from tracker.api.params import BadParameter, read_args
from tracker.api.serialise import api_url
from tracker.access import public
from tracker.extensions import db, utcnow
from tracker.records.custody import CustodySummary, custody_summary, expected_release, sentence_in_force
from tracker.records.models import Decision, Defendant, Hearing

bp = Blueprint("export", __name__)

BOM = "\ufeff"
DELIMITERS = {"comma": ",", "semicolon": ";"}
# A cell starting with one of these is a formula to Excel, LibreOffice and Google Sheets.
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
CHUNK = 499  # defendants per round: with the one extra row read to detect the end, one select-in batch (500)


@dataclass
class ExportRow:
    defendant: Defendant
    custody: CustodySummary | None
    sentence: Decision | None
    release: date | None
    next_hearing: Hearing | None


def _local(hearing: Hearing | None) -> str:
    return hearing.local_start.isoformat() if hearing is not None else ""


COLUMNS: list[tuple[str, Callable[[ExportRow], Any]]] = [
    ("slug", lambda r: r.defendant.slug),
    ("name_latin", lambda r: r.defendant.name_latin),
    ("name_original", lambda r: r.defendant.name_original),
    ("status", lambda r: r.defendant.status.value),
    ("status_label", lambda r: r.defendant.status.label),
    ("custody_measure", lambda r: r.custody.kind.value if r.custody else ""),
    ("custody_measure_label", lambda r: r.custody.kind.label if r.custody else ""),
    ("custody_since", lambda r: r.custody.since if r.custody else None),
    ("custody_extensions", lambda r: r.custody.extensions if r.custody else None),
    ("custody_until", lambda r: r.custody.until if r.custody else None),
    ("custody_next_review_on", lambda r: r.custody.next_review_on if r.custody else None),
    ("sentence_outcome", lambda r: r.sentence.outcome.value if r.sentence else ""),
    ("sentence_outcome_label", lambda r: r.sentence.outcome.label if r.sentence else ""),
    ("sentence_term", lambda r: r.sentence.term_text if r.sentence else ""),
    ("sentence_decided_on", lambda r: r.sentence.decided_on if r.sentence else None),
    ("sentence_under_appeal", lambda r: ("yes" if r.sentence.under_appeal else "no") if r.sentence else ""),
    ("expected_release", lambda r: r.release),
    ("next_hearing_starts_at", lambda r: _local(r.next_hearing)),
    ("next_hearing_timezone", lambda r: r.next_hearing.court.timezone if r.next_hearing else ""),
    ("next_hearing_court", lambda r: r.next_hearing.court.name if r.next_hearing else ""),
    ("next_hearing_court_original", lambda r: r.next_hearing.court.name_original if r.next_hearing else ""),
    ("facility", lambda r: r.defendant.placements[-1].facility if r.defendant.placements else ""),
    ("facility_original", lambda r: r.defendant.placements[-1].facility_original if r.defendant.placements else ""),
    ("facility_since", lambda r: r.defendant.placements[-1].since if r.defendant.placements else None),
    ("letters_address", lambda r: r.defendant.letters_address),
    ("letters_address_original", lambda r: r.defendant.letters_address_original),
    ("letters_status", lambda r: r.defendant.letters_status.value),
    ("cases", lambda r: "; ".join(c.title for c in r.defendant.cases)),
    ("cases_original", lambda r: "; ".join(c.title_original or c.title for c in r.defendant.cases)),
    ("case_slugs", lambda r: "; ".join(c.slug for c in r.defendant.cases)),
    ("page_url", lambda r: api_url("records.defendant", slug=r.defendant.slug)),
]


def neutralise(value: Any) -> str:
    """The text of a cell; one a spreadsheet would run as a formula gets a leading apostrophe."""
    if value is None:
        return ""
    if isinstance(value, (date, datetime)):
        return value.isoformat()
    text = str(value)
    if text.startswith(FORMULA_START):
        return "'" + text
    return text


def export_rows(session: Session, now: datetime) -> Iterator[ExportRow]:
    """Every public defendant by Latin name, a chunk of CHUNK at a time."""
    after = None
    while True:
        page = queries.list_defendants(session, now=now, limit=CHUNK, after=after)
        for record in page.items:
            person = record.defendant
            yield ExportRow(person, custody_summary(person), sentence_in_force(person), expected_release(person),
                            record.next_hearing)
        if page.next_key is None:
            return
        after = page.next_key


def public_csv(session: Session, now: datetime, delimiter: str = ",") -> str:
    out = io.StringIO()
    writer = csv.writer(out, delimiter=delimiter, lineterminator="\r\n")
    writer.writerow([name for name, _value in COLUMNS])
    for row in export_rows(session, now):
        writer.writerow([neutralise(value(row)) for _name, value in COLUMNS])
    return BOM + out.getvalue()


@bp.after_request
def _cross_origin(response):  # noqa: ANN001, ANN202
    return allow_cross_origin(response)


@bp.get("/export/defendants.csv")
@public
def defendants_csv():
    try:
        args = read_args(request.args, {"delimiter"})
        name = args.get("delimiter", "comma")
        if name not in DELIMITERS:
            raise BadParameter(_("'delimiter' must be 'comma' or 'semicolon'."))
    except BadParameter as error:
        abort(400, description=str(error))
    text = public_csv(db.session, utcnow(), DELIMITERS[name])
    return cacheable(
        text.encode("utf-8"), "text/csv", current_app.config["EXPORT_CACHE_SECONDS"],
        {"Content-Disposition": 'attachment; filename="defendants.csv"'},
    )
