"""On a phone, in a real browser (Debian's chromium): say "I'll be there" on a defendant's page,
confirm from the caught mail, and see the count change."""
from __future__ import annotations

import re
from datetime import timedelta

import pytest
import sqlalchemy as sa

from tests.browser.conftest import PHONE, browser, live_server, phone  # noqa: F401  (fixtures)
from tracker.extensions import db, utcnow
from tracker.mail.sending import send_pending
from tracker.reminders.models import Subscription

pytestmark = pytest.mark.browser

LINK = re.compile(r"https?://\S+(/attend/confirm/[\w.\-]+)")


def test_a_supporter_says_they_will_go_confirms_and_sees_the_count_change(
    phone, live_server, smtp_server, make_case, make_defendant, make_hearing  # noqa: F811
):
    page, problems = phone
    case = make_case(slug="bolotnaya", title="Bolotnaya Square case")
    person = make_defendant(slug="luzyanin", name_latin="Maksim Luzyanin", cases=[case])
    make_hearing(defendants=[person], case=case, starts_at=utcnow() + timedelta(days=3), seats=12)
    db.session.commit()

    page.goto(f"{live_server}/defendants/luzyanin")
    going = page.locator("p.attendance .going")
    assert going.inner_text() == "Nobody has said they are going yet · 12 seats for the public"
    link = page.get_by_role("link", name="I'll be there")
    link.scroll_into_view_if_needed()
    box = link.bounding_box()  # a thumb-sized target, inside the screen's width
    assert box["height"] >= 40 and box["x"] + box["width"] <= PHONE["width"], box
    link.click()
    page.wait_for_url(re.compile(r"/attend/\d+$"))

    # the form fits the phone: nothing wider than the screen
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    page.get_by_label("Your email").fill("anna@example.org")
    page.get_by_label("Your first name (optional)").fill("Anna")
    page.get_by_role("button", name="I'll be there").click()
    page.wait_for_url(re.compile(r"/attend/\d+/signed-up"))
    assert "anna@example.org" in page.locator("p.outcome").inner_text()

    send_pending(db.session, utcnow())
    [mail] = smtp_server.received_by("anna@example.org")
    path = LINK.search(mail.get_body(preferencelist=("plain",)).get_content()).group(1)
    page.goto(live_server + path)
    db.session.expire_all()
    assert db.session.scalar(sa.select(Subscription.confirmed_at)) is None  # opening the link is not enough
    page.get_by_role("button", name="Confirm").click()
    page.wait_for_url(re.compile(r"/attend/withdraw/"))
    assert "Confirmed: you are counted among those going." in page.locator("main").inner_text()

    page.goto(f"{live_server}/defendants/luzyanin")
    assert page.locator("p.attendance .going").inner_text() == "1 person is going · 12 seats for the public"
    assert "Anna" not in page.locator("main").inner_text()
    assert not problems, problems
