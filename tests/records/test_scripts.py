"""Names and places in the reader's script first, the other beside it (records.names), on every
public page; the language comes from Accept-Language."""
from __future__ import annotations

import html
import re
from datetime import date, timedelta

import pytest
import time_machine

from tracker.extensions import db
from tracker.records.models import Placement
from tracker.records.names import first_script, in_script, script_of_language


@pytest.fixture
def held(make_case, make_court, make_defendant, make_hearing, now):
    case = make_case(slug="bolotnaya", title="Bolotnaya")
    court = make_court(name="Moscow City Court", name_original="Мосгорсуд", address="Bogorodsky Val, 8, Moscow",
                       address_original="Богородский Вал, 8, Москва")
    person = make_defendant(slug="yulia", name_latin="Yulia Primerova", name_original="Юлия Примерова", cases=[case],
                            letters_address="SIZO-1, Matrosskaya Tishina ul., 18, Moscow",
                            letters_address_original="СИЗО-1, ул. Матросская Тишина, 18, Москва",
                            birth_date=(now + timedelta(days=10)).date().replace(year=1990))
    db.session.add(Placement(defendant=person, facility="SIZO-1 Matrosskaya Tishina, Moscow",
                             facility_original="СИЗО-1 «Матросская тишина», Москва", since=date(2025, 6, 1)))
    make_hearing(court=court, case=case, defendants=[person], starts_at=now + timedelta(days=2))
    db.session.commit()


def page(client, url: str, language: str) -> str:
    response = client.get(url, headers={"Accept-Language": language})
    assert response.status_code == 200, url
    return " ".join(html.unescape(response.get_data(as_text=True)).split())


def before(text: str, first: str, second: str) -> bool:
    return first in text and second in text and text.index(first) < text.index(second)


URLS = ["/", "/defendants/yulia", "/cases/bolotnaya", "/hearings", "/dates"]


@pytest.mark.parametrize("url", URLS)
def test_the_readers_script_comes_first(client, held, now, url):
    with time_machine.travel(now, tick=False):
        russian, english = page(client, url, "ru"), page(client, url, "en-GB,en;q=0.8")
    if url != "/hearings":  # the hearings page names people once, in the reader's script
        assert before(russian, "Юлия Примерова", "Yulia Primerova"), url
        assert before(english, "Yulia Primerova", "Юлия Примерова"), url
    else:
        assert "Юлия Примерова" in russian and "Yulia Primerova" in english
    if url in ("/defendants/yulia", "/cases/bolotnaya", "/hearings"):
        assert before(russian, "Мосгорсуд, Богородский Вал, 8, Москва", "Moscow City Court, Bogorodsky Val, 8"), url
        assert before(english, "Moscow City Court, Bogorodsky Val, 8, Moscow", "Мосгорсуд, Богородский Вал"), url
    if url in ("/defendants/yulia", "/dates"):
        assert before(russian, "СИЗО-1, ул. Матросская Тишина", "SIZO-1, Matrosskaya Tishina ul."), url
        assert before(english, "SIZO-1, Matrosskaya Tishina ul.", "СИЗО-1, ул. Матросская Тишина"), url


def test_the_other_script_is_marked_with_its_language(client, held, now):
    with time_machine.travel(now, tick=False):
        russian = client.get("/defendants/yulia", headers={"Accept-Language": "ru"}).get_data(as_text=True)
        english = client.get("/defendants/yulia", headers={"Accept-Language": "en"}).get_data(as_text=True)
    assert re.search(r'<h1><span class="first">Юлия Примерова</span> <span class="other" lang="en">Yulia Primerova', russian)
    assert re.search(r'<h1><span class="first">Yulia Primerova</span> <span class="other" lang="ru">Юлия Примерова', english)
    assert "СИЗО-1 «Матросская тишина», Москва (SIZO-1 Matrosskaya Tishina, Moscow)" in html.unescape(russian)


def test_a_missing_or_equal_original_is_shown_once(app):
    from flask_babel import refresh

    with app.test_request_context(headers={"Accept-Language": "ru"}):
        refresh()  # the suite's app context may hold another request's locale
        assert str(in_script("Moscow City Court", "")) == "Moscow City Court"
        assert str(in_script("John Smith", "John Smith")) == "John Smith"
        assert str(in_script("", "Мосгорсуд")) == "Мосгорсуд"
        assert str(in_script("Moscow City Court", "Мосгорсуд")) == "Мосгорсуд (Moscow City Court)"
    with app.test_request_context(headers={"Accept-Language": "en"}):
        refresh()
        assert str(in_script("Moscow City Court", "Мосгорсуд")) == "Moscow City Court (Мосгорсуд)"


def test_a_new_languages_script_comes_from_the_locale_data():
    assert [script_of_language(x) for x in ("ru", "uk", "be", "kk", "en", "de")] == [
        "Cyrl", "Cyrl", "Cyrl", "Cyrl", "Latn", "Latn"]


@pytest.mark.parametrize("latin, original", [("Anna", "Анна"), (" Anna ", " Анна "), ("Anna", ""), ("Anna", None),
                                             ("", "Анна"), (None, "Анна"), ("Anna", "Anna"), (None, None), ("", " ")])
@pytest.mark.parametrize("reads_original", [True, False])
def test_first_script_is_the_pairs_first(latin, original, reads_original):
    """`first_script` skips making the pair (lists of thousands of names call it): the same rule."""
    assert first_script(latin, original, reads_original) == in_script(latin, original, reads_original).first
