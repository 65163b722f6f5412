"""Uploaded files -> tables of raw cells, whatever program saved them.

A CSV file holds one table: UTF-8 with or without a BOM, UTF-16 (Excel's "Unicode
text"), or Windows-1251 (Excel's plain "CSV" on a Russian Windows), separated by
commas, semicolons or tabs. An .xlsx workbook holds one table per sheet. Which table a
sheet is comes from its name, else from its header. Cells stay raw here; the plan
parses them, so every bad cell is reported with its row and column rather than the
first one stopping the read.
"""
from __future__ import annotations

import codecs
import csv
import io
import re
import zipfile
from dataclasses import dataclass, field
from typing import Any, Iterable, Iterator

from flask_babel import gettext as _
from openpyxl import load_workbook

from tracker.exchange.columns import TABLES, Table, header_map, normalise_header, table_for_header, table_for_name
from tracker.exchange.values import is_empty

# An .xlsx is a zip of XML: refuse one that unpacks to far more than a spreadsheet of records.
MAX_UNPACKED_BYTES = 300 * 1024 * 1024
MAX_UNPACK_RATIO = 200
HEADER_SCAN_ROWS = 5


class FileRejected(ValueError):
    """A file that cannot be read at all; the message says what to do instead."""


@dataclass
class UploadedFile:
    name: str
    data: bytes


@dataclass
class Row:
    number: int  # the row number the spreadsheet program shows (the header is row 1)
    cells: dict[str, Any]  # column name -> the raw cell, only for columns the table has


@dataclass
class Problem:
    source: str
    row: int | None
    column: str | None
    message: str


@dataclass
class Sheet:
    table: Table
    source: str  # "people.csv" or "records.xlsx: defendants"
    columns: list[str]
    rows: list[Row] = field(default_factory=list)


@dataclass
class Workbook:
    sheets: list[Sheet] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)

    @property
    def row_count(self) -> int:
        return sum(len(s.rows) for s in self.sheets)


def read_files(files: Iterable[UploadedFile], *, max_rows: int) -> Workbook:
    """Read every uploaded file into one workbook; raises FileRejected for an unreadable file."""
    book = Workbook()
    for upload in files:
        if upload.data.startswith(b"PK\x03\x04"):
            _read_xlsx(upload, book, max_rows)
        elif upload.data.startswith(b"\xd0\xcf\x11\xe0"):
            raise FileRejected(_("%(name)s is in the old Excel format (.xls). Save it as .xlsx or as CSV UTF-8.",
                                 name=upload.name))
        else:
            text, note = decode_text(upload)
            if note:
                book.notes.append(note)
            _read_csv(upload.name, text, book, max_rows)
    if not book.sheets:
        raise FileRejected(_("No table found: the first row must name the columns (see the template)."))
    return book


# --- CSV ---------------------------------------------------------------------------------


def decode_text(upload: UploadedFile) -> tuple[str, str | None]:
    data = upload.data
    if data.startswith(codecs.BOM_UTF8):
        try:
            return data[len(codecs.BOM_UTF8):].decode("utf-8"), None
        except UnicodeDecodeError:
            raise FileRejected(_("%(name)s says it is UTF-8 but is not. Save it again as CSV UTF-8.",
                                 name=upload.name)) from None
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        try:
            return data.decode("utf-16"), None
        except UnicodeDecodeError:
            raise FileRejected(_("%(name)s cannot be read as UTF-16 text.", name=upload.name)) from None
    if b"\x00" in data[:4096]:
        raise FileRejected(_("%(name)s is not a CSV or .xlsx file.", name=upload.name))
    try:
        return data.decode("utf-8"), None
    except UnicodeDecodeError:
        pass
    # Excel's plain "CSV" on a Russian Windows is Windows-1251. Accept it only when what it
    # decodes to is Cyrillic text, so a file in another encoding is not read as gibberish.
    try:
        text = data.decode("cp1251")
    except UnicodeDecodeError:
        text = ""
    if _reads_as_russian(text):
        return text, _("%(name)s was read as Windows-1251 (Cyrillic). Check the names in the dry run below.",
                       name=upload.name)
    raise FileRejected(_("%(name)s is not UTF-8 text. In Excel choose \u201cCSV UTF-8\u201d when saving; in "
                         "LibreOffice choose the character set \u201cUnicode (UTF-8)\u201d.", name=upload.name))


def _reads_as_russian(text: str) -> bool:
    """Whether text decoded as Windows-1251 is Cyrillic writing rather than another encoding misread.

    Latin-1 "José Müller" decodes to "Josй Mьller": Cyrillic letters inside Latin words
    give it away; Russian text has words of Cyrillic letters only.
    """
    words = re.findall(r"[^\W\d_]+", text)
    cyrillic = [w for w in words if any("\u0400" <= c <= "\u04ff" for c in w)]
    mixed = [w for w in cyrillic if any("a" <= c.lower() <= "z" for c in w)]
    odd = [c for c in text if ord(c) > 127 and not ("\u0400" <= c <= "\u04ff" or c in "№«»–—\u00a0")]
    return bool(cyrillic) and len(mixed) <= 0.02 * len(cyrillic) and len(odd) <= 0.02 * len(cyrillic)


def _known_headers(cells: list[str]) -> int:
    names = set().union(*(header_map(t).keys() for t in TABLES))
    return sum(1 for c in cells if c and normalise_header(c) in names)


