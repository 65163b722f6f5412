"""Hostile URLs and form values get a 4xx with a reason, never a 500, on both databases.

Each case here was a 500 found by an outside attack (issue 8, items 5 and 7);
tests/app/test_hostile_input.py walks every route the same way.
"""
from __future__ import annotations

import html
import re
from pathlib import Path

import pytest
import sqlalchemy as sa

from tests.auth.support import admin, admin_client, csrf_token, editor, editor_client, make_user, post_form  # noqa: F401
from tracker.auth.models import Role
from tracker.editing.models import AuditEntry
from tracker.extensions import db
from tracker.records.models import Case, Defendant

SITE_PAGE = "Back to the list of defendants"  # every page of ours has it; a bare server error does not


def text(response) -> str:
    return html.unescape(response.get_data(as_text=True))


def field_errors(response, field_id: str) -> list[str]:
    """The messages shown next to a field."""
    found = re.findall(rf'id="{field_id}-error"[^>]*>([^<]+)<', response.get_data(as_text=True))
    assert found, f"no error next to {field_id}"
    return [html.unescape(message) for message in found]


def assert_site_error(response, status: int) -> None:
    assert response.status_code == status, response.status_code
    assert SITE_PAGE in text(response)
    assert "frame-ancestors 'none'" in response.headers["Content-Security-Policy"]
    assert response.headers["X-Content-Type-Options"] == "nosniff"


@pytest.fixture
def public_records(make_case, make_defendant, make_hearing, make_user):
    case = make_case(slug="bolotnaya")
    person = make_defendant(slug="ivan-petrov", cases=[case])
    make_hearing(defendants=[person], case=case)
    db.session.commit()
    return case, person


@pytest.mark.parametrize("path", [
    "/?q=iv%00an",
    "/?q=ivan%0D%0AX-Injected:%20yes",
    "/?case=bolotnaya%00",
    "/defendants/ivan-petrov%00",
    "/cases/bolotnaya%00",
    "/hearings?case=bolotnaya%00",
    "/reminders/signup?follow=defendant:ivan-petrov%00",
    "/reminders/manage/abc%00def",
    "/reminders/unsubscribe/abc%00def",
    "/feeds/private/abc%00def.ics",
    "/feeds/cases/bolotnaya%00.ics",
    "/password-reset/abc%00def",
    "/?q%00=ivan",
    "/?q=%1B%5B2J",
])
def test_control_characters_in_a_url_are_a_400_with_a_reason(client, public_records, path):
    response = client.get(path)
    assert_site_error(response, 400)
    assert "control character" in text(response)


def test_the_same_words_with_no_control_character_still_work(client, public_records):
    assert client.get("/?q=ivan").status_code == 200
    assert client.get("/defendants/ivan-petrov").status_code == 200
    assert client.get("/hearings?case=bolotnaya").status_code == 200


@pytest.mark.parametrize("path", [
    "/feeds/cases/bolotnaya%00.ics",
    "/feeds/defendants/" + "x" * 300 + ".ics",
    "/feeds/with-alarm/cases/" + "ж" * 200 + ".ics",
])
def test_a_revalidation_of_a_feed_no_file_can_be_is_answered_by_the_app(app, client, public_records, path):
    """The middleware that answers 304s before Flask used to crash on these (a bare 500)."""
    for folder in ("cases", "defendants", "with-alarm/cases", "with-alarm/defendants"):
        (Path(app.config["FEEDS_DIR"]) / folder).mkdir(parents=True, exist_ok=True)  # as once published
    response = client.get(path, headers={"If-None-Match": '"abc"'})
    assert response.status_code in (400, 404)
    assert_site_error(response, response.status_code)


@pytest.mark.parametrize("number", [str(2**31), str(2**63), str(2**64), "9" * 30, "9" * 5000])
def test_ids_no_table_can_hold_are_404(admin_client, public_records, number):
    for path in (f"/feeds/hearings/{number}.ics", f"/edit/cases/{number}", f"/edit/hearings/{number}/postpone",
                 f"/admin/accounts/{number}"):
        assert_site_error(admin_client.get(path), 404)
    token = csrf_token(admin_client, "/edit/")
    assert admin_client.post(f"/edit/defendants/{number}", data={"csrf_token": token}).status_code == 404
    # the largest id that fits is a plain "no such record"
    assert admin_client.get(f"/edit/cases/{2**31 - 1}").status_code == 404


@pytest.mark.parametrize("before", [str(2**31), str(2**63), "-99999999999999999999", "0", "-1", "abc", "9" * 5000])
def test_the_audit_feed_takes_any_before_value(admin_client, public_records, before):
    response = admin_client.get(f"/admin/audit?before={before}")
    assert response.status_code == 200


@pytest.mark.parametrize("version", ["-99999999999999999999", str(2**63), "-1", "1e3", str(2**31)])
def test_a_version_no_record_can_have_is_refused_with_a_message(editor_client, make_case, version):
    case = make_case(title="Bolotnaya", slug="bolotnaya")
    db.session.commit()
    response = post_form(editor_client, f"/edit/cases/{case.id}",
                         {"title": "Renamed", "slug": "bolotnaya", "version": version})
    assert response.status_code == 422
    assert "Reload the page" in text(response)
    assert 'value="Renamed"' in response.get_data(as_text=True)  # nothing typed is lost
    db.session.expire_all()
    assert db.session.get(Case, case.id).title == "Bolotnaya"


def test_a_nul_in_a_login_is_refused_next_to_the_field(client, make_user):
    make_user("editor@example.org")
    response = post_form(client, "/login", {"email": "editor@example.org\x00", "password": "x" * 20})
    assert response.status_code in (200, 401, 422)
    assert "one line" in text(response)


@pytest.mark.parametrize("field,value", [
    ("name_latin", "Ivan\x00Petrov"),
    ("name_latin", "Ivan\r\nPetrov"),
    ("name_original", "Иван\tПетров"),
    ("slug", "ivan\x00"),
])
def test_control_characters_in_a_single_line_field_are_refused_and_kept(editor_client, make_defendant, field,
                                                                         value):
    person = make_defendant(slug="ivan-petrov")
    db.session.commit()
    data = {"name_latin": "Ivan Petrov", "name_original": "Иван Петров", "slug": "ivan-petrov",
            "status": "bail", "letters_status": "unknown", "bio": "kept\r\ntoo", "version": str(person.version)}
    response = post_form(editor_client, f"/edit/defendants/{person.id}", {**data, field: value})
    assert response.status_code == 422
    assert "Keep this on one line, without line breaks or other control characters." in " ".join(field_errors(response, field))
    assert "kept" in text(response)
    assert db.session.scalar(sa.select(sa.func.count(AuditEntry.id))) == 0


def test_a_text_area_keeps_line_breaks_and_tabs_but_refuses_nul(editor_client, make_defendant):
    person = make_defendant(slug="ivan-petrov")
    db.session.commit()
    data = {"name_latin": "Ivan Petrov", "name_original": "Иван Петров", "slug": "ivan-petrov",
            "status": "bail", "letters_status": "unknown", "version": str(person.version)}
    refused = post_form(editor_client, f"/edit/defendants/{person.id}", {**data, "bio": "one\x00two"})
    assert refused.status_code == 422
    assert "Remove the control characters" in field_errors(refused, "bio")[0]
    saved = post_form(editor_client, f"/edit/defendants/{person.id}", {**data, "bio": "one\r\n\ttwo\rthree"})
    assert saved.status_code == 302
    db.session.expire_all()
    assert db.session.get(Defendant, person.id).bio == "one\n\ttwo\nthree"
