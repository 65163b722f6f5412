"""A spreadsheet carries courts, facilities and letters addresses in both scripts; the search key
of imported people is the same as of typed ones."""
from __future__ import annotations

import sqlalchemy as sa

from tests.exchange.conftest import files
from tracker.extensions import db
from tracker.records.models import Case, Court, Defendant, Hearing
from tracker.records.names import search_key

COURTS = ("name;name_original;address;address_original;timezone\r\n"
          "Moscow City Court;Мосгорсуд;Bogorodsky Val, 8, Moscow;Богородский Вал, 8, Москва;Europe/Moscow\r\n")
DEFENDANTS = ("external_id;ФИО;Имя латиницей;Адрес для писем;Адрес для писем в оригинале\r\n"
              "1;Юлия Щукина;Yulia Shchukina;SIZO-6, Moscow;СИЗО-6, Москва\r\n")
TRANSFERS = ("подсудимый;где содержится;учреждение в оригинале;с\r\n"
             "1;SIZO-6, Moscow;СИЗО-6, Москва;01.02.2026\r\n")
# the hearing names its court in Cyrillic: it is the court of the courts table, not a new one
HEARINGS = ("external_id;defendants;court;starts_at\r\n"
            "h-1;1;Мосгорсуд;14.03.2026 10:30\r\n")


def test_both_scripts_come_in_and_go_out(admin, admin_client, do_import):
    do_import(admin, files(courts__csv=COURTS, defendants__csv=DEFENDANTS, transfers__csv=TRANSFERS,
                           hearings__csv=HEARINGS))
    court = db.session.scalar(sa.select(Court))
    assert (court.name, court.name_original, court.address, court.address_original) == (
        "Moscow City Court", "Мосгорсуд", "Bogorodsky Val, 8, Moscow", "Богородский Вал, 8, Москва")
    assert db.session.scalar(sa.select(sa.func.count(Court.id))) == 1
    assert db.session.scalar(sa.select(Hearing)).court_id == court.id
    person = db.session.scalar(sa.select(Defendant))
    assert (person.letters_address, person.letters_address_original) == ("SIZO-6, Moscow", "СИЗО-6, Москва")
    assert [(p.facility, p.facility_original) for p in person.placements] == [("SIZO-6, Moscow", "СИЗО-6, Москва")]
    assert person.search_name == search_key("Юлия Щукина", "Yulia Shchukina") == "iulia schukina"

    from io import BytesIO

    from openpyxl import load_workbook
    book = load_workbook(BytesIO(admin_client.get("/admin/export.xlsx").data))
    courts = list(book["courts"].values)
    assert courts[1][courts[0].index("name_original")] == "Мосгорсуд"
    assert courts[1][courts[0].index("address_original")] == "Богородский Вал, 8, Москва"
    people = list(book["defendants"].values)
    assert people[1][people[0].index("letters_address_original")] == "СИЗО-6, Москва"
    placements = list(book["placements"].values)
    assert placements[1][placements[0].index("facility_original")] == "СИЗО-6, Москва"


def test_a_corrected_original_facility_is_an_update(admin, do_import, plan_import):
    do_import(admin, files(defendants__csv=DEFENDANTS, transfers__csv=TRANSFERS))
    fixed = TRANSFERS.replace("СИЗО-6, Москва", "СИЗО-6 «Кашира», Москва")
    plan = do_import(admin, files(transfers__csv=fixed))
    assert plan.counts()["placements"]["update"] == 1
    person = db.session.scalar(sa.select(Defendant))
    db.session.refresh(person)
    assert person.placements[0].facility_original == "СИЗО-6 «Кашира», Москва"


def test_an_original_facility_while_in_transit_is_refused(admin, do_import, plan_import):
    do_import(admin, files(defendants__csv=DEFENDANTS))
    plan = plan_import(admin, files(transfers__csv="подсудимый;учреждение в оригинале;с;на этапе\r\n"
                                                   "1;ИК-2;20.02.2026;да\r\n"))
    assert [(p.row, p.column) for p in plan.problems] == [(2, "facility")]


def test_a_cases_original_title_comes_in_names_the_case_and_goes_out(admin, admin_client, do_import):
    """A case's title_original (Russian header «Название (оригинал)») is imported, exported, and
    a defendant's row may name the case by it."""
    cases = "Адрес;Название;Название (оригинал)\r\nmay6;May 6th affair;Дело 6 мая\r\n"
    do_import(admin, files(cases__csv=cases))
    people = "external_id;ФИО;Имя латиницей;дело\r\n1;Юлия Щукина;Yulia Shchukina;Дело 6 мая\r\n"
    do_import(admin, files(defendants__csv=people))
    case = db.session.scalar(sa.select(Case))
    assert (case.title, case.title_original) == ("May 6th affair", "Дело 6 мая")
    assert [c.slug for c in db.session.scalar(sa.select(Defendant)).cases] == ["may6"]

    from io import BytesIO

    from openpyxl import load_workbook
    book = load_workbook(BytesIO(admin_client.get("/admin/export.xlsx").data))
    rows = list(book["cases"].values)
    assert rows[1][rows[0].index("title_original")] == "Дело 6 мая"
