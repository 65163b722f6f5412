"""Organisers submit an action without an account: good input is stored pending, bad input comes
back beside its field with everything typed, and nothing is public until an editor approves."""
from __future__ import annotations

import re
from datetime import datetime, timezone

import pytest
import sqlalchemy as sa
import time_machine

from tests.actions.conftest import post_form
from tracker.actions.models import Action, ActionStatus
from tracker.editing.models import AuditEntry
from tracker.extensions import db


@pytest.fixture(autouse=True)
def _clock(now):
    with time_machine.travel(now, tick=False):
        yield


def _actions() -> list[Action]:
    return list(db.session.scalars(sa.select(Action).order_by(Action.id)))


def test_a_submission_is_stored_pending_in_utc_with_its_zone_and_says_an_editor_will_review_it(
    anon_client, submission, make_defendant, make_case
):
    case = make_case(slug="bolotnaya", title="Bolotnaya")
    person = make_defendant(slug="anna", name_latin="Anna Petrova", cases=[case])
    db.session.commit()
    data = submission(starts="2026-03-09T18:00", ends="2026-03-09T20:30", case=str(case.id),
                      defendants=[str(person.id)])

    response = post_form(anon_client, "/actions/new", data)

    assert response.status_code == 302 and response.headers["Location"].endswith("/actions/received")
    page = anon_client.get("/actions/received").get_data(as_text=True)
    assert "An editor will review it" in page
    [action] = _actions()
    assert action.status is ActionStatus.PENDING
    assert action.timezone == "Europe/Berlin"
    # 18:00 in Berlin in March (CET, UTC+1) is 17:00 UTC
    assert action.starts_at == datetime(2026, 3, 9, 17, 0, tzinfo=timezone.utc)
    assert action.ends_at == datetime(2026, 3, 9, 19, 30, tzinfo=timezone.utc)
    assert action.case_id == case.id and [d.id for d in action.defendants] == [person.id]
    assert action.contact == "me@example.org" and action.description == "Postcards provided.\n\nBring a pen."
    [entry] = db.session.scalars(sa.select(AuditEntry).where(AuditEntry.entity_type == "action")).all()
    assert entry.action == "submit" and entry.user_id is None and entry.entity_id == action.id
    # pending: on no public page
    assert "Letter-writing evening" not in anon_client.get("/actions").get_data(as_text=True)
    assert "Letter-writing evening" not in anon_client.get("/defendants/anna").get_data(as_text=True)


def test_a_country_with_one_zone_needs_no_zone_and_one_with_several_asks(anon_client, submission):
    response = post_form(anon_client, "/actions/new", submission(country="GE", city="Tbilisi", timezone=""))
    assert response.status_code == 302
    assert _actions()[0].timezone == "Asia/Tbilisi"

    response = post_form(anon_client, "/actions/new", submission(country="US", city="Boston", timezone=""))
    assert response.status_code == 422
    assert "Choose the time zone: United States has more than one." in response.get_data(as_text=True)
    assert len(_actions()) == 1


BAD = [
    ({"title": ""}, "title", "This field is required."),
    ({"city": "Berlin\x00"}, "city", "Keep this on one line"),
    ({"title": "Vigil\r\nBcc: x@evil.example"}, "title", "Keep this on one line"),
    ({"contact": ""}, "contact", "This field is required."),
    ({"country": "XX"}, "country", "Choose a country from the list."),
    ({"timezone": "Mars/Olympus"}, "timezone", "Choose a time zone from the list"),
    ({"starts": "tomorrow"}, "starts", "Not a valid datetime value."),
    ({"starts": "2026-03-29T02:30", "ends": "2026-03-29T04:00"}, "starts", "does not exist in Europe/Berlin"),
    ({"starts": "2026-03-09T18:00", "ends": "2026-03-09T17:00"}, "ends", "The end must come after the start."),
    ({"starts": "2026-02-01T18:00", "ends": "2026-02-01T19:00"}, "ends", "This time has passed."),
    ({"starts": "2026-03-09T18:00", "ends": "2026-05-09T19:00"}, "ends", "31 days at most"),
    ({"title": "x" * 201}, "title", "Field cannot be longer than 200 characters."),
    ({"description": "bell\x07"}, "description", "Remove the control characters"),
    ({"case": "999999"}, "case", "This case is no longer on the site."),
    ({"defendants": ["999999"]}, "defendants", "no longer on the site"),
]


