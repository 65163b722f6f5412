"""Private fields and hidden defendants never reach an API answer or the public CSV.

As tests/auth/test_auth_private_fields.py does for pages and feeds: a marker is stored in
every private place (lawyers' contacts, internal notes, a hidden defendant's names, bio,
address, measures, decisions and hearings, volunteers' and editors' email addresses, organisers'
contacts and actions that are pending, rejected or for the hidden defendant alone), then
every route of the API and the export is walked from app.url_map (a route added later
is walked too), with every record id, with filters, following every cursor.
"""
from __future__ import annotations

from datetime import datetime, timezone

import time_machine

from tests.api.conftest import MARKER
from tracker.extensions import db
from tracker.reminders.models import Scope, Subscription

API_BLUEPRINTS = ("api.", "export.")


def _urls(app, records) -> tuple[list[str], set[str]]:
    """Every API and export URL for every record, and the listings with each filter."""
    from flask import url_for

    ids = records.ids
    candidates = {
        "slug": ["anna", "boris", "bolotnaya", "other", records.slugs["hidden"]],
        "hearing_id": [ids[k] for k in ("together", "urals_hearing", "past", "cancelled", "secret")],
        "court_id": [ids["moscow"], ids["urals"]],
        "anything": ["nothing"],
    }
    urls, endpoints = [], set()
    for rule in app.url_map.iter_rules():
        if not rule.endpoint.startswith(API_BLUEPRINTS) or "GET" not in rule.methods:
            continue
        endpoints.add(rule.endpoint)
        arguments = sorted(rule.arguments - set(rule.defaults or {}))
        assert len(arguments) <= 1, rule  # extend the walk below for routes with more arguments
        unknown = [a for a in arguments if a not in candidates]
        assert not unknown, f"{rule.rule}: give the walk values for {unknown}"
        values = [{}] if not arguments else [{arguments[0]: v} for v in candidates[arguments[0]]]
        with app.test_request_context():
            for value in values:
                urls.append(url_for(rule.endpoint, **value))
    filters = ["case=bolotnaya", "case=other", "defendant=anna", "defendant=boris", f"court={ids['moscow']}",
               "status=scheduled", "status=held", "from=2026-01-01&to=2026-12-31", "limit=1"]
    urls += [f"/api/v1/hearings?{f}" for f in filters]
    urls += ["/api/v1/defendants?case=bolotnaya", "/api/v1/defendants?status=pre_trial_detention",
             "/api/v1/defendants?limit=1", "/api/v1/cases?limit=1", "/api/v1/courts?limit=1",
             "/export/defendants.csv?delimiter=semicolon",
             "/api/v1/actions?case=bolotnaya", "/api/v1/actions?defendant=anna", "/api/v1/actions?limit=1"]
    return urls, endpoints


def test_no_private_marker_in_any_api_answer_or_the_csv(app, client, public_records, make_user, now):
    db.session.add(Subscription(email=f"{MARKER.lower()}@example.org", scope=Scope.DEFENDANT,
                                defendant_id=public_records.ids["anna"], scope_key=f"defendant:{public_records.ids['anna']}",
                                lead_minutes=[1440], confirmed_at=datetime(2026, 1, 1, tzinfo=timezone.utc)))
    db.session.commit()
    make_user(f"{MARKER.lower()}.editor@example.org")

    urls, endpoints = _urls(app, public_records)
    seen: dict[str, int] = {}
    queue = list(urls)
    with time_machine.travel(now, tick=False):
        while queue:
            url = queue.pop(0)
            if url in seen:
                continue
            response = client.get(url, headers={"Accept-Language": "en"})
            body = response.get_data(as_text=True)
            headers = "\n".join(f"{k}: {v}" for k, v in response.headers.items())
            assert MARKER.lower() not in body.lower(), f"{url} shows a private field or a hidden defendant"
            assert MARKER.lower() not in headers.lower(), f"{url} has a private field in a header"
            seen[url] = response.status_code
            if response.mimetype == "application/json" and response.status_code == 200:
                following = response.get_json().get("next") if isinstance(response.get_json(), dict) else None
                if following:
                    queue.append(following.replace("http://localhost", ""))

    # the walk really rendered the records: every route answered 200 for the public ones
    assert endpoints >= {"api.index", "api.openapi_document", "api.cases", "api.case", "api.defendants",
                         "api.defendant", "api.hearings", "api.hearing", "api.courts", "api.court",
                         "export.defendants_csv"}
    hidden = public_records.slugs["hidden"]
    assert seen[f"/api/v1/defendants/{hidden}"] == 404
    assert seen[f"/api/v1/hearings/{public_records.ids['secret']}"] == 404
    for url in ("/api/v1/defendants/anna", "/api/v1/defendants/boris", "/api/v1/cases/bolotnaya",
                f"/api/v1/hearings/{public_records.ids['together']}", "/export/defendants.csv",
                f"/api/v1/courts/{public_records.ids['moscow']}"):
        assert seen[url] == 200, url
    followed = [url for url in seen if "cursor=" in url]
    assert len(followed) >= 5, followed  # the pages behind the cursors were walked too
    assert all(code == 200 for url, code in seen.items() if "cursor=" in url)
