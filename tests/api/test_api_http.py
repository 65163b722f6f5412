"""ETag and 304, Cache-Control, CORS, and no cookie: what lets caches and other sites use the API."""
from __future__ import annotations

import pytest

from tests.auth.support import log_in, new_client
from tracker.extensions import db
from tracker.records.models import Hearing

URLS = ["/api/v1/", "/api/v1/openapi.json", "/api/v1/cases", "/api/v1/cases/bolotnaya", "/api/v1/defendants",
        "/api/v1/defendants/anna", "/api/v1/hearings", "/api/v1/courts", "/export/defendants.csv"]


@pytest.mark.parametrize("url", URLS)
def test_etag_and_304(client, public_records, url):
    first = client.get(url)
    assert first.status_code == 200
    etag = first.headers["ETag"]
    assert etag.startswith('"') and not etag.startswith("W/")  # strong
    again = client.get(url)
    assert again.headers["ETag"] == etag  # the same data, the same validator
    cached = client.get(url, headers={"If-None-Match": etag})
    assert cached.status_code == 304
    assert cached.data == b""
    assert cached.headers["ETag"] == etag
    assert cached.headers["Cache-Control"] == first.headers["Cache-Control"]
    assert cached.headers["Access-Control-Allow-Origin"] == "*"
    assert client.get(url, headers={"If-None-Match": f'"other", {etag}'}).status_code == 304
    assert client.get(url, headers={"If-None-Match": '"other"'}).status_code == 200
    assert client.get(url, headers={"If-None-Match": "*"}).status_code == 304


def test_the_etag_changes_with_what_the_answer_shows(client, public_records):
    url = f"/api/v1/hearings/{public_records.ids['together']}"
    before = client.get(url).headers["ETag"]
    hearing = db.session.get(Hearing, public_records.ids["together"])
    hearing.courtroom = "101"
    db.session.commit()
    after = client.get(url, headers={"If-None-Match": before})
    assert after.status_code == 200
    assert after.get_json()["courtroom"] == "101"
    assert after.headers["ETag"] != before


def test_cache_control_comes_from_the_settings(app, client, public_records):
    assert client.get("/api/v1/hearings").headers["Cache-Control"] == "public, max-age=60"
    assert client.get("/export/defendants.csv").headers["Cache-Control"] == "public, max-age=300"
    saved = app.config["API_CACHE_SECONDS"]
    app.config["API_CACHE_SECONDS"] = 5
    try:
        assert client.get("/api/v1/hearings").headers["Cache-Control"] == "public, max-age=5"
    finally:
        app.config["API_CACHE_SECONDS"] = saved


@pytest.mark.parametrize("url", URLS + ["/api/v1/nothing", "/api/v1/hearings?limit=0"])
def test_cors_lets_any_site_read_but_never_with_credentials(client, public_records, url):
    response = client.get(url, headers={"Origin": "https://campaign.example"})
    assert response.headers["Access-Control-Allow-Origin"] == "*"
    assert "ETag" in response.headers["Access-Control-Expose-Headers"]
    assert "Link" in response.headers["Access-Control-Expose-Headers"]
    assert "Access-Control-Allow-Credentials" not in response.headers


def test_preflight_for_a_conditional_get(client, public_records):
    response = client.options("/api/v1/hearings", headers={
        "Origin": "https://campaign.example", "Access-Control-Request-Method": "GET",
        "Access-Control-Request-Headers": "if-none-match"})
    assert response.status_code == 200
    assert response.headers["Access-Control-Allow-Origin"] == "*"
    assert set(response.headers["Access-Control-Allow-Methods"].split(", ")) == {"GET", "HEAD", "OPTIONS"}
    assert "If-None-Match" in response.headers["Access-Control-Allow-Headers"]
    assert "Access-Control-Allow-Credentials" not in response.headers
    assert "POST" not in response.headers["Allow"]


def test_head_answers_headers_only(client, public_records):
    get, head = client.get("/api/v1/hearings"), client.head("/api/v1/hearings")
    assert head.status_code == 200 and head.data == b""
    assert head.headers["ETag"] == get.headers["ETag"]


@pytest.mark.parametrize("url", URLS + ["/api/v1/nothing", "/export/defendants.csv?delimiter=tab"])
def test_no_cookie_and_no_vary_on_cookie_even_for_a_logged_in_editor(app, editor, public_records, url):
    browser = new_client(app)
    assert log_in(browser, editor.email).status_code == 302
    for client in (browser, new_client(app)):
        response = client.get(url)
        assert "Set-Cookie" not in response.headers, url
        assert "Cookie" not in response.headers.get("Vary", ""), url
    # the editor is still logged in on the pages: the API left the session alone
    assert browser.get("/edit/").status_code == 200


def test_errors_are_json_and_not_cached_for_long(client):
    response = client.get("/api/v1/hearings?limit=0")
    assert response.status_code == 400
    assert response.get_json()["error"]["message"]
    assert response.headers["Cache-Control"] == "public, max-age=60"
    assert response.headers["Access-Control-Allow-Origin"] == "*"


def test_a_database_outage_is_a_json_500_without_details(tmp_path):
    """With the database down, the API still answers in JSON (and says nothing about why)."""
    from config import TestConfig
    from tests.conftest import free_port
    from tracker import create_app

    class Unreachable(TestConfig):
        SQLALCHEMY_DATABASE_URI = f"postgresql+psycopg://nobody@127.0.0.1:{free_port()}/none"
        PROPAGATE_EXCEPTIONS = False  # as in production: errors become answers
        FEEDS_DIR = str(tmp_path)

    outage = create_app(Unreachable).test_client()
    response = outage.get("/api/v1/courts")
    assert response.status_code == 500
    assert response.mimetype == "application/json"
    assert response.get_json() == {"error": {"status": 500, "message": "Something went wrong on our side."}}
    assert response.headers["Cache-Control"] == "no-store"
    assert response.headers["Access-Control-Allow-Origin"] == "*"
