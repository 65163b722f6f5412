"""`make run`'s caught mail at /dev/mail: what a newcomer sees volunteers would receive."""
from __future__ import annotations

import re
from datetime import timedelta
from zoneinfo import ZoneInfo

import pytest
from aiosmtpd.controller import Controller

from config import TestConfig
from tests.browser.conftest import browser, serving  # noqa: F401  (fixtures)
from tests.conftest import free_port
from tracker import create_app
from tracker.dev import SaveToFolder
from tracker.extensions import db
from tracker.formats import moment_short
from tracker.reminders.due import enqueue_due
from tracker.reminders.subscriptions import sign_up
from tracker.reminders.models import Scope
from tracker.mail.sending import send_pending


@pytest.fixture
def dev_app(app, tmp_path):
    folder = tmp_path / "mail"
    port = free_port()

    class DevConfig(TestConfig):
        SQLALCHEMY_DATABASE_URI = app.config["SQLALCHEMY_DATABASE_URI"]
        FEEDS_DIR = str(tmp_path / "feeds")
        DEV_MAIL_DIR = str(folder)
        SMTP_HOST, SMTP_PORT = "127.0.0.1", port

    catcher = Controller(SaveToFolder(folder), hostname="127.0.0.1", port=port)
    catcher.start()
    try:
        yield create_app(DevConfig)
    finally:
        catcher.stop()


def catch_a_confirmation(dev_app, now) -> None:  # noqa: ANN001
    """A sign-up's confirmation, sent through the catcher: one mail in the folder."""
    with dev_app.app_context():
        sign_up(db.session, email="newcomer@example.org", scope=Scope.ALL, lead_minutes=[1440],
                digest=False, now=now)
        db.session.commit()
        assert send_pending(db.session, now).sent == 1
        db.session.remove()


def test_caught_mail_is_listed_and_shown(dev_app, now):
    catch_a_confirmation(dev_app, now)
    web = dev_app.test_client()
    home = web.get("/")
    assert 'href="/dev/mail/"' in home.text  # the sign-up form points newcomers at the caught mail
    inbox = web.get("/dev/mail/")
    assert inbox.status_code == 200
    assert "Confirm your court-date reminders" in inbox.text
    name = re.search(r'href="/dev/mail/([\w.-]+\.eml)"', inbox.text).group(1)
    message = web.get(f"/dev/mail/{name}")
    assert message.status_code == 200
    assert "/reminders/confirm/" in message.text and "Message-ID" in message.text
    assert web.get("/dev/mail/..%2F..%2Fconfig.py").status_code == 404
    assert web.get("/dev/mail/missing.eml").status_code == 404


def test_there_is_no_dev_mail_page_in_production(client):
    assert client.get("/dev/mail/").status_code == 404


# Whether an element sits inside a landmark (axe's "region" rule): screen-reader users
# jump between landmarks, and whatever is outside all of them is skipped.
IN_A_LANDMARK = """selector => !!document.querySelector(selector).closest(
    'header, nav, main, aside, footer, [role=banner], [role=navigation], [role=main], [role=complementary],'
    + ' [role=contentinfo], [role=region][aria-label], [role=region][aria-labelledby]')"""


@pytest.mark.browser
def test_caught_messages_fit_a_phone_and_the_demo_banner_is_in_a_landmark(
    dev_app, browser, make_case, make_hearing, make_subscription, now  # noqa: F811
):
    with dev_app.app_context():
        make_case(is_demo=True)  # the demo banner shows
        make_hearing(starts_at=now + timedelta(hours=23))
        make_subscription(email="a-rather-long-address.of.a.volunteer@example.org", leads=[1440])
        sign_up(db.session, email="newcomer@example.org", scope=Scope.ALL, lead_minutes=[1440],
                digest=False, now=now)
        assert enqueue_due(db.session, now) == 1
        db.session.commit()
        assert send_pending(db.session, now).sent == 2  # a confirmation and a reminder with its .ics
        db.session.remove()
    with serving(dev_app) as url:
        context = browser.new_context(viewport={"width": 375, "height": 740}, is_mobile=True, has_touch=True)
        page = context.new_page()
        try:
            page.goto(f"{url}/dev/mail/")
            assert page.evaluate(IN_A_LANDMARK, ".demo")
            links = page.eval_on_selector_all("main ul a", "links => links.map(a => a.href)")
            assert len(links) == 2
            for link in links:
                page.goto(link)
                assert "Message-ID" in page.inner_text("main")
                # the screen's width, not innerWidth: a phone zooms out and widens innerWidth to the content
                width = page.evaluate("document.documentElement.scrollWidth")
                assert width <= 375, f"{link} is {width} px wide on a 375 px phone"
                assert page.evaluate(IN_A_LANDMARK, ".demo")
        finally:
            context.close()


def test_caught_mail_dates_read_in_the_readers_language(dev_app, now):
    """The inbox's dates are the reader's, formatted by Babel in the site's zone, not RFC 5322 text."""
    catch_a_confirmation(dev_app, now)
    web = dev_app.test_client()
    english = web.get("/dev/mail/", headers={"Accept-Language": "en"}).text
    russian = web.get("/dev/mail/", headers={"Accept-Language": "ru"}).text
    raw = re.compile(r"\b(Mon|Tue|Wed|Thu|Fri|Sat|Sun), \d{1,2} \w{3} \d{4} \d\d:\d\d:\d\d [+-]\d{4}")
    assert not raw.search(english) and not raw.search(russian)
    sent = now.astimezone(ZoneInfo(dev_app.config["DEFAULT_TIMEZONE"]))
    with dev_app.test_request_context():
        assert moment_short(sent, sent.tzinfo, "en") in english
        assert moment_short(sent, sent.tzinfo, "ru") in russian
