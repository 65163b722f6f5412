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


@pytest.mark.parametrize(("language", "first", "other", "other_lang"), [
    ("ru", ORIGINAL, LATIN, "en"),
    ("en", LATIN, ORIGINAL, "ru"),
])
def test_each_reader_sees_the_title_in_their_script_first(client, may6, language, first, other, other_lang):
    pages = _pages(client, {"Accept-Language": language})
    assert re.search(rf'<a href="/cases/may6">{first}</a>', pages["/defendants/anna"])
    assert re.search(rf"<title>{first}[^<]*</title>", pages["/cases/may6"])
    assert re.search(rf'<h1><span class="first">{first}</span> <span class="other" lang="{other_lang}">{other}</span></h1>',
                     pages["/cases/may6"])
    for path in ("/", "/hearings"):
        assert re.search(rf'<option value="may6"[^>]*>{first}</option>', pages[path]), path
    assert re.search(rf'<option value="{may6.id}">{first}</option>', pages["/actions/new"])
    assert re.search(rf"<summary>{first} \(1\)</summary>", pages["/actions/new"])
    for page in pages.values():  # the other spelling only beside the first, on the case page
        assert other not in page.replace(f'lang="{other_lang}">{other}<', "")


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
