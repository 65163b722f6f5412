"""The public pages: content, filters, hidden defendants, errors."""
from __future__ import annotations

from datetime import date, datetime, timedelta, timezone

import pytest

from tracker.extensions import db
from tracker.records.models import DefendantStatus, HearingStatus, MeasureKind


@pytest.fixture
def freeze(now):
    """Pages read the clock: pin it to the suite's `now`."""
    import time_machine

    with time_machine.travel(now, tick=False):
        yield now


@pytest.fixture
def bolotnaya(make_case, make_defendant, make_measure, make_hearing, make_court, now):
    case = make_case(slug="may-6th-affair", title="May 6th affair")
    court = make_court(name="Moscow City Court", address="Bogorodsky Val, 8, Moscow")
    kosenko = make_defendant(
        slug="mikhail-kosenko", name_latin="Mikhail Kosenko", name_original="Михаил Косенко",
        cases=[case], birth_date=date(1975, 3, 20), letters_address="SIZO-4, Moscow",
    )
    first = make_measure(kosenko, starts_on=date(2025, 6, 8), until=date(2025, 8, 6))
    previous = first
    for until in (date(2025, 11, 6), date(2026, 1, 6), date(2026, 4, 6)):
        previous = make_measure(kosenko, starts_on=previous.until, until=until, extends=previous)
    hidden = make_defendant(slug="secret-person", name_latin="Secret Person", name_original="Тайный Человек",
                            cases=[case], is_public=False)
    hearing = make_hearing(court=court, case=case, defendants=[kosenko, hidden],
                           starts_at=now + timedelta(days=2), courtroom="635")
    hidden_only = make_hearing(court=court, case=case, defendants=[hidden], starts_at=now + timedelta(days=3),
                               courtroom="SECRET-ROOM")
    db.session.commit()
    return dict(case=case, kosenko=kosenko, hidden=hidden, hearing=hearing, hidden_only=hidden_only)


def test_home_lists_defendants_with_status_custody_and_next_hearing(client, bolotnaya, freeze):
    page = client.get("/").get_data(as_text=True)
    assert "Mikhail Kosenko" in page and "Михаил Косенко" in page
    assert "since Jun 8, 2025, extended 3 times, now until Apr 6, 2026" in page
    assert "Wed, March 4, 2026, 12:00 (MSK)" in page  # next hearing in the court's zone


@pytest.mark.parametrize("query", ["Косенко", "косенко", "KOSENKO", "mikhail kos"])
def test_search_in_either_script(client, bolotnaya, freeze, query):
    page = client.get("/", query_string={"q": query}).get_data(as_text=True)
    assert "Mikhail Kosenko" in page
    assert "1 defendant" in page


def test_search_wildcards_are_literal(client, bolotnaya, freeze):
    page = client.get("/", query_string={"q": "%"}).get_data(as_text=True)
    assert "No defendant matches." in page


def test_filter_by_case_and_status(client, bolotnaya, make_defendant, make_case, freeze):
    other = make_case(slug="other", title="Other case")
    make_defendant(name_latin="Someone Else", cases=[other], status=DefendantStatus.RELEASED)
    db.session.commit()
    page = client.get("/?case=may-6th-affair").get_data(as_text=True)
    assert "Mikhail Kosenko" in page and "Someone Else" not in page
    page = client.get("/?status=released").get_data(as_text=True)
    assert "Someone Else" in page and "Mikhail Kosenko" not in page


@pytest.mark.parametrize(
    "query, reason",
    [
        ("page=abc", "whole number"),
        ("page=0", "start at 1"),
        ("page=99", "only 1 pages"),
        ("status=nonsense", "Unknown status"),
        ("case=no-such-case", "no case"),
        ("q=" + "x" * 101, "too long"),
    ],
)
def test_bad_query_parameters_are_a_400_with_a_reason(client, bolotnaya, query, reason, freeze):
    response = client.get("/?" + query)
    assert response.status_code == 400
    assert reason in response.get_data(as_text=True)


def test_defendant_page(client, bolotnaya, freeze):
    page = client.get("/defendants/mikhail-kosenko").get_data(as_text=True)
    for text in ("Mikhail Kosenko", "SIZO-4, Moscow", "Pre-trial detention extended", "courtroom 635",
                 "Bogorodsky Val, 8, Moscow", "May 6th affair"):
        assert text in page
    assert "Secret Person" not in page  # a hidden co-defendant of the same hearing


def test_unknown_slugs_are_404(client, bolotnaya):
    assert client.get("/defendants/nobody").status_code == 404
    assert client.get("/cases/nothing").status_code == 404
    assert "There is nothing at this address" in client.get("/cases/nothing").get_data(as_text=True)


def test_hidden_defendants_appear_nowhere_public(client, bolotnaya, freeze):
    assert client.get("/defendants/secret-person").status_code == 404
    for url in ("/", "/cases/may-6th-affair", "/hearings", "/dates", "/?q=secret", "/?q=Тайный"):
        page = client.get(url).get_data(as_text=True)
        assert "Secret Person" not in page and "Тайный Человек" not in page, url
        assert "SECRET-ROOM" not in page, url  # a hearing of hidden defendants only


