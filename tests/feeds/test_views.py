"""Serving feeds over HTTP: content type, strong ETag, Last-Modified, 304, gzip, on-demand
building, the "add to my calendar" download, the subscribe links and the private feed."""
from __future__ import annotations

import gzip
import re
from datetime import date, datetime, timedelta, timezone

import pytest

from tracker.extensions import db
from tracker.feeds import ical
from tracker.feeds.publish import build_feed, publish_feeds
from tracker.records.models import Defendant, Hearing, Placement

NOW = datetime(2026, 3, 2, 9, 0, tzinfo=timezone.utc)


@pytest.fixture
def case_with_hearings(make_case, make_defendant, make_hearing):
    case = make_case(slug="bolotnaya", title="Bolotnaya")
    anna = make_defendant(slug="anna", name_latin="Anna", name_original="Анна", cases=[case])
    hidden = make_defendant(slug="hidden", name_latin="HIDDEN-MARKER", is_public=False, cases=[case],
                            internal_notes="INTERNAL-MARKER")
    # far enough in the future that the real clock (used by the views) keeps them in the window
    soon = datetime.now(timezone.utc).replace(microsecond=0) + timedelta(days=3)
    first = make_hearing(case=case, defendants=[anna, hidden], starts_at=soon)
    secret = make_hearing(case=case, defendants=[hidden], starts_at=soon + timedelta(days=1))
    db.session.commit()
    return dict(case=case, anna=anna, hidden=hidden, first=first, secret=secret)


def test_a_published_feed_is_served_with_validators_and_answers_304(client, case_with_hearings, feeds_dir, parse):
    publish_feeds(datetime.now(timezone.utc))
    response = client.get("/feeds/all.ics")
    assert response.status_code == 200
    assert response.headers["Content-Type"] == "text/calendar; charset=utf-8"
    assert response.data == (feeds_dir / "all.ics").read_bytes()
    etag = response.headers["ETag"]
    assert re.fullmatch(r'"[0-9a-f]{32}"', etag)  # strong: no W/
    assert response.headers["Last-Modified"]
    assert "Accept-Encoding" in response.headers["Vary"]
    assert parse(response.data).uids == [ical.event_uid(case_with_hearings["first"])]

    again = client.get("/feeds/all.ics", headers={"If-None-Match": etag})
    assert again.status_code == 304 and again.data == b""
    assert again.headers["ETag"] == etag
    assert client.get("/feeds/all.ics", headers={"If-None-Match": '"other"'}).status_code == 200
    since = client.get("/feeds/all.ics", headers={"If-Modified-Since": response.headers["Last-Modified"]})
    assert since.status_code == 304
    older = client.get("/feeds/all.ics", headers={"If-Modified-Since": "Mon, 01 Jan 2024 00:00:00 GMT"})
    assert older.status_code == 200

    # the next poll after nothing changed: same bytes, same ETag
    publish_feeds(datetime.now(timezone.utc))
    assert client.get("/feeds/all.ics").headers["ETag"] == etag

    # a change: the file is replaced, the old ETag no longer matches
    hearing = db.session.get(Hearing, case_with_hearings["first"].id)
    hearing.courtroom = "7"
    db.session.commit()
    publish_feeds(datetime.now(timezone.utc))
    changed = client.get("/feeds/all.ics", headers={"If-None-Match": etag})
    assert changed.status_code == 200 and changed.headers["ETag"] != etag
    assert b"courtroom 7" in changed.data


def test_gzip_when_the_client_accepts_it(client, case_with_hearings, feeds_dir):
    publish_feeds(datetime.now(timezone.utc))
    plain = client.get("/feeds/cases/bolotnaya.ics")
    zipped = client.get("/feeds/cases/bolotnaya.ics", headers={"Accept-Encoding": "gzip, deflate"})
    assert zipped.headers["Content-Encoding"] == "gzip"
    assert gzip.decompress(zipped.data) == plain.data
    assert zipped.headers["ETag"] != plain.headers["ETag"]  # another representation
    assert "Content-Encoding" not in plain.headers
    for etag in (plain.headers["ETag"], zipped.headers["ETag"]):
        revalidated = client.get(
            "/feeds/cases/bolotnaya.ics", headers={"Accept-Encoding": "gzip", "If-None-Match": etag}
        )
        assert revalidated.status_code == 304


def test_the_304_path_touches_no_database(client, case_with_hearings, feeds_dir, count_queries):
    publish_feeds(datetime.now(timezone.utc))
    etag = client.get("/feeds/all.ics").headers["ETag"]
    with count_queries() as counter:
        assert client.get("/feeds/all.ics", headers={"If-None-Match": etag}).status_code == 304
        assert client.get("/feeds/all.ics").status_code == 200
    assert counter.count == 0