@pytest.mark.parametrize("change, field, message", BAD)
def test_bad_input_is_refused_beside_its_field_and_nothing_typed_is_lost(anon_client, submission, change, field,
                                                                        message):
    data = submission(**change)
    response = post_form(anon_client, "/actions/new", data)

    assert response.status_code == 422
    text = response.get_data(as_text=True)
    error = re.search(rf'id="{field}-error"[^>]*>([^<]*)<', text)
    assert error and message in error.group(1), (field, error and error.group(1))
    for name, value in data.items():  # everything else typed is kept
        if name != field and name in ("title", "city", "address", "contact", "organiser"):
            assert f'value="{value}"' in text, name
    assert field == "description" or "Bring a pen." in text
    assert _actions() == []


def test_a_hidden_defendant_cannot_be_chosen_or_linked(anon_client, submission, make_defendant):
    hidden = make_defendant(slug="hidden", name_latin="Hidden Person 51c", is_public=False)
    db.session.commit()
    page = anon_client.get("/actions/new").get_data(as_text=True)
    assert "Hidden Person 51c" not in page
    response = post_form(anon_client, "/actions/new", submission(defendants=[str(hidden.id)]))
    assert response.status_code == 422
    assert "Hidden Person 51c" not in response.get_data(as_text=True)
    assert _actions() == []


def test_coming_from_a_defendants_page_ticks_them(anon_client, make_defendant):
    person = make_defendant(slug="anna", name_latin="Anna Petrova")
    db.session.commit()
    page = anon_client.get("/actions/new?defendant=anna").get_data(as_text=True)
    assert re.search(rf'<input[^>]*checked[^>]*value="{person.id}"|<input[^>]*value="{person.id}"[^>]*checked', page)


def test_the_country_list_is_in_the_readers_language(anon_client):
    english = anon_client.get("/actions/new", headers={"Accept-Language": "en"}).get_data(as_text=True)
    russian = anon_client.get("/actions/new", headers={"Accept-Language": "ru"}).get_data(as_text=True)
    assert '<option value="DE">Germany</option>' in english
    assert '<option value="DE">Германия</option>' in russian
    assert '<option value="Europe/Berlin">Germany, Berlin</option>' in english
    assert '<option value="Europe/Berlin">Германия, Берлин</option>' in russian


def test_without_the_csrf_token_nothing_is_stored(anon_client, submission):
    response = anon_client.post("/actions/new", data=submission())
    assert response.status_code == 422  # the form comes back, what was typed kept, the reason beside it
    assert "without its security code" in response.get_data(as_text=True)
    assert _actions() == []


def test_submissions_are_rate_limited(anon_client, submission):
    codes = [post_form(anon_client, "/actions/new", submission(title=f"Vigil {i}")).status_code for i in range(6)]
    assert codes == [302] * 5 + [429]
    assert len(_actions()) == 5


def _groups(page: str) -> dict[str, tuple[bool, list[str]]]:
    """Each case's group on the form: whether it is open, and the names in it."""
    found = {}
    for opened, title, body in re.findall(r"<details( open)?><summary>(.*?) \(\d+\)</summary>(.*?)</details>", page):
        found[title] = (bool(opened), re.findall(r'type="checkbox" value="\d+"> ([^<]+)</label>', body))
    return found


