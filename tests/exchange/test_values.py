"""Cells as people write them, and files as programs save them."""
from __future__ import annotations

import io
from datetime import date, datetime

import pytest
from openpyxl import Workbook

from tests.exchange.conftest import files
from tracker.exchange import columns as cols
from tracker.exchange.reading import FileRejected, read_files, sniff_delimiter
from tracker.exchange.values import BadCell, make_slug, parse_articles, parse_cell, transliterate

TODAY = date(2026, 3, 2)
BIRTH = cols.DEFENDANTS.column("birth_date")
ARRESTED = cols.DEFENDANTS.column("arrested_on")
START = cols.HEARINGS.column("starts_at")
CHARGES = cols.DEFENDANTS.column("charges")


@pytest.mark.parametrize("text, expected", [
    ("08.06.2012", date(2012, 6, 8)), ("8.6.2012", date(2012, 6, 8)), ("2012-06-08", date(2012, 6, 8)),
    ("08/06/2012", date(2012, 6, 8)), ("08.06.12", date(2012, 6, 8)), (" 8 июня 2012 г. ", date(2012, 6, 8)),
    ("8 июня 2012 года", date(2012, 6, 8)), ("8 June 2012", date(2012, 6, 8)), ("1 мая 2013", date(2013, 5, 1)),
    (datetime(2012, 6, 8), date(2012, 6, 8)), (date(2012, 6, 8), date(2012, 6, 8)),
])
def test_dates_as_people_write_them(text, expected):
    assert parse_cell(text, ARRESTED, TODAY) == expected


def test_a_two_digit_year_is_never_far_in_the_future():
    assert parse_cell("15.03.85", BIRTH, TODAY) == date(1985, 3, 15)
    assert parse_cell("15.03.30", ARRESTED, TODAY) == date(2030, 3, 15)


@pytest.mark.parametrize("text, message", [
    ("08.13.2012", "There is no such day: '08.13.2012'."),
    ("June 2012", "Write the date as 08.06.2012 or 2012-06-08, not 'june 2012'."),
    ("06/08/1899", "Enter a date between 1990-01-01 and 2100-12-31."),
    (datetime(2012, 6, 8, 10, 30), "This should be a date without a time."),
])
def test_a_date_that_cannot_be_read_says_how_to_write_it(text, message):
    with pytest.raises(BadCell, match=message.replace("(", r"\(").replace(")", r"\)")):
        parse_cell(text, ARRESTED, TODAY)


@pytest.mark.parametrize("text, expected", [
    ("14.03.2013 10:30", datetime(2013, 3, 14, 10, 30)), ("2013-03-14T10:30", datetime(2013, 3, 14, 10, 30)),
    ("2013-03-14 10:30:00", datetime(2013, 3, 14, 10, 30)), ("14 марта 2013, 10.30", datetime(2013, 3, 14, 10, 30)),
    (datetime(2013, 3, 14, 10, 30), datetime(2013, 3, 14, 10, 30)),
])
def test_hearing_times(text, expected):
    assert parse_cell(text, START, TODAY) == expected


def test_a_hearing_needs_its_time():
    with pytest.raises(BadCell, match="Give the time as well"):
        parse_cell("14.03.2013", START, TODAY)
    with pytest.raises(BadCell, match="There is no such time"):
        parse_cell("14.03.2013 25:10", START, TODAY)


@pytest.mark.parametrize("text, expected", [
    ("212 ч.2, 318 ч.1", "ст. 212 ч. 2\nст. 318 ч. 1"),
    ("ст. 212 ч. 2; ст.318 ч.1 УК РФ", "ст. 212 ч. 2\nст. 318 ч. 1 УК РФ"),
    ("280.3", "ст. 280.3"), ("Art. 212 part 2", "Art. 212 part 2"), ("212 ч.2 п. «а»", "ст. 212 ч. 2 п. а"),
    # lines with words are kept as written, so a round trip changes nothing
    ("Art. 212 (mass riots), art. 318 (violence)", "Art. 212 (mass riots), art. 318 (violence)"),
    ("Art. 212 part 2 (riots)\nArt. 318 part 1", "Art. 212 part 2 (riots)\nArt. 318 part 1"),
])
def test_articles(text, expected):
    assert parse_articles(text, CHARGES) == expected
    assert parse_articles(expected, CHARGES) == expected  # reading what was stored changes nothing