def sniff_delimiter(text: str) -> str:
    """The separator that makes the first rows name the most known columns (Excel: ';' in Russian)."""
    best, best_score = ",", (-1, 0)
    for delimiter in (";", ",", "\t"):
        try:
            rows = list(_first_rows(csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)))
        except csv.Error:
            continue
        score = max(((_known_headers(r), len(r)) for r in rows), default=(0, 0))
        if score > best_score:
            best, best_score = delimiter, score
    return best


def _first_rows(reader: Iterator[list[str]]) -> Iterator[list[str]]:
    for index, row in enumerate(reader):
        if index >= HEADER_SCAN_ROWS:
            return
        yield row


def _read_csv(name: str, text: str, book: Workbook, max_rows: int) -> None:
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=sniff_delimiter(text))
    try:
        _read_rows(name, name.rsplit(".", 1)[0], enumerate(reader, start=1), book, max_rows)
    except csv.Error as error:
        raise FileRejected(_("%(name)s is not a well-formed CSV file: %(error)s", name=name, error=str(error))) \
            from None


# --- xlsx --------------------------------------------------------------------------------


def _read_xlsx(upload: UploadedFile, book: Workbook, max_rows: int) -> None:
    try:
        with zipfile.ZipFile(io.BytesIO(upload.data)) as archive:
            unpacked = sum(info.file_size for info in archive.infolist())
    except zipfile.BadZipFile:
        raise FileRejected(_("%(name)s is not a CSV or .xlsx file.", name=upload.name)) from None
    if unpacked > MAX_UNPACKED_BYTES or unpacked > MAX_UNPACK_RATIO * max(len(upload.data), 1):
        raise FileRejected(_("%(name)s unpacks to far more data than a spreadsheet of records.", name=upload.name))
    try:
        workbook = load_workbook(io.BytesIO(upload.data), read_only=True, data_only=True)
    except Exception as error:  # noqa: BLE001 - openpyxl raises many kinds for a broken file
        raise FileRejected(_("%(name)s cannot be read as an .xlsx workbook (%(error)s). Open it and save it "
                             "again as .xlsx, or as CSV UTF-8.", name=upload.name,
                             error=type(error).__name__)) from None
    try:
        for sheet in workbook.worksheets:
            if sheet.sheet_state != "visible":
                continue
            rows = enumerate(sheet.iter_rows(values_only=True), start=1)
            _read_rows(f"{upload.name}: {sheet.title}", sheet.title, rows, book, max_rows)
    except FileRejected:
        raise
    except Exception as error:  # noqa: BLE001
        raise FileRejected(_("%(name)s cannot be read as an .xlsx workbook (%(error)s).", name=upload.name,
                             error=type(error).__name__)) from None
    finally:
        workbook.close()


# --- both ----------------------------------------------------------------------------------


def _read_rows(source: str, title: str, rows: Iterator[tuple[int, Iterable[Any]]], book: Workbook,
               max_rows: int) -> None:
    """Find the header (one of the first rows), recognise the table, collect the non-empty rows."""
    header: list[str] | None = None
    table: Table | None = None
    for number, values in rows:
        values = list(values)
        if header is None:
            cells = ["" if is_empty(v) else str(v) for v in values]
            if not any(cells):
                continue
            named = table_for_name(title)
            table = named if named is not None and _known_headers(cells) else table_for_header(cells)
            if table is None:
                # a sheet named after a table may have a title line or two above its header
                if named is None or number >= HEADER_SCAN_ROWS:
                    book.notes.append(_("%(source)s: no known column in the first rows; left out.", source=source))
                    return
                continue
            header = _header(source, number, cells, table, book)
            sheet = Sheet(table, source, [c for c in header if c])
            book.sheets.append(sheet)
            _check_required(sheet, number, book)
            continue
        if all(is_empty(v) for v in values):
            continue
        if book.row_count >= max_rows:
            raise FileRejected(_("The import is limited to %(max)d rows; this upload has more. Split it into "
                                 "several files, or ask an admin to run `flask import-records` for it.",
                                 max=max_rows))
        cells = {name: values[i] for i, name in enumerate(header) if name and i < len(values)}
        extra = any(not is_empty(v) for v in values[len(header):])
        if extra:
            book.problems.append(Problem(source, number, None, _("This row has more cells than the header.")))
        sheet.rows.append(Row(number, cells))


def _header(source: str, number: int, cells: list[str], table: Table, book: Workbook) -> list[str]:
    known = header_map(table)
    header: list[str] = []
    ignored = []
    for cell in cells:
        name = known.get(normalise_header(cell)) if cell else None
        if name is not None and name in header:
            book.problems.append(Problem(source, number, name, _("Two columns are both '%(name)s'.", name=name)))
            name = None
        if name is None and cell:
            ignored.append(cell)
        header.append(name or "")
    if ignored:
        book.notes.append(_("%(source)s, table %(table)s: columns left out because the import does not know "
                            "them: %(columns)s.", source=source, table=table.name,
                            columns=", ".join(f"'{c}'" for c in ignored)))
    return header


def _check_required(sheet: Sheet, number: int, book: Workbook) -> None:
    for column in sheet.table.columns:
        if column.required and column.name not in sheet.columns:
            book.problems.append(Problem(sheet.source, number, column.name,
                                         _("The %(table)s table needs a column '%(name)s'.",
                                           table=sheet.table.name, name=column.name)))