def test_case_page_lists_defendants_and_hearings(client, bolotnaya, freeze):
    page = client.get("/cases/may-6th-affair").get_data(as_text=True)
    assert "May 6th affair" in page and "Mikhail Kosenko" in page and "courtroom 635" in page


def test_upcoming_hearings_grouped_by_local_day(client, make_hearing, make_court, make_defendant, now, freeze):
    moscow = make_court(name="Moscow City Court", timezone="Europe/Moscow")
    ural = make_court(name="Ural court", timezone="Asia/Yekaterinburg", address="1 Example Street")
    person = make_defendant()
    # 22:30 UTC on 3 March is 01:30 on 4 March in Moscow: it belongs to the 4th.
    make_hearing(court=moscow, defendants=[person], starts_at=datetime(2026, 3, 3, 22, 30, tzinfo=timezone.utc))
    make_hearing(court=ural, defendants=[person], starts_at=datetime(2026, 3, 4, 5, 0, tzinfo=timezone.utc))
    make_hearing(court=moscow, defendants=[person], starts_at=now + timedelta(days=40))  # beyond 30 days
    make_hearing(court=moscow, defendants=[person], starts_at=now + timedelta(days=5),
                 status=HearingStatus.CANCELLED, courtroom="C-1")
    db.session.commit()
    page = client.get("/hearings").get_data(as_text=True)
    assert page.count('<section class="day">') == 2
    day = page.index("Wed, Mar 4, 2026")
    assert page.index("01:30 (MSK") > day and page.index("10:00 (UTC+05, Yekaterinburg)") > day
    assert "2026-04-11" not in page
    assert "courtroom C-1" in page and "cancelled" in page  # visible so nobody goes


def test_dates_page_birthdays_and_releases(client, make_defendant, make_decision, now, freeze):
    held = make_defendant(name_latin="Held Person", birth_date=date(1990, 3, 20),
                          status=DefendantStatus.PRE_TRIAL_DETENTION, letters_address="SIZO-1, Moscow")
    make_defendant(name_latin="Free Person", birth_date=date(1990, 3, 21), status=DefendantStatus.RELEASED)
    prisoner = make_defendant(name_latin="Prisoner Person", status=DefendantStatus.IMPRISONED)
    make_decision(prisoner, decided_on=date(2025, 3, 1), term_years=1, term_months=6, credited_days=30)
    db.session.commit()
    page = client.get("/dates").get_data(as_text=True)
    assert "Held Person" in page and "turns 36" in page and "SIZO-1, Moscow" in page
    assert "Free Person" not in page  # cards go to people who are held
    assert "Prisoner Person" in page and "2026-08-02" in page


def test_demo_banner_only_with_demo_data(client, make_case):
    assert "Demo data" not in client.get("/").get_data(as_text=True)
    make_case(is_demo=True)
    db.session.commit()
    assert "Demo data" in client.get("/").get_data(as_text=True)


def test_pages_send_a_content_security_policy_and_no_third_party_assets(client, bolotnaya, freeze):
    import re

    response = client.get("/defendants/mikhail-kosenko")
    assert "script-src 'self'" in response.headers["Content-Security-Policy"]
    page = response.get_data(as_text=True)
    # assets (scripts, images, stylesheets, fonts) all come from the app itself; plain links may leave it
    assets = re.findall(r'\ssrc="([^"]+)"', page) + re.findall(r'<link[^>]*href="([^"]+)"', page)
    assert assets and all(not a.startswith(("http:", "https:", "//")) for a in assets), assets
    assert "<script>" not in page and "style=" not in page


def test_every_asset_a_page_names_is_served_and_the_page_names_its_icon(client, bolotnaya, freeze):
    """Without a named icon every browser asks for /favicon.ico, which answered 404 (a console
    error on every first visit); with one, it must be served by the app like the stylesheet."""
    import re

    page = client.get("/defendants/mikhail-kosenko").get_data(as_text=True)
    assert re.search(r'<link rel="icon"[^>]*href="/static/', page), "the layout names no icon"
    for asset in re.findall(r'<link[^>]*href="([^"]+)"', page):
        response = client.get(asset)
        assert response.status_code == 200 and response.data, asset


def test_upcoming_page_filters_by_case_and_caps_its_length(app, client, make_hearing, make_case, freeze, now):
    case = make_case(slug="big-case")
    for day in range(5):
        make_hearing(case=case, starts_at=now + timedelta(days=day + 1))
    make_hearing(courtroom="OTHER-CASE", starts_at=now + timedelta(days=1))
    db.session.commit()
    assert "OTHER-CASE" not in client.get("/hearings?case=big-case").get_data(as_text=True)
    assert client.get("/hearings?case=unknown").status_code == 400
    app.config["UPCOMING_LIMIT"] = 3
    try:
        page = client.get("/hearings").get_data(as_text=True)
    finally:
        app.config["UPCOMING_LIMIT"] = 300
    assert page.count('class="hearing ') == 3 and "Showing the first 3 hearings" in page
