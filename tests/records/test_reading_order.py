"""Lists of people, cases and courts are sorted as the reader reads them: a Russian reader sees
«Вера» before «Тимур», the order of the names shown, not of their Latin spellings (where Vera
comes after Timur). Found by reading the demo's home page in Russian: Вера Устарева came last
but one, after Тимур."""
from __future__ import annotations

import re
from datetime import timedelta

import pytest
import time_machine
import sqlalchemy as sa

from tests.auth.support import admin, admin_client, make_user  # noqa: F401 (fixtures)
from tracker.extensions import db
from tracker.records.models import Defendant
from tracker.records.names import reading_key

RU = {"Accept-Language": "ru"}
EN = {"Accept-Language": "en"}

# Latin order: Andrei, Elena, Timur, Vera, Yolkin, Zhanna.
# Russian order: Андрей, Вера, Елена, Ёлкин (ё sorts as е), Жанна, Тимур, then a name that has
# no Cyrillic spelling (the reader's script first, as a Russian dictionary does).
PEOPLE = [
    ("timur", "Timur Obraztsov", "Тимур Образцов"),
    ("vera", "Vera Ustareva", "Вера Устарева"),
    ("andrei", "Andrei Chernovikov", "Андрей Черновиков"),
    ("zhanna", "Zhanna Ivanova", "Жанна Иванова"),
    ("yolkin", "Yolkin Pyotr", "Ёлкин Пётр"),
    ("elena", "Elena Shablonova", "Елена Шаблонова"),
    ("john", "John Smith", ""),
]
RUSSIAN_ORDER = ["andrei", "vera", "elena", "yolkin", "zhanna", "timur", "john"]
ENGLISH_ORDER = ["andrei", "elena", "john", "timur", "vera", "yolkin", "zhanna"]


@pytest.fixture
def people(make_case, make_defendant):
    case = make_case(slug="six-may", title="May 6th affair", title_original="Дело 6 мая")
    made = [make_defendant(slug=slug, name_latin=latin, name_original=original, cases=[case])
            for slug, latin, original in PEOPLE]
    db.session.commit()
    return made


def _slugs(page: str, prefix: str = "/defendants/") -> list[str]:
    found = re.findall(re.escape(prefix) + r'([a-z]+)"', page)
    return list(dict.fromkeys(found))  # a person linked twice on a line counts once


@pytest.mark.parametrize("url", ["/", "/?case=six-may", "/cases/six-may"])
def test_public_lists_are_sorted_as_the_reader_reads_them(client, people, url):
    assert _slugs(client.get(url, headers=RU).text) == RUSSIAN_ORDER, url
    assert _slugs(client.get(url, headers=EN).text) == ENGLISH_ORDER, url


def test_pages_of_the_home_list_follow_the_readers_order(app, client, people, monkeypatch):
    """The home list is paginated in SQL: page two must go on where page one stopped."""
    monkeypatch.setitem(app.config, "DEFENDANTS_PER_PAGE", 4)
    first = _slugs(client.get("/", headers=RU).text)
    second = _slugs(client.get("/?page=2", headers=RU).text)
    assert (first, second) == (RUSSIAN_ORDER[:4], RUSSIAN_ORDER[4:])


def test_the_stored_key_and_the_python_key_agree(people):
    """The home list sorts in SQL by the stored key (it is paginated), the other lists in Python
    by `reading_key`: one rule. The key follows a rename."""
    in_sql = list(db.session.scalars(sa.select(Defendant.slug).order_by(Defendant.sort_key_original, Defendant.id)))
    in_python = [p.slug for p in sorted(people, key=lambda p: reading_key(p.name_latin, p.name_original, True))]
    assert in_sql == in_python == RUSSIAN_ORDER
    english = [p.slug for p in sorted(people, key=lambda p: reading_key(p.name_latin, p.name_original, False))]
    assert english == ENGLISH_ORDER
    vera = next(p for p in people if p.slug == "vera")
    vera.name_original = "Ярослава Устарева"
    db.session.commit()
    last = list(db.session.scalars(sa.select(Defendant.slug).order_by(Defendant.sort_key_original)))[-2:]
    assert last == ["vera", "john"]


