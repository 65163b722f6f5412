"""The subscribe box and "Add to my calendar" in a real browser (Debian's chromium)."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from tests.browser.conftest import browser, live_server  # noqa: F401  (fixtures)
from tracker.extensions import db
from tracker.feeds import ical

pytestmark = pytest.mark.browser


def test_a_supporter_finds_the_subscribe_links_and_downloads_a_hearing(
    browser, live_server, make_case, make_defendant, make_hearing, parse  # noqa: F811
):
    case = make_case(slug="bolotnaya", title="Bolotnaya")
    anna = make_defendant(slug="anna", name_latin="Anna Petrova", name_original="Анна Петрова", cases=[case])
    hearing = make_hearing(case=case, defendants=[anna],
                           starts_at=datetime.now(timezone.utc).replace(microsecond=0) + timedelta(days=4))
    db.session.commit()

    page = browser.new_page(accept_downloads=True)
    problems: list[str] = []
    page.on("console", lambda message: problems.append(message.text)
            if message.type == "error" and not message.text.startswith("Failed to load resource") else None)
    page.on("response", lambda response: problems.append(f"{response.status} {response.url}")
            if response.status >= 400 and not response.url.endswith("/favicon.ico") else None)
    page.on("pageerror", lambda error: problems.append(str(error)))
    page.goto(f"{live_server}/defendants/anna")

    box = page.locator("section.subscribe")
    assert box.is_visible()
    apple = box.get_by_role("link", name="Subscribe in Apple Calendar, Outlook or Thunderbird")
    assert apple.get_attribute("href") == "webcal://tracker.test/feeds/defendants/anna.ics"
    google = box.get_by_role("link", name="Subscribe in Google Calendar")
    assert google.get_attribute("href").startswith("https://calendar.google.com/calendar/render?cid=https%3A")
    assert box.locator("input.feed-url").input_value() == "http://tracker.test/feeds/defendants/anna.ics"
    assert "every few hours" in box.inner_text()

    with page.expect_download() as info:
        page.get_by_role("link", name="Add to my calendar").first.click()
    download = info.value
    assert download.suggested_filename == f"hearing-{hearing.id}.ics"
    with open(download.path(), "rb") as handle:
        parsed = parse(handle.read())
    assert parsed.uids == [ical.event_uid(hearing)]
    assert "Анна Петрова" in str(parsed.events[0]["DESCRIPTION"])
    assert not problems, problems  # no CSP violation, no script error
    page.close()
