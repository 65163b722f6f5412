"""An organiser announces an action on a phone in a real browser (Debian's chromium): the
defendants are offered by case, a case opens by a tap on its name (no script), and what is
ticked there is linked."""
from __future__ import annotations

import re
from datetime import timedelta

import pytest
import sqlalchemy as sa

from tests.browser.conftest import PHONE, browser, live_server  # noqa: F401  (fixtures)
from tracker.actions.models import Action, ActionStatus
from tracker.extensions import db, limiter, utcnow

pytestmark = pytest.mark.browser

@pytest.fixture
def phone_without_script(browser):  # noqa: F811
    """The conftest's phone, with JavaScript off: the form must work without it."""
    context = browser.new_context(viewport=PHONE, device_scale_factor=2, is_mobile=True, has_touch=True,
                                  java_script_enabled=False)
    yield context.new_page()
    context.close()


def test_an_organiser_opens_a_case_ticks_a_defendant_and_sends_the_action(
    phone_without_script, live_server, make_case, make_defendant  # noqa: F811
):
    limiter.reset()
    leaflets, bolotnaya = make_case(slug="leaflets", title="Leaflets"), make_case(slug="bolotnaya", title="Bolotnaya")
    people = [make_defendant(slug=f"p{n}", name_latin=f"Person {n:02d}", cases=[leaflets]) for n in range(30)]
    make_defendant(slug="anna", name_latin="Anna Petrova", cases=[bolotnaya])
    make_defendant(slug="vera", name_latin="Vera Sidorova")
    for n in range(15):
        make_defendant(slug=f"q{n}", name_latin=f"Other {n:02d}")
    db.session.commit()
    page = phone_without_script

    page.goto(f"{live_server}/actions/new")
    groups = page.locator("fieldset .by-case details")
    assert groups.count() == 3
    wanted = page.get_by_label("Person 07")
    assert not wanted.is_visible()  # a long list: each case closed until tapped, the page stays short
    page.locator("summary", has_text="Leaflets (30)").tap()
    assert wanted.is_visible()
    box, label = wanted.bounding_box(), page.locator("label", has_text="Person 07").bounding_box()
    assert box["width"] >= 15 and label["y"] <= box["y"] and box["y"] + box["height"] <= label["y"] + label["height"] + 1
    wanted.check()

    starts = utcnow() + timedelta(days=30)
    page.get_by_label("What").fill("Letters for the leaflets case")
    page.get_by_label("City").fill("Berlin")
    page.get_by_label("Country").select_option("DE")
    page.get_by_label("Time zone of the place").select_option("Europe/Berlin")
    page.get_by_label("Starts (local time there)").fill(starts.strftime("%Y-%m-%dT18:00"))
    page.get_by_label("Ends (local time there)").fill(starts.strftime("%Y-%m-%dT20:00"))
    page.get_by_label("Your contact").fill("organiser@example.org")
    page.get_by_role("button", name="Send for review").click()
    page.wait_for_url(re.compile(r"/actions/received"))

    db.session.expire_all()
    [action] = db.session.scalars(sa.select(Action)).all()
    assert action.status is ActionStatus.PENDING
    assert [d.id for d in action.defendants] == [people[7].id]
