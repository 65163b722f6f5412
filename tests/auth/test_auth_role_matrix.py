"""Every route declares who may reach it, and really behaves so.

The test walks app.url_map, so a route added later by any feature is checked too:
one without a declaration fails here, and so does one whose declaration lies.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import pytest
from werkzeug.routing import IntegerConverter

from tests.auth.support import csrf_token, log_in, new_client
from tracker.auth.models import Role
from tracker.access import ADMIN, EDITOR, PUBLIC, TOKEN
from tracker.extensions import db
from tracker.records.models import Case

DECLARED = {PUBLIC, TOKEN, EDITOR, ADMIN}
# URL arguments that name a record tied to a case: an editor limited to another case gets 403.
CASE_BOUND = {"case_id", "defendant_id", "hearing_id", "measure_id", "decision_id"}
# Records every case shares (courts): an editor limited to some cases gets 403, editors of all cases may.
SHARED = {"editing.courts", "editing.edit_court"}


@dataclass
class Call:
    endpoint: str
    method: str
    url: str
    access: str
    case_bound: bool


def _rules(app):
    ends_session = ("auth.logout", "auth.logout_everywhere")  # walked last
    for rule in sorted(app.url_map.iter_rules(), key=lambda r: (r.endpoint in ends_session, r.rule)):
        if rule.endpoint == "static":
            continue
        yield rule


def test_every_route_declares_its_access(app):
    missing = []
    for rule in _rules(app):
        view = app.view_functions[rule.endpoint]
        if getattr(view, "access", None) not in DECLARED:
            missing.append(f"{rule.rule} ({rule.endpoint})")
    assert not missing, "routes without public/token_access/editor_required/admin_required: " + ", ".join(missing)


@pytest.fixture
def records(make_case, make_defendant, make_measure, make_decision, make_hearing, make_user):
    """The same kinds of records in two cases; `slug` names both a case and a defendant."""

    def objects(case, slug):
        person = make_defendant(slug=slug, cases=[case])
        measure = make_measure(person, starts_on=date(2025, 6, 8), until=date(2025, 8, 6))
        decision = make_decision(person)
        hearing = make_hearing(defendants=[person], case=case)
        return {"case_id": case.id, "defendant_id": person.id, "hearing_id": hearing.id,
                "measure_id": measure.id, "decision_id": decision.id}

    theirs = make_case(slug="theirs")
    mine = make_case(slug="mine")
    other_account = make_user("someone@example.org")
    data = {
        "theirs": objects(theirs, "theirs"),
        "mine": objects(mine, "mine"),
        "user_id": other_account.id,
        "token": other_account.feed_token,
        "court_id": db.session.get(Case, theirs.id).hearings[0].court_id,
    }
    db.session.commit()
    return data


def _calls(app, ids: dict) -> list[Call]:
    calls = []
    for rule in _rules(app):
        access = getattr(app.view_functions[rule.endpoint], "access", None)
        values, bound = {}, False
        for name in rule.arguments - set(rule.defaults or {}):
            if name in ids:
                values[name] = ids[name]
                bound = bound or name in CASE_BOUND
            elif name == "slug":
                values[name] = ids["slug"]
            elif isinstance(rule._converters[name], IntegerConverter):
                values[name] = ids.get("user_id", 1) if name == "user_id" else 1
            else:
                values[name] = "not-a-real-token"
        with app.test_request_context():
            from flask import url_for

            url = url_for(rule.endpoint, **values, **(rule.defaults or {}))
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            calls.append(Call(rule.endpoint, method, url, access, bound))
    return calls


def _request(client, call: Call, token: str):
    if call.method == "GET":
        return client.get(call.url)
    return client.open(call.url, method=call.method, data={"csrf_token": token})


def _logged_in(app, email: str):
    client = new_client(app)
    assert log_in(client, email).status_code == 302
    return client, csrf_token(client, "/edit/")


def _is_login_redirect(response) -> bool:
    return response.status_code == 302 and response.headers["Location"].startswith("/login")


def test_role_matrix(app, records, make_user, now):
    make_user("admin@example.org", role=Role.ADMIN)
    make_user("editor@example.org")
    make_user("limited@example.org", cases=[db.session.get(Case, records["mine"]["case_id"])])
    shared = {"user_id": records["user_id"], "token": records["token"], "court_id": records["court_id"]}
    theirs = {**records["theirs"], "slug": "theirs", **shared}
    mine = {**records["mine"], "slug": "mine", **shared}
    calls = _calls(app, theirs)
    problems: list[str] = []

    def check(who: str, call: Call, response, ok: bool, expected: str) -> None:
        if not ok:
            problems.append(f"{who} {call.method} {call.url} [{call.access}]: got {response.status_code} "
                            f"{response.headers.get('Location', '')}, expected {expected}")

    anonymous = new_client(app)
    anon_token = csrf_token(anonymous, "/login")
    for call in calls:
        response = _request(anonymous, call, anon_token)
        if call.access in (EDITOR, ADMIN):
            check("anonymous", call, response, _is_login_redirect(response), "a redirect to /login")
        else:
            check("anonymous", call, response, response.status_code < 500 and not _is_login_redirect(response),
                  "an answer without login")

    limited, limited_token = _logged_in(app, "limited@example.org")
    for call in calls:
        response = _request(limited, call, limited_token)
        if call.access == ADMIN or (call.access == EDITOR and (call.case_bound or call.endpoint in SHARED)):
            check("editor limited to another case", call, response, response.status_code == 403, "403")
        else:
            check("editor limited to another case", call, response,
                  response.status_code < 500 and not _is_login_redirect(response), "no login redirect, no 500")
    # ...and the same editor reaches the same routes for their own case's records
    for call in _calls(app, mine):
        if call.access == EDITOR and call.case_bound:
            response = _request(limited, call, limited_token)
            check("editor on their own case", call, response,
                  response.status_code not in (401, 403) and response.status_code < 500, "access")

    for who in ("editor@example.org", "admin@example.org"):
        client, token = _logged_in(app, who)
        for call in calls:
            response = _request(client, call, token)
            if call.access == ADMIN and who.startswith("editor"):
                check(who, call, response, response.status_code == 403, "403")
            else:
                check(who, call, response, response.status_code not in (401, 403) and response.status_code < 500
                      and not _is_login_redirect(response), "access")

    assert not problems, "\n".join(problems)
    # the walk really covered the editing and admin routes
    endpoints = {c.endpoint for c in calls}
    assert {"editing.postpone_hearing", "editing.edit_defendant", "admin.invite",
            "admin.audit_feed", "editing.edit_court"} <= endpoints
