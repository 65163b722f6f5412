"""Editors' pages, the attendance pages and the private calendar name people, cases and courts in
the reader's script (tracker.records.names): found by grepping the templates and tracker/ for
`name_latin` printed alone after the history's fix."""
from __future__ import annotations

import re
from datetime import date, datetime, timezone

import pytest
import time_machine

from tracker.extensions import db
from tracker.records.enums import MeasureKind

RU = {"Accept-Language": "ru"}
EN = {"Accept-Language": "en"}


@pytest.fixture(autouse=True)
def _fixed_clock(now):
    with time_machine.travel(now, tick=False):
        yield


@pytest.fixture
def anna(make_defendant, make_court, make_hearing, make_measure):
    person = make_defendant(slug="anna", name_latin="Anna Petrova", name_original="Анна Петрова")
    court = make_court(name="Moscow City Court", name_original="Мосгорсуд")
    make_measure(person, kind=MeasureKind.PRE_TRIAL_DETENTION, starts_on=date(2026, 1, 1), until=date(2026, 4, 1))
    make_hearing(court=court, defendants=[person], starts_at=datetime(2026, 3, 10, 8, 0, tzinfo=timezone.utc))
    db.session.commit()
    return person


@pytest.mark.parametrize("path", ["/edit/defendants/{id}", "/edit/defendants/{id}/extend",
                                  "/edit/defendants/{id}/transfer", "/edit/defendants/{id}/measures/new",
                                  "/edit/defendants/{id}/verdict", "/edit/"])
def test_editors_pages_name_the_defendant_in_the_readers_script(admin_client, anna, path):
    url = path.format(id=anna.id)
    russian = admin_client.get(url, headers=RU)
    english = admin_client.get(url, headers=EN)
    assert russian.status_code == english.status_code == 200, url
    assert "Анна Петрова" in russian.text and "Anna Petrova" not in _headings(russian.text)
    assert "Anna Petrova" in english.text


def _headings(page: str) -> str:
    """The title, headings and the dashboard's hearing lines: where the name used to be latin alone
    (the other spelling shown beside the first, `<span class="other">`, is as it should be)."""
    page = re.sub(r'<span class="other"[^>]*>[^<]*</span>', "", page)
    return " ".join(re.findall(r"<title>.*?</title>|<h1>.*?</h1>|<li>.*?</li>", page, re.S))


def test_the_private_calendar_names_people_in_its_languages_script(client, anna, make_user):
    user = make_user()
    db.session.commit()
    russian = client.get(f"/feeds/ru/private/{user.feed_token}.ics").get_data(as_text=True)
    english = client.get(f"/feeds/private/{user.feed_token}.ics").get_data(as_text=True)
    unfolded_ru, unfolded_en = (text.replace("\r\n ", "") for text in (russian, english))
    assert re.search(r"SUMMARY:[^\r\n]*Анна Петрова", unfolded_ru), "the custody event's summary in Cyrillic"
    assert not re.search(r"SUMMARY:[^\r\n]*Anna Petrova", unfolded_ru)
    assert re.search(r"SUMMARY:[^\r\n]*Anna Petrova", unfolded_en)


def test_the_attendance_page_names_people_and_the_court_in_the_readers_script(client, anna):
    hearing = anna.hearings[0]
    russian = client.get(f"/attend/{hearing.id}", headers=RU)
    english = client.get(f"/attend/{hearing.id}", headers=EN)
    assert russian.status_code == english.status_code == 200
    summary = re.compile(r'<p class="hearing-summary">(.*?)</p>', re.S)
    assert "Анна Петрова" in summary.search(russian.text).group(1)
    assert "Мосгорсуд" in summary.search(russian.text).group(1)
    assert "Anna" not in summary.search(russian.text).group(1)
    assert "Anna Petrova" in summary.search(english.text).group(1)
    assert "Moscow City Court" in summary.search(english.text).group(1)


def test_the_hearing_forms_court_choice_is_in_the_readers_script(admin_client, anna):
    court = anna.hearings[0].court
    russian = admin_client.get("/edit/hearings/new", headers=RU).text
    english = admin_client.get("/edit/hearings/new", headers=EN).text
    assert re.search(rf'<option value="{court.id}">Мосгорсуд</option>', russian)
    assert re.search(rf'<option value="{court.id}">Moscow City Court</option>', english)
