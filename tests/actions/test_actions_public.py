"""The public list by country and city, each defendant's and case's page, and what is never shown."""
from __future__ import annotations

import re
from datetime import datetime, timedelta, timezone

import pytest
import time_machine

from tests.actions.support import CONTACT_MARKER
from tracker.actions.models import ActionStatus
from tracker.extensions import db


@pytest.fixture(autouse=True)
def _clock(now):
    with time_machine.travel(now, tick=False):
        yield


def test_upcoming_actions_are_grouped_by_country_and_city_in_the_places_own_time(anon_client, make_action, now):
    make_action(title="Berlin late", city="Berlin", starts_at=datetime(2026, 3, 10, 17, tzinfo=timezone.utc))
    make_action(title="Berlin early", city="Berlin", starts_at=datetime(2026, 3, 5, 17, tzinfo=timezone.utc))
    make_action(title="Munich one", city="München", starts_at=datetime(2026, 3, 6, 17, tzinfo=timezone.utc))
    make_action(title="Tbilisi one", city="Tbilisi", country="GE", timezone="Asia/Tbilisi",
                starts_at=datetime(2026, 3, 7, 15, tzinfo=timezone.utc))
    make_action(title="Past one", starts_at=now - timedelta(days=2))
    make_action(title="Pending one", status=ActionStatus.PENDING)
    make_action(title="Rejected one", status=ActionStatus.REJECTED)
    db.session.commit()

    text = anon_client.get("/actions").get_data(as_text=True)

    headings = re.findall(r"<h([23])[^>]*>([^<]+)</h\1>", text)
    assert [h for _level, h in headings] == ["Georgia", "Tbilisi", "Germany", "Berlin", "München"]
    assert text.index("Berlin early") < text.index("Berlin late") < text.index("Munich one")
    # 17:00 UTC is 18:00 in Berlin (CET); 15:00 UTC is 19:00 in Tbilisi (+04); the zone is named
    assert "Thu, Mar 5, 2026, 18:00–20:00 (CET, Berlin)" in text
    assert "Sat, Mar 7, 2026, 19:00–21:00 (UTC+04, Tbilisi)" in text
    for absent in ("Past one", "Pending one", "Rejected one", CONTACT_MARKER):
        assert absent not in text

    russian = anon_client.get("/actions", headers={"Accept-Language": "ru"}).get_data(as_text=True)
    assert ">Германия</h2>" in russian and ">Грузия</h2>" in russian


def test_defendant_and_case_pages_list_their_actions(anon_client, make_action, make_case, make_defendant):
    case = make_case(slug="bolotnaya", title="Bolotnaya")
    anna = make_defendant(slug="anna", name_latin="Anna Petrova", cases=[case])
    boris = make_defendant(slug="boris", name_latin="Boris Ivanov")
    make_action(title="For Anna", defendants=[anna])
    make_action(title="For the case", case=case)
    make_action(title="For Boris", defendants=[boris])
    make_action(title="Anna pending", defendants=[anna], status=ActionStatus.PENDING)
    db.session.commit()

    anna_page = anon_client.get("/defendants/anna").get_data(as_text=True)
    assert "For Anna" in anna_page and "For Boris" not in anna_page and "Anna pending" not in anna_page
    assert "/actions/defendants/anna.ics" in anna_page and "/actions/new?defendant=anna" in anna_page
    case_page = anon_client.get("/cases/bolotnaya").get_data(as_text=True)
    # the case's own, and those of its public defendants
    assert "For the case" in case_page and "For Anna" in case_page and "For Boris" not in case_page
    assert "/actions/cases/bolotnaya.ics" in case_page
    make_defendant(slug="carl", name_latin="Carl None")
    db.session.commit()
    assert "No action is announced yet." in anon_client.get("/defendants/carl").get_data(as_text=True)
    assert CONTACT_MARKER not in anna_page + case_page


def test_hidden_defendants_are_never_named_and_an_action_only_for_them_is_not_public(
    anon_client, make_action, make_case, make_defendant
):
    case = make_case(slug="bolotnaya", title="Bolotnaya")
    anna = make_defendant(slug="anna", name_latin="Anna Petrova", cases=[case])
    hidden = make_defendant(slug="hidden", name_latin="Hidden 3f0", is_public=False, cases=[case])
    make_action(title="Only hidden", defendants=[hidden], case=case)
    make_action(title="Both", defendants=[anna, hidden])
    db.session.commit()

    for url in ("/actions", "/cases/bolotnaya", "/defendants/anna", "/actions.ics", "/actions/cases/bolotnaya.ics",
                "/api/v1/actions"):
        text = anon_client.get(url).get_data(as_text=True)
        assert "Hidden 3f0" not in text and "/defendants/hidden" not in text, url
        assert "Only hidden" not in text, url
    assert "Both" in anon_client.get("/actions").get_data(as_text=True)
    assert anon_client.get("/actions/defendants/hidden.ics").status_code == 404


def test_the_home_of_actions_is_in_the_menu(anon_client):
    assert 'href="/actions"' in anon_client.get("/").get_data(as_text=True)


def test_a_page_lists_the_soonest_actions_and_links_to_all(anon_client, make_action, make_defendant, now):
    from tracker.actions.logic import PAGE_SHOWN

    person = make_defendant(slug="anna", name_latin="Anna Petrova")
    for day in range(PAGE_SHOWN + 1):
        make_action(title=f"Action on day {day + 1:02d}.", defendants=[person], starts_at=now + timedelta(days=day + 1))
    db.session.commit()
    text = anon_client.get("/defendants/anna").get_data(as_text=True)
    assert f"Action on day {PAGE_SHOWN:02d}." in text and f"Action on day {PAGE_SHOWN + 1:02d}." not in text
    assert "see every action" in text


def test_the_people_an_action_supports_are_named_in_the_readers_script(anon_client, make_action, make_defendant):
    """Found walking the Russian pages: /actions and the actions calendar named people in latin."""
    anna = make_defendant(slug="anna", name_latin="Anna Petrova", name_original="Анна Петрова")
    make_action(title="Letters", defendants=[anna])
    db.session.commit()

    russian = anon_client.get("/actions", headers={"Accept-Language": "ru"}).get_data(as_text=True)
    english = anon_client.get("/actions", headers={"Accept-Language": "en"}).get_data(as_text=True)
    assert '<a href="/defendants/anna">Анна Петрова</a>' in russian
    assert '<a href="/defendants/anna">Anna Petrova</a>' in english
    for path in ("/defendants/anna", "/actions.ics"):
        page = anon_client.get(path, headers={"Accept-Language": "ru"}).get_data(as_text=True)
        assert "Анна Петрова" in page.split("Letters", 1)[1], path
    calendar = anon_client.get("/actions.ics", headers={"Accept-Language": "ru"}).get_data(as_text=True)
    assert "Анна Петрова (Anna Petrova): http://" in calendar.replace("\r\n ", "")
