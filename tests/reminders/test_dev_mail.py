"""`make run`'s caught mail at /dev/mail: what a newcomer sees volunteers would receive."""
from __future__ import annotations

import re

import pytest
from aiosmtpd.controller import Controller

from config import TestConfig
from tests.conftest import free_port
from tracker import create_app
from tracker.dev import SaveToFolder
from tracker.extensions import db
from tracker.reminders import logic
from tracker.reminders.models import Scope
from tracker.reminders.sending import send_pending


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


def test_caught_mail_is_listed_and_shown(dev_app, now):
    with dev_app.app_context():
        logic.sign_up(db.session, email="newcomer@example.org", scope=Scope.ALL, lead_minutes=[1440],
                      digest=False, now=now)
        db.session.commit()
        assert send_pending(db.session, now).sent == 1
        db.session.remove()
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
