"""A case's title is shown in the reader's script, like a defendant's name: a Russian reader
knows «Дело 6 мая», not "May 6th affair" (the defendant page said «Дело: May 6th affair»).

Case.title is the Latin/English title, Case.title_original the one in the original script."""
from __future__ import annotations

import re

import pytest
import sqlalchemy as sa

from tests.auth.support import csrf_token, new_client
from tracker.extensions import db, utcnow
from tracker.mail.sending import send_pending
from tracker.reminders.models import Subscription

RU = {"Accept-Language": "ru"}
EN = {"Accept-Language": "en"}
LATIN, ORIGINAL = "May 6th affair", "Дело 6 мая"


@pytest.fixture
def may6(make_case, make_defendant, make_hearing, now):
    from datetime import timedelta
    case = make_case(slug="may6", title=LATIN, title_original=ORIGINAL)
    person = make_defendant(slug="anna", name_latin="Anna Petrova", name_original="Анна Петрова")
    case.defendants.append(person)
    make_hearing(starts_at=now + timedelta(days=3), defendants=[person], case=case)
    db.session.commit()
    return case


def _pages(client, headers) -> dict[str, str]:
    return {path: client.get(path, headers=headers).get_data(as_text=True)
            for path in ("/defendants/anna", "/cases/may6", "/", "/hearings", "/actions/new")}


def test_a_russian_reader_sees_the_original_title_everywhere(client, may6):
    ru = _pages(client, RU)
    assert re.search(rf'<a href="/cases/may6">{ORIGINAL}</a>', ru["/defendants/anna"])
    assert re.search(rf"<title>{ORIGINAL}[^<]*</title>", ru["/cases/may6"])
    assert re.search(rf'<h1><span class="first">{ORIGINAL}</span> <span class="other" lang="en">{LATIN}</span></h1>',
                     ru["/cases/may6"])
    for path in ("/", "/hearings"):
        assert re.search(rf'<option value="may6"[^>]*>{ORIGINAL}</option>', ru[path]), path
    assert re.search(rf'<option value="{may6.id}">{ORIGINAL}</option>', ru["/actions/new"])
    assert re.search(rf"<summary>{ORIGINAL} \(1\)</summary>", ru["/actions/new"])
    for page in ru.values():
        assert LATIN not in page.replace(f'lang="en">{LATIN}<', "")  # only as the other spelling on the case page


def test_an_english_reader_sees_the_latin_title(client, may6):
    en = _pages(client, EN)
    assert re.search(rf'<a href="/cases/may6">{LATIN}</a>', en["/defendants/anna"])
    assert re.search(rf"<title>{LATIN}[^<]*</title>", en["/cases/may6"])
    assert re.search(rf'<h1><span class="first">{LATIN}</span> <span class="other" lang="ru">{ORIGINAL}</span></h1>',
                     en["/cases/may6"])
    for path in ("/", "/hearings"):
        assert re.search(rf'<option value="may6"[^>]*>{LATIN}</option>', en[path]), path
    assert re.search(rf"<summary>{LATIN} \(1\)</summary>", en["/actions/new"])


def test_a_russian_sign_up_to_a_case_is_confirmed_with_the_original_title(app, may6, smtp_server):
    web = new_client(app)
    token = csrf_token(web, "/")
    response = web.post("/reminders/signup", headers={"Accept-Language": "ru"}, data={
        "email": "volunteer@example.org", "follow": "case:may6", "mode": "each", "leads": ["1440"],
        "next": "/cases/may6", "csrf_token": token,
    })
    assert response.status_code == 302
    assert db.session.scalar(sa.select(Subscription)).language == "ru"
    send_pending(db.session, utcnow())
    [confirmation] = smtp_server.received_by("volunteer@example.org")
    text = confirmation.get_body(preferencelist=("plain",)).get_content()
    assert f"«{ORIGINAL}»" in text or f"“{ORIGINAL}”" in text
    assert LATIN not in text