def test_the_editors_choices_are_sorted_as_the_reader_reads_them(admin_client, people, make_court):
    for name, original in (("Basmanny District Court", "Басманный районный суд"),
                           ("Moscow City Court", "Мосгорсуд"), ("Zamoskvoretsky District Court", "Замоскворецкий")):
        make_court(name=name, name_original=original)
    db.session.commit()
    form = admin_client.get("/edit/hearings/new", headers=RU).text
    courts = re.findall(r'<option value="[1-9]\d*">([^<]+)</option>', _select(form, "court"))
    assert courts == ["Басманный районный суд", "Замоскворецкий", "Мосгорсуд"]
    russian_names = [original or latin for _, latin, original in PEOPLE]
    people_shown = [name for name in re.findall("|".join(russian_names), form)]
    assert people_shown == ["Андрей Черновиков", "Вера Устарева", "Елена Шаблонова", "Ёлкин Пётр",
                            "Жанна Иванова", "Тимур Образцов", "John Smith"]
    english = admin_client.get("/edit/hearings/new", headers=EN).text
    courts = re.findall(r'<option value="[1-9]\d*">([^<]+)</option>', _select(english, "court"))
    assert courts == ["Basmanny District Court", "Moscow City Court", "Zamoskvoretsky District Court"]


def _select(page: str, name: str) -> str:
    match = re.search(rf'<select[^>]*name="{name}"[^>]*>(.*?)</select>', page, re.S)
    assert match, f"no select named {name}"
    return match.group(1)


def test_the_action_forms_people_are_sorted_as_the_reader_reads_them(client, people):
    """The action form groups people by case, then by name as read (records.names.reading_key)."""
    russian = client.get("/actions/new", headers=RU).text
    names = [original or latin for _, latin, original in PEOPLE]
    assert re.findall("|".join(names), russian) == ["Андрей Черновиков", "Вера Устарева", "Елена Шаблонова",
                                                    "Ёлкин Пётр", "Жанна Иванова", "Тимур Образцов", "John Smith"]


@pytest.mark.parametrize("url", ["/hearings", "/cases/six-may", "/defendants/vera"])
def test_a_hearings_people_are_listed_as_the_reader_reads_them(client, people, make_hearing, now, url):
    """A hearing of the whole case names every defendant on its line."""
    make_hearing(case=people[0].cases[0], defendants=people, starts_at=now + timedelta(days=2))
    db.session.commit()
    with time_machine.travel(now, tick=False):
        russian, english = client.get(url, headers=RU).text, client.get(url, headers=EN).text
    # a line names its people as links separated by commas, in one element
    line = re.compile(r'>(?:<a href="/defendants/[a-z]+"[^>]*>[^<]+</a>(?:, )?){7}<')
    russian_line = max(line.findall(russian), key=len)
    names = [original or latin for _, latin, original in PEOPLE]
    assert re.findall("|".join(names), russian_line) == [
        "Андрей Черновиков", "Вера Устарева", "Елена Шаблонова", "Ёлкин Пётр", "Жанна Иванова", "Тимур Образцов",
        "John Smith"]
    latin = [latin for _, latin, _ in PEOPLE]
    english_line = max(line.findall(english), key=len)
    assert re.findall("|".join(latin), english_line) == [
        "Andrei Chernovikov", "Elena Shablonova", "John Smith", "Timur Obraztsov", "Vera Ustareva", "Yolkin Pyotr",
        "Zhanna Ivanova"]


@pytest.mark.parametrize("url", ["/actions", "/cases/six-may", "/defendants/vera"])
def test_an_actions_people_are_listed_as_the_reader_reads_them(client, people, now, url):
    from tracker.actions.models import Action, ActionStatus
    starts = now + timedelta(days=3)
    db.session.add(Action(title="Vigil for the whole case", city="Berlin", country="DE", timezone="Europe/Berlin",
                          status=ActionStatus.APPROVED, contact="organiser@example.org", starts_at=starts,
                          ends_at=starts + timedelta(hours=2), created_at=now, updated_at=now,
                          case_id=people[0].cases[0].id, defendants=people))
    db.session.commit()
    with time_machine.travel(now, tick=False):
        russian, english = client.get(url, headers=RU).text, client.get(url, headers=EN).text
    action = re.compile(r"Vigil for the whole case(?:(?!</article>|</li>).)*", re.S)
    names = "|".join([original or latin for _, latin, original in PEOPLE])
    assert re.findall(names, action.search(russian).group(0)) == [
        "Андрей Черновиков", "Вера Устарева", "Елена Шаблонова", "Ёлкин Пётр", "Жанна Иванова", "Тимур Образцов",
        "John Smith"]
    latin = "|".join(latin for _, latin, _ in PEOPLE)
    assert re.findall(latin, action.search(english).group(0)) == [
        "Andrei Chernovikov", "Elena Shablonova", "John Smith", "Timur Obraztsov", "Vera Ustareva", "Yolkin Pyotr",
        "Zhanna Ivanova"]
