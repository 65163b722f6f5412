"""A defendant's name is shown in the reader's script wherever a public page, a calendar's
name or a form names them alone: Russian readers know "Анна Петрова", not "Anna Petrova".

Found by walking the Russian pages: the solidarity-action form, the reminder sign-up choice and
the actions calendar's name printed the latin spelling only."""
from __future__ import annotations

import re

import pytest

from tracker.extensions import db

RU = {"Accept-Language": "ru"}
EN = {"Accept-Language": "en"}


@pytest.fixture
def anna(make_defendant):
    person = make_defendant(slug="anna", name_latin="Anna Petrova", name_original="Анна Петрова")
    db.session.commit()
    return person


def test_the_action_forms_people_are_named_in_the_readers_script(client, anna):
    russian = client.get("/actions/new", headers=RU).get_data(as_text=True)
    english = client.get("/actions/new", headers=EN).get_data(as_text=True)
    assert re.search(rf'value="{anna.id}"> Анна Петрова</label>', russian), "the Russian form names her in Cyrillic"
    assert re.search(rf'value="{anna.id}"> Anna Petrova</label>', english)


def test_the_reminder_sign_up_on_a_defendants_page_names_them_in_the_readers_script(client, anna):
    russian = client.get("/defendants/anna", headers=RU).get_data(as_text=True)
    english = client.get("/defendants/anna", headers=EN).get_data(as_text=True)
    option = re.compile(r'<input[^>]*value="defendant:anna"[^>]*>([^<]*)</label>')
    assert "Анна Петрова" in option.search(russian).group(1)
    assert "Anna Petrova" in option.search(english).group(1)


def test_a_defendants_actions_calendar_is_named_in_the_readers_script(client, anna):
    russian = client.get("/actions/defendants/anna.ics", headers=RU).get_data(as_text=True)
    english = client.get("/actions/defendants/anna.ics", headers=EN).get_data(as_text=True)
    assert re.search(r"X-WR-CALNAME:[^\r\n]*Анна Петрова", russian)
    assert re.search(r"X-WR-CALNAME:[^\r\n]*Anna Petrova", english)
