"""The public CSV: both scripts, what the pages show, opened right by spreadsheets, never a formula."""
from __future__ import annotations

import csv
import io
from datetime import date

import time_machine

from tracker.api.export import COLUMNS, neutralise
from tracker.extensions import db
from tracker.records.models import DefendantStatus, Placement


def read_csv(response, delimiter: str = ",") -> list[dict[str, str]]:
    assert response.status_code == 200
    assert response.mimetype == "text/csv"
    assert response.headers["Content-Type"] == "text/csv; charset=utf-8"
    assert response.data.startswith("\ufeff".encode("utf-8"))  # the BOM that makes Excel read UTF-8
    return list(csv.DictReader(io.StringIO(response.data.decode("utf-8-sig")), delimiter=delimiter))


def test_the_export_holds_what_the_public_pages_show(client, public_records, now):
    with time_machine.travel(now, tick=False):
        response = client.get("/export/defendants.csv")
    assert response.headers["Content-Disposition"] == 'attachment; filename="defendants.csv"'
    rows = read_csv(response)
    assert [r["slug"] for r in rows] == ["anna", "boris"]  # the hidden defendant is not there
    anna, boris = rows
    assert list(anna) == [name for name, _ in COLUMNS]
    assert (anna["name_latin"], anna["name_original"]) == ("Anna Petrova", "Анна Петрова")
    assert (anna["status"], anna["status_label"]) == ("pre_trial_detention", "in pre-trial detention")
    assert (anna["custody_measure"], anna["custody_since"], anna["custody_extensions"], anna["custody_until"]) == (
        "pre_trial_detention", "2025-06-08", "1", "2026-06-08")
    assert anna["next_hearing_starts_at"] == "2026-03-04T12:00:00+03:00"
    assert anna["next_hearing_timezone"] == "Europe/Moscow"
    assert (anna["next_hearing_court"], anna["next_hearing_court_original"]) == ("Moscow City Court", "Мосгорсуд")
    assert (anna["facility"], anna["facility_original"], anna["facility_since"]) == (
        "SIZO-2, Moscow", "СИЗО-2, Москва", "2025-12-01")
    assert (anna["letters_address"], anna["letters_address_original"]) == ("SIZO-1, Moscow", "")
    assert anna["cases"] == "Bolotnaya" and anna["case_slugs"] == "bolotnaya"
    assert anna["cases_original"] == "Болотное дело"
    assert anna["page_url"].endswith("/defendants/anna")
    assert (boris["sentence_outcome"], boris["sentence_term"], boris["expected_release"]) == (
        "imprisonment", "6 years", "2031-08-16")
    assert boris["next_hearing_starts_at"] == "2026-03-07T15:00:00+05:00"
    assert boris["next_hearing_timezone"] == "Asia/Yekaterinburg"
    assert boris["cases"] == "Another case; Bolotnaya"
    assert boris["letters_address"] == "" and boris["custody_measure"] == ""


def test_semicolons_for_excel_in_russian_locales(client, public_records):
    rows = read_csv(client.get("/export/defendants.csv?delimiter=semicolon"), delimiter=";")
    assert rows[0]["name_original"] == "Анна Петрова"
    assert client.get("/export/defendants.csv?delimiter=tab").status_code == 400
    assert client.get("/export/defendants.csv?bom=no").status_code == 400


def test_cells_that_would_run_as_formulas_are_neutralised(client, make_defendant, make_case):
    evil = make_case(slug="evil", title="@SUM(1+1)")
    make_defendant(slug="mallory", name_latin='=HYPERLINK("http://evil.example","click")',
                   name_original="+7 900 000 00 00", letters_address="-2+3", cases=[evil],
                   status=DefendantStatus.AT_LARGE)
    person = make_defendant(slug="tab", name_latin="\tTabbed", name_original="\rReturned")
    db.session.add(Placement(defendant=person, facility="=1+1", since=date(2025, 1, 1)))
    db.session.commit()
    rows = {r["slug"]: r for r in read_csv(client.get("/export/defendants.csv"))}
    mallory = rows["mallory"]
    assert mallory["name_latin"] == '\'=HYPERLINK("http://evil.example","click")'
    assert mallory["name_original"] == "'+7 900 000 00 00"
    assert mallory["letters_address"] == "'-2+3"
    assert mallory["cases"] == "'@SUM(1+1)"
    assert rows["tab"]["name_latin"] == "'\tTabbed"
    assert rows["tab"]["name_original"] == "'\rReturned"
    assert rows["tab"]["facility"] == "'=1+1"
    for row in rows.values():
        for name, value in row.items():
            assert not value.startswith(("=", "+", "-", "@", "\t", "\r")), (name, value)


def test_neutralise():
    assert neutralise(None) == ""
    assert neutralise(3) == "3"
    assert neutralise(date(2026, 3, 2)) == "2026-03-02"
    assert neutralise("Anna") == "Anna"
    assert neutralise("=1") == "'=1"
    assert neutralise("a=1") == "a=1"


def test_the_export_spans_many_chunks(client, now):
    from tracker.records.synthetic import seed_movement

    seed_movement(db.session, defendants=1203, hearings=50, now=now, prefix="syn")
    db.session.commit()
    rows = read_csv(client.get("/export/defendants.csv"))
    assert len(rows) == len({r["slug"] for r in rows}) == 1203


def test_the_home_page_links_the_export_and_the_api(client, public_records):
    page = client.get("/").get_data(as_text=True)
    assert 'href="/export/defendants.csv"' in page
    assert 'href="/api/v1/"' in page