def test_a_feed_not_yet_published_is_built_on_demand_identically(client, case_with_hearings, feeds_dir):
    assert not (feeds_dir / "defendants" / "anna.ics").exists()
    on_demand = {p: client.get(f"/feeds/{p}") for p in (
        "all.ics", "cases/bolotnaya.ics", "defendants/anna.ics", "with-alarm/defendants/anna.ics")}
    for response in on_demand.values():
        assert response.status_code == 200 and response.headers["ETag"]
        assert response.headers["Content-Type"] == "text/calendar; charset=utf-8"
    publish_feeds(datetime.now(timezone.utc))
    for path, response in on_demand.items():
        assert response.data == (feeds_dir / path).read_bytes(), path


def test_unknown_and_hidden_feeds_are_404(client, case_with_hearings):
    assert client.get("/feeds/defendants/hidden.ics").status_code == 404
    assert client.get("/feeds/defendants/nobody.ics").status_code == 404
    assert client.get("/feeds/cases/nothing.ics").status_code == 404
    assert client.get("/feeds/cases/..ics").status_code == 404
    assert build_feed("secrets.ics", NOW) is None


def test_the_add_to_calendar_download(client, case_with_hearings, parse):
    first = case_with_hearings["first"]
    response = client.get(f"/feeds/hearings/{first.id}.ics")
    assert response.status_code == 200
    assert response.headers["Content-Disposition"] == f'attachment; filename="hearing-{first.id}.ics"'
    parsed = parse(response.data)
    assert parsed.uids == [ical.event_uid(first)]
    assert b"HIDDEN-MARKER" not in response.data and b"INTERNAL-MARKER" not in response.data
    # a hearing whose only defendant is hidden is not public
    assert client.get(f"/feeds/hearings/{case_with_hearings['secret'].id}.ics").status_code == 404
    assert client.get("/feeds/hearings/999999.ics").status_code == 404


def test_pages_offer_subscribe_links_and_each_hearing_a_download(client, case_with_hearings):
    pages = {
        "/": "all.ics",
        "/hearings": "all.ics",
        "/cases/bolotnaya": "cases/bolotnaya.ics",
        "/defendants/anna": "defendants/anna.ics",
    }
    for page, feed in pages.items():
        html = client.get(page).get_data(as_text=True)
        assert f'href="webcal://tracker.test/feeds/{feed}"' in html, page
        assert f'href="webcal://tracker.test/feeds/with-alarm/{feed}"' in html, page
        google = "https://calendar.google.com/calendar/render?cid=https%3A%2F%2Ftracker.test%2Ffeeds%2F" + feed.replace("/", "%2F")
        assert f'href="{google}"' in html, page
        assert f'value="http://tracker.test/feeds/{feed}"' in html, page
        assert "Google Calendar refreshes subscribed calendars only every few hours" in html
        # what subscribers will see, as the feeds do it (FEED_CANCELLED_DAYS), not "they disappear"
        note = " ".join(html.split())
        assert "disappear" not in note
        assert "A cancelled one stays 14 days marked “Cancelled”, then leaves the calendar" in note
        assert "A held one is marked “Held”" in note
    html = client.get("/defendants/anna").get_data(as_text=True)
    assert f'href="/feeds/hearings/{case_with_hearings["first"].id}.ics"' in html
    assert "Add to my calendar" in html


# --- the private feed -------------------------------------------------------------------


@pytest.fixture
def lawyer_data(case_with_hearings, make_case, make_defendant, make_hearing, make_measure, make_decision):
    other_case = make_case(slug="other", title="Other case")
    other = make_defendant(slug="other-person", name_latin="OTHER-CASE-PERSON", cases=[other_case])
    make_hearing(case=other_case, defendants=[other])
    hidden = db.session.get(Defendant, case_with_hearings["hidden"].id)
    today = datetime.now(timezone.utc).date()
    measure = make_measure(hidden, starts_on=today - timedelta(days=30), until=today + timedelta(days=20))
    decision = make_decision(case_with_hearings["anna"], decided_on=today - timedelta(days=3))
    appealed = make_decision(other, decided_on=today - timedelta(days=40))
    db.session.commit()
    return dict(case_with_hearings, other_case=other_case, measure=measure, decision=decision, appealed=appealed)