def test_choices_in_both_languages():
    status = cols.DEFENDANTS.column("status")
    assert parse_cell("в СИЗО", status, TODAY).value == "pre_trial_detention"
    assert parse_cell("Under house arrest", status, TODAY).value == "house_arrest"
    assert parse_cell("pre_trial_detention", status, TODAY).value == "pre_trial_detention"
    assert parse_cell("Освобождён", status, TODAY).value == "released"
    public = cols.DEFENDANTS.column("public")
    assert [parse_cell(v, public, TODAY) for v in ("да", "Нет", "yes", "0", True)] == [True, False, True, False, True]


def test_names_become_addresses():
    assert transliterate("Юлия Щукина-Ёлкина") == "Yuliya Shchukina-Yolkina"
    assert make_slug("Юлия  Щукина") == "yuliya-shchukina"
    assert make_slug("José Müller") == "jose-muller"


def test_the_separator_is_sniffed_from_the_header():
    assert sniff_delimiter("ФИО;Статьи;Дело\r\nИван, Петров;212, 318;x\r\n") == ";"
    assert sniff_delimiter("name_original,charges\r\n\"Petrov; Ivan\",212\r\n") == ","
    assert sniff_delimiter("name_original\tcharges\r\nIvan\t212\r\n") == "\t"


def test_an_xlsx_with_typed_cells_and_a_title_line(plan_import, admin, make_case):
    make_case(slug="bolotnaya")
    book = Workbook()
    sheet = book.active
    sheet.title = "Подсудимые"
    sheet.append(["Список политзаключённых на 1 марта"])  # a title above the header
    sheet.append(["№", "ФИО", "Дело", "Дата рождения", "Следующее заседание", "Суд"])
    sheet.append([17, "Иван Петров", "bolotnaya", datetime(1990, 3, 15), datetime(2026, 3, 14, 10, 30), "Мосгорсуд"])
    sheet.append([18.0, "Анна Иванова", "bolotnaya", "02.01.1985", None, None])
    out = io.BytesIO()
    book.save(out)
    plan = plan_import(admin, files(people__xlsx=out.getvalue()))
    assert plan.ok, plan.problems
    assert [(i.table, i.row, i.action, i.label) for i in plan.items] == [
        ("courts", 3, "create", "Мосгорсуд"),
        ("defendants", 3, "create", "Ivan Petrov (ivan-petrov)"),
        ("defendants", 4, "create", "Anna Ivanova (anna-ivanova)"),
        ("hearings", 3, "create", "ivan-petrov: Мосгорсуд, 2026-03-14 10:30"),
    ]
    assert ("external_id", "", "18") in plan.items[2].changes
    assert ("birth_date", "", "1990-03-15") in plan.items[1].changes


def test_an_xlsx_that_unpacks_to_far_more_than_it_weighs_is_refused():
    import zipfile

    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("xl/worksheets/sheet1.xml", b"<" + b"a" * 50_000_000 + b">")
    with pytest.raises(FileRejected, match="unpacks to far more data"):
        read_files(files(bomb__xlsx=out.getvalue()), max_rows=10)


def test_every_header_spelling_names_one_column_of_its_table():
    for table in cols.TABLES:
        spellings = [cols.normalise_header(s) for c in table.columns for s in (c.name, *c.aliases)]
        assert len(spellings) == len(set(spellings)), (table.name, sorted(s for s in spellings
                                                                          if spellings.count(s) > 1))
