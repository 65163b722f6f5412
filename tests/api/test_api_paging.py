"""Cursor pagination, filters and bad parameters: every page once, every bad input a 400 with a reason."""
from __future__ import annotations

import base64
import json
from datetime import timedelta

import pytest
import sqlalchemy as sa

from tests.api.test_api_records import get_json
from tracker.extensions import db
from tracker.records.models import Defendant, Hearing, HearingStatus
from tracker.records.synthetic import seed_movement


def walk(client, url: str) -> tuple[list[dict], int]:
    """Every item of a listing, following `next`; also checks the Link header says the same."""
    items, pages = [], 0
    while url:
        response = client.get(url)
        assert response.status_code == 200, response.get_data(as_text=True)
        body = response.get_json()
        items += body["items"]
        pages += 1
        if body["next"]:
            assert response.headers["Link"] == f'<{body["next"]}>; rel="next"'
        else:
            assert "Link" not in response.headers
        url = body["next"]
        assert pages < 1000
    return items, pages


def test_walking_the_hearings_gives_each_public_hearing_once_in_start_order(client, now):
    seed_movement(db.session, defendants=30, hearings=120, now=now, prefix="syn")
    # hearings at the very same moment: the id breaks the tie, so none is skipped or repeated
    same = db.session.scalars(sa.select(Hearing).order_by(Hearing.id).limit(5)).all()
    for hearing in same:
        hearing.starts_at = now + timedelta(days=1)
    db.session.commit()
    items, pages = walk(client, "/api/v1/hearings?limit=7")
    assert pages == -(-120 // 7)
    expected = db.session.execute(sa.select(Hearing.starts_at, Hearing.id).order_by(Hearing.starts_at, Hearing.id)).all()
    assert [h["id"] for h in items] == [row.id for row in expected]
    # the filters travel with the cursor
    items, _ = walk(client, "/api/v1/hearings?limit=4&status=held&case=syn-case-1")
    assert items and {h["status"]["value"] for h in items} == {"held"}
    assert {h["case"]["slug"] for h in items} == {"syn-case-1"}
    assert len(items) == db.session.scalar(
        sa.select(sa.func.count(Hearing.id)).where(Hearing.status == HearingStatus.HELD,
                                                    Hearing.case.has(slug="syn-case-1")))


def test_walking_defendants_cases_and_courts(client, now):
    seed_movement(db.session, defendants=23, hearings=10, now=now, prefix="syn", cases=11)
    db.session.commit()
    defendants, _ = walk(client, "/api/v1/defendants?limit=5")
    assert len(defendants) == 23 == len({d["slug"] for d in defendants})
    # the database's own order (its collation), which the keyset comparison follows too
    expected = db.session.scalars(sa.select(Defendant.id).order_by(Defendant.name_latin, Defendant.id)).all()
    assert [d["id"] for d in defendants] == list(expected)
    cases, pages = walk(client, "/api/v1/cases?limit=5")
    assert (len(cases), pages) == (11, 3)
    courts, _ = walk(client, "/api/v1/courts?limit=2")
    assert len(courts) == 5


def test_hearing_filters(client, public_records):
    ids = public_records.ids

    def found(query: str) -> set[int]:
        return {h["id"] for h in get_json(client, f"/api/v1/hearings?{query}")["items"]}

    assert found("") == {ids[k] for k in ("together", "urals_hearing", "past", "cancelled")}
    assert found("defendant=boris") == {ids["urals_hearing"], ids["cancelled"]}
    assert found("case=other") == {ids["urals_hearing"]}
    assert found(f"court={ids['urals']}") == {ids["urals_hearing"]}
    assert found("status=cancelled") == {ids["cancelled"]}
    # together: 2026-03-04 12:00 Moscow; urals: 2026-03-07 15:00 Yekaterinburg (13:00 Moscow)
    assert found("from=2026-03-04&to=2026-03-04") == {ids["together"]}  # a date `to` includes the whole day
    assert found("from=2026-03-04T12:00:00%2B03:00&to=2026-03-04T12:00:01%2B03:00") == {ids["together"]}
    assert found("from=2026-03-04T12:00:01%2B03:00&to=2026-03-07") == {ids["urals_hearing"]}
    assert found("to=2026-03-07T13:00:00") == {ids["together"], ids["past"]}  # no offset: the site's zone
    assert found("from=2026-03-07T13:00:00") == {ids["urals_hearing"], ids["cancelled"]}


BAD = [
    ("/api/v1/hearings?limit=0", "'limit'"),
    ("/api/v1/hearings?limit=201", "'limit'"),
    ("/api/v1/hearings?limit=99999999999999999999999999", "'limit'"),
    ("/api/v1/hearings?limit=-1", "'limit'"),
    ("/api/v1/hearings?limit=%D9%A3", "'limit'"),  # an Arabic-Indic digit
    ("/api/v1/hearings?from=2026-13-45", "'from'"),
    ("/api/v1/hearings?to=yesterday", "'to'"),
    ("/api/v1/hearings?from=2026-02-30", "'from'"),
    ("/api/v1/hearings?to=2026-03-01T25:00", "'to'"),
    ("/api/v1/hearings?from=2026-03-05&to=2026-03-01", "'from' must come before 'to'"),
    ("/api/v1/hearings?court=99999999999999999999", "'court'"),
    ("/api/v1/hearings?court=2147483648", "'court'"),
    ("/api/v1/hearings?court=abc", "'court'"),
    ("/api/v1/hearings?court=12345", "no court"),
    ("/api/v1/hearings?case=%00", "control character"),
    ("/api/v1/hearings?defendant=a%00b", "control character"),
    ("/api/v1/hearings?case=" + "x" * 300, "too long"),
    ("/api/v1/hearings?status=lost", "'status'"),
    ("/api/v1/defendants?status=free", "'status'"),
    ("/api/v1/defendants?case=nothing", "no case"),
    ("/api/v1/hearings?form=2026-01-01", "Unknown parameter 'form'"),
    ("/api/v1/hearings/1?page=2", "Unknown parameter"),
    ("/api/v1/hearings?limit=1&limit=2", "once"),
    ("/api/v1/hearings?cursor=abc", "'cursor'"),
    ("/api/v1/hearings?cursor=%00", "control character"),
    ("/api/v1/defendants/%00", "control character"),
    ("/api/v1/hearings?cursor=" + "A" * 190, "'cursor'"),
]


@pytest.mark.parametrize("url, reason", BAD)
def test_bad_parameters_are_a_400_with_a_reason(client, public_records, url, reason):
    body = get_json(client, url, status=400)
    assert body["error"]["status"] == 400
    assert reason in body["error"]["message"]


@pytest.mark.parametrize("query", [
    "from=0001-01-01", "from=0001-01-01T00:00:00%2B05:00", "to=0001-01-01T00:00:00%2B05:00",
    "from=9999-12-31", "to=9999-12-31", "to=9999-12-31T23:59:59-05:00", "from=0001-01-01&to=9999-12-31",
])
def test_dates_at_the_ends_of_the_calendar_are_answered(client, public_records, query):
    items = get_json(client, f"/api/v1/hearings?{query}")["items"]
    assert len(items) in (0, 4)


def test_hostile_cursors_are_refused(client, public_records, app):
    first = get_json(client, "/api/v1/hearings?limit=1")
    cursor = first["next"].split("cursor=")[1]
    payload, signature = cursor.split(".")
    # a forged payload with the old signature
    forged = base64.urlsafe_b64encode(json.dumps(["hearings", "1970-01-01T00:00:00+00:00", 0]).encode()).decode()
    candidates = [
        f"{forged.rstrip('=')}.{signature}",
        payload,  # no signature
        # one character of the signature changed (not the last: its low bits are base64 padding)
        f"{payload}.{signature[:3]}{'A' if signature[3] != 'A' else 'B'}{signature[4:]}",
        cursor + "x",
    ]
    # a genuine cursor of another listing
    candidates.append(get_json(client, "/api/v1/defendants?limit=1")["next"].split("cursor=")[1])
    # validly signed, but not a key this listing can use
    from tracker.api.cursor import SALT
    from itsdangerous import URLSafeSerializer

    signer = URLSafeSerializer(app.config["SECRET_KEY"], salt=SALT)
    for payload_value in (["hearings", "not a date", 1], ["hearings", "2026-01-01T00:00:00", 1],
                          ["hearings", "2026-01-01T00:00:00+00:00", 2**40], ["hearings", None, None],
                          ["hearings", "2026-01-01T00:00:00+00:00", True], {"a": 1}, "hearings", 5):
        candidates.append(signer.dumps(payload_value))
    for candidate in candidates:
        body = get_json(client, f"/api/v1/hearings?cursor={candidate}", status=400)
        assert "'cursor'" in body["error"]["message"], candidate


def test_unknown_paths_under_the_api_answer_in_json(client):
    for url in ("/api/v1/nothing", "/api/v1/defendants/a/b", "/api/v1/hearings/99999999999999999999",
                "/api/v1/hearings/0", "/api/v1/defendants/" + "x" * 300,
                "/api/v1/courts/4294967296"):
        body = get_json(client, url, status=404)
        assert body["error"]["status"] == 404