def test_the_private_feed_shows_what_only_lawyers_see(app, client, lawyer_data, make_user, parse):
    user = make_user()
    db.session.commit()
    response = client.get(f"/feeds/private/{user.feed_token}.ics")
    assert response.status_code == 200
    assert response.headers["Cache-Control"] == "private, no-cache"
    parsed = parse(response.data)
    assert ical.event_uid(lawyer_data["secret"]) in parsed.uids  # a hearing with only a hidden defendant
    assert b"HIDDEN-MARKER" in response.data and b"INTERNAL-MARKER" in response.data
    custody = parsed.event(f"custody-{lawyer_data['measure'].id}@tracker.test")
    assert custody.decoded("DTSTART") == lawyer_data["measure"].until
    appeal = parsed.event(f"appeal-{lawyer_data['decision'].id}@tracker.test")
    assert appeal.decoded("DTSTART") == lawyer_data["decision"].decided_on + timedelta(days=app.config["APPEAL_DAYS"])
    assert len(parsed.strict.events) == len(parsed.events)
    assert b"OTHER-CASE-PERSON" in response.data  # no case assigned: every case


def test_the_private_feed_has_no_expiry_for_a_detention_a_sentence_replaced(client, lawyer_data, make_user,
                                                                            make_measure, parse):
    anna = db.session.get(Defendant, lawyer_data["anna"].id)  # sentenced three days ago
    today = datetime.now(timezone.utc).date()
    replaced = make_measure(anna, starts_on=today - timedelta(days=60), until=today + timedelta(days=10))
    user = make_user()
    db.session.commit()
    parsed = parse(client.get(f"/feeds/private/{user.feed_token}.ics").data)
    assert f"custody-{replaced.id}@tracker.test" not in parsed.uids
    assert f"custody-{lawyer_data['measure'].id}@tracker.test" in parsed.uids  # one still in force is there


def test_the_appeal_period_is_configurable(app, client, lawyer_data, make_user, parse):
    user = make_user()
    db.session.commit()
    app.config["APPEAL_DAYS"] = 10
    try:
        parsed = parse(client.get(f"/feeds/private/{user.feed_token}.ics").data)
    finally:
        app.config["APPEAL_DAYS"] = 15
    appeal = parsed.event(f"appeal-{lawyer_data['decision'].id}@tracker.test")
    assert appeal.decoded("DTSTART") == lawyer_data["decision"].decided_on + timedelta(days=10)


def test_an_editor_limited_to_a_case_gets_only_that_case(client, lawyer_data, make_user, parse):
    user = make_user(cases=[lawyer_data["other_case"]])
    db.session.commit()
    body = client.get(f"/feeds/private/{user.feed_token}.ics").data
    assert b"OTHER-CASE-PERSON" in body
    assert b"HIDDEN-MARKER" not in body and b"Anna" not in body
    parsed = parse(body)
    assert not any(uid.startswith("custody-") for uid in parsed.uids)  # the custody is in the other case
    assert f"appeal-{lawyer_data['appealed'].id}@tracker.test" in parsed.uids


def test_wrong_revoked_and_inactive_tokens_are_404(client, lawyer_data, make_user):
    user = make_user()
    idle = make_user(active=False)
    db.session.commit()
    assert client.get("/feeds/private/not-a-token.ics").status_code == 404
    assert client.get(f"/feeds/private/{idle.feed_token}.ics").status_code == 404
    token = user.feed_token
    user.feed_token = None
    db.session.commit()
    assert client.get(f"/feeds/private/{token}.ics").status_code == 404


def _csrf(html: str) -> str:
    return re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', html).group(1)


def test_an_editor_sees_regenerates_and_revokes_the_private_address(client, lawyer_data, make_user, login):
    user = make_user()
    db.session.commit()
    assert client.get("/feeds/private").status_code in (302, 401)  # anonymous: log in first
    login(user)
    old = user.feed_token
    page = client.get("/feeds/private").get_data(as_text=True)
    assert f"http://tracker.test/feeds/private/{old}.ics" in page

    # without the CSRF token nothing happens
    assert client.post("/feeds/private/regenerate").status_code == 400
    assert db.session.get(type(user), user.id).feed_token == old

    response = client.post("/feeds/private/regenerate", data={"csrf_token": _csrf(page)})
    assert response.status_code == 302
    db.session.expire_all()
    new = db.session.get(type(user), user.id).feed_token
    assert new and new != old
    assert client.get(f"/feeds/private/{old}.ics").status_code == 404
    assert client.get(f"/feeds/private/{new}.ics").status_code == 200

    page = client.get("/feeds/private").get_data(as_text=True)
    client.post("/feeds/private/revoke", data={"csrf_token": _csrf(page)})
    db.session.expire_all()
    assert db.session.get(type(user), user.id).feed_token is None
    assert client.get(f"/feeds/private/{new}.ics").status_code == 404
    assert "switched off" in client.get("/feeds/private").get_data(as_text=True)