def test_defendants_are_offered_by_case_and_a_long_list_opens_only_the_ticked_ones_case(
    anon_client, submission, make_defendant, make_case
):
    bolotnaya, leaflets = make_case(slug="bolotnaya", title="Bolotnaya"), make_case(slug="leaflets", title="Leaflets")
    anna = make_defendant(slug="anna", name_latin="Anna Petrova", cases=[bolotnaya, leaflets])  # under the first
    make_defendant(slug="boris", name_latin="Boris Ivanov", cases=[leaflets])
    make_defendant(slug="vera", name_latin="Vera Sidorova")
    db.session.commit()

    short = _groups(anon_client.get("/actions/new").get_data(as_text=True))
    assert short == {"Bolotnaya": (True, ["Anna Petrova"]), "Leaflets": (True, ["Boris Ivanov"]),
                     "Not in a case": (True, ["Vera Sidorova"])}  # a short list: every case open

    for n in range(40):
        make_defendant(slug=f"p{n}", name_latin=f"Person {n:02d}", cases=[leaflets])
    db.session.commit()
    page = anon_client.get("/actions/new?defendant=anna").get_data(as_text=True)
    groups = _groups(page)
    assert {title: opened for title, (opened, _names) in groups.items()} == {
        "Bolotnaya": True, "Leaflets": False, "Not in a case": False}
    assert groups["Leaflets"][1][:2] == ["Boris Ivanov", "Person 00"] and len(groups["Leaflets"][1]) == 41
    assert re.search(rf'<input checked name="defendants" type="checkbox" value="{anna.id}">', page)
    assert "<li" not in page.split('class="by-case"')[1].split("</fieldset>")[0]  # a label per box, no more

    russian = anon_client.get("/actions/new", headers={"Accept-Language": "ru"}).get_data(as_text=True)
    assert "<summary>Не привязаны к делу (1)</summary>" in russian


def test_a_ticked_defendant_sent_back_with_an_error_stays_ticked_in_an_open_case(
    anon_client, submission, make_defendant, make_case
):
    case = make_case(slug="leaflets", title="Leaflets")
    people = [make_defendant(slug=f"p{n}", name_latin=f"Person {n:02d}", cases=[case]) for n in range(45)]
    db.session.commit()
    response = post_form(anon_client, "/actions/new", submission(title="", defendants=[str(people[7].id)]))
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert _groups(page)["Leaflets"][0] is True
    assert re.search(rf'<input checked name="defendants" type="checkbox" value="{people[7].id}">', page)
    assert _actions() == []


@pytest.mark.parametrize("language, georgia", [("en", "Georgia"), ("ru", "Грузия")])
# offered (named as the reader reads it), and an old name (accepted, not offered: shown as it is)
@pytest.mark.parametrize("zone, en, ru", [("Asia/Tbilisi", "Georgia, Tbilisi", "Грузия, Тбилиси"),
                                          ("US/Eastern", "US/Eastern", "US/Eastern")])
def test_the_chosen_country_and_zone_come_back_chosen_after_an_error(anon_client, submission, language, georgia,
                                                                     zone, en, ru):
    data = submission(title="", country="GE", city="Tbilisi", timezone=zone)
    text = post_form(anon_client, f"/actions/new?lang={language}", data).get_data(as_text=True)
    assert f'<option selected value="GE">{georgia}</option>' in text
    assert f'<option selected value="{zone}">{en if language == "en" else ru}</option>' in text
    assert text.count("<option selected") == 3  # and the case sent (none: "")
    assert text.count(f'value="{zone}"') == 1


def test_the_country_and_zone_lists_are_made_once_per_language(app, anon_client):
    """Built and written once per language for the process (they are ~850 options), and each
    reader still gets their own language, whichever came before."""
    from tracker.actions.forms import SubmitActionForm

    def lists(language: str) -> tuple:
        with app.test_request_context(f"/actions/new?lang={language}"):
            form = SubmitActionForm(formdata=None)
            form.fill_choices([], [])
            return form.country.choices, form.timezone.choices

    assert lists("ru")[0] is lists("ru")[0] and lists("ru")[1] is lists("ru")[1]
    pages = [anon_client.get(f"/actions/new?lang={language}").get_data(as_text=True) for language in ("ru", "en", "ru")]
    assert '<option value="DE">Германия</option>' in pages[0] and '<option value="DE">Germany</option>' in pages[1]
    assert '<option value="">Выберите…</option>' in pages[2] and '<option value="">Choose…</option>' in pages[1]


@pytest.mark.parametrize("left_out", ["description", "organiser", "address"])
def test_a_submission_without_an_optional_field_is_stored_with_it_empty_not_a_500(anon_client, submission, left_out):
    """Browsers always send every field; a script may not. An optional text left out is empty."""
    data = submission()
    data.pop(left_out, None)
    response = post_form(anon_client, "/actions/new", data)
    assert response.status_code == 302
    [action] = _actions()
    assert getattr(action, left_out) == ""
