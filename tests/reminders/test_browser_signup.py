"""A volunteer signs up on a phone in a real browser (Debian's chromium) and confirms from the mail."""
from __future__ import annotations

import re

import pytest
import sqlalchemy as sa

from tests.browser.conftest import PHONE, browser, live_server, phone  # noqa: F401  (fixtures)
from tracker.extensions import db, utcnow
from tracker.reminders.models import Subscription
from tracker.mail.sending import send_pending

pytestmark = pytest.mark.browser

ACCENT = "rgb(138, 28, 28)"  # --accent in style.css
LINK = re.compile(r"https?://\S+/reminders/confirm/[\w.\-]+")


def test_a_volunteer_signs_up_on_a_phone_sees_the_outcome_and_confirms(
    phone, live_server, smtp_server, make_case, make_defendant  # noqa: F811
):
    page, problems = phone
    case = make_case(slug="bolotnaya", title="Bolotnaya Square case")
    make_defendant(slug="luzyanin", name_latin="Maksim Luzyanin", cases=[case])
    db.session.commit()

    page.goto(f"{live_server}/defendants/luzyanin")
    form = page.locator("form.reminders-signup")
    form.scroll_into_view_if_needed()

    # Each option on a line of its own, its box beside its own words, left-aligned.
    labels = form.locator("fieldset label:has(input)")
    assert labels.count() >= 7
    boxes = [labels.nth(i).bounding_box() for i in range(labels.count())]
    controls = [labels.nth(i).locator("input").bounding_box() for i in range(labels.count())]
    for above, below in zip(boxes, boxes[1:]):
        assert below["y"] >= above["y"] + above["height"] - 1, (above, below)
    for label, control in zip(boxes, controls):
        assert label["y"] <= control["y"] and control["y"] + control["height"] <= label["y"] + label["height"] + 1
    assert len({round(control["x"]) for control in controls}) == 1
    button = form.get_by_role("button", name="Remind me")
    assert button.evaluate("b => getComputedStyle(b).backgroundColor") == ACCENT

    form.get_by_label("Your email").fill("volunteer@example.org")
    button.click()
    page.wait_for_url(re.compile(r"/reminders/signed-up"))

    # The outcome is where the eye is: at the top of the screen, without scrolling.
    assert page.evaluate("window.scrollY") == 0
    heading = page.get_by_role("heading", name="Check your inbox")
    outcome = page.locator("p.outcome")
    for element in (heading, outcome):
        box = element.bounding_box()
        assert box is not None and 0 <= box["y"] and box["y"] + box["height"] <= PHONE["height"], box
    assert "volunteer@example.org" in outcome.inner_text()
    assert page.locator("form.reminders-signup").count() == 0  # nothing to submit a second time

    send_pending(db.session, utcnow())
    [mail] = smtp_server.received_by("volunteer@example.org")
    link = LINK.search(mail.get_body(preferencelist=("plain",)).get_content()).group(0)
    page.goto(live_server + "/reminders/" + link.split("/reminders/", 1)[1])
    db.session.expire_all()
    assert db.session.scalar(sa.select(Subscription.confirmed_at)) is None  # opening the link is not enough
    page.get_by_role("button", name="Confirm").click()
    page.wait_for_url(re.compile(r"/reminders/manage/"))
    assert "Confirmed: you will get reminders for hearings of Maksim Luzyanin" in page.locator("main").inner_text()
    db.session.expire_all()
    assert db.session.scalar(sa.select(Subscription.confirmed_at)) is not None
    assert not problems, problems