def test_every_feed_route_declares_its_access(app):
    from tracker.access import EDITOR, PUBLIC, TOKEN

    declared = {}
    for rule in app.url_map.iter_rules():
        if rule.endpoint.startswith("feeds."):
            declared[rule.endpoint] = getattr(app.view_functions[rule.endpoint], "access", None)
    assert declared == {
        "feeds.feed": PUBLIC,
        "feeds.hearing": PUBLIC,
        "feeds.private_feed": TOKEN,
        "feeds.private_page": EDITOR,
        "feeds.regenerate_token": EDITOR,
        "feeds.revoke_token": EDITOR,
    }


def test_revalidations_are_answered_before_flask_and_by_the_view_alike(app, case_with_hearings, feeds_dir):
    from werkzeug.test import Client

    from tracker.feeds.serving import PUBLISHED_PATH, RevalidationMiddleware

    assert isinstance(app.wsgi_app, RevalidationMiddleware)
    publish_feeds(datetime.now(timezone.utc))
    through_middleware = Client(app.wsgi_app)
    flask_only = Client(app.wsgi_app.wsgi_app)  # the app as it is without the middleware
    first = through_middleware.get("/feeds/with-alarm/cases/bolotnaya.ics", headers={"Accept-Encoding": "gzip"})
    etag = first.headers["ETag"]
    for client in (through_middleware, flask_only):
        for method in ("GET", "HEAD"):
            answer = client.open("/feeds/with-alarm/cases/bolotnaya.ics", method=method,
                                 headers={"If-None-Match": etag, "Accept-Encoding": "gzip"})
            assert answer.status_code == 304
            assert answer.headers["ETag"] == etag
            assert "Accept-Encoding" in answer.headers["Vary"]
            # (werkzeug drops Last-Modified from a 304; RFC 9110 does not require it there)
            assert answer.headers.get("Last-Modified") in (None, first.headers["Last-Modified"])
            assert answer.headers["Cache-Control"] == first.headers["Cache-Control"]
        stale = client.get("/feeds/with-alarm/cases/bolotnaya.ics", headers={"If-None-Match": '"stale"'})
        assert stale.status_code == 200 and stale.headers["Content-Security-Policy"]

    # only published public feeds are answered early; private feeds and downloads never are
    assert PUBLISHED_PATH.match("/feeds/defendants/anna.ics")
    for path in ("/feeds/private/abc.ics", "/feeds/hearings/1.ics", "/feeds/cases/.hidden.ics",
                 "/feeds/cases/a/b.ics", "/feeds/../config.ics"):
        assert not PUBLISHED_PATH.match(path), path


def test_a_client_that_refuses_gzip_gets_plain_text(client, case_with_hearings, feeds_dir):
    publish_feeds(datetime.now(timezone.utc))
    response = client.get("/feeds/all.ics", headers={"Accept-Encoding": "gzip;q=0, identity"})
    assert "Content-Encoding" not in response.headers
    assert response.data.startswith(b"BEGIN:VCALENDAR")


@pytest.mark.parametrize("limited", [False, True])
def test_the_private_feed_costs_a_fixed_number_of_queries(
    client, make_user, make_case, make_defendant, make_hearing, make_measure, make_decision, count_queries, limited
):
    user = make_user()
    db.session.commit()
    soon = datetime.now(timezone.utc) + timedelta(days=2)
    counts, people = [], 0
    for size in (1, 12):
        case = make_case()
        if limited:  # limited to the cases made here: one more query reads co-defendants' cases
            user.cases.append(case)
        for n in range(size):
            person = make_defendant(cases=[case])
            make_measure(person, starts_on=date.today(), until=date.today() + timedelta(days=30))
            make_decision(person, decided_on=date.today())
            make_hearing(case=case, defendants=[person], starts_at=soon + timedelta(hours=n))
            db.session.add(Placement(defendant=person, facility="", since=date.today(), in_transit=True))
        db.session.commit()
        db.session.expire_all()
        with count_queries() as counter:
            answer = client.get(f"/feeds/private/{user.feed_token}.ics")
            assert answer.status_code == 200
        people += size  # each in transit: the day taken and the day editors are alerted
        assert answer.data.count(b"UID:transit-") == 2 * people
        counts.append(counter.count)
    assert counts[0] == counts[1] <= (8 if limited else 7), counts
