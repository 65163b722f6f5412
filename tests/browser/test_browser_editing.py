"""An editor on a phone logs in, postpones a hearing, and sees it on the public page and in the history."""
from __future__ import annotations

from datetime import timedelta

import pytest

from tests.browser.conftest import log_in_page
from tracker.extensions import db, utcnow

pytestmark = pytest.mark.browser


def test_editor_postpones_a_hearing_from_a_phone(live_server, browser, editor, make_defendant, make_hearing):
    # The served app reads the real clock, so the hearing is placed relative to it.
    start = (utcnow() + timedelta(days=5)).replace(hour=8, minute=0, second=0, microsecond=0)
    person = make_defendant(slug="ivan-primerov", name_latin="Ivan Primerov")
    hearing = make_hearing(defendants=[person], starts_at=start)
    db.session.commit()
    new_day = (start + timedelta(days=14)).astimezone(hearing.court.tz).date()

    context = browser.new_context(viewport={"width": 390, "height": 844}, is_mobile=True, has_touch=True)
    page = context.new_page()
    errors: list[str] = []
    page.on("console", lambda message: errors.append(message.text) if message.type == "error" else None)
    failed: list[str] = []
    page.on("response", lambda r: failed.append(f"{r.status} {r.url}") if r.status >= 400 else None)
    try:
        log_in_page(page, live_server, editor.email)

        page.goto(f"{live_server}/edit/hearings/{hearing.id}")
        # usable on a phone: nothing wider than the screen
        # against the screen's width: on a phone innerWidth grows with the content (the page zooms out)
        assert page.evaluate("document.documentElement.scrollWidth") <= 390
        page.fill("#postpone-to", f"{new_day.isoformat()}T11:30")
        page.fill("#postpone-reason", "The judge is ill")
        page.click("button[value=postpone]")
        page.wait_for_url(f"{live_server}/edit/hearings/{hearing.id}")
        assert f"Hearing moved to {new_day:%a}, {new_day:%B} {new_day.day}, {new_day.year}, 11:30 (MSK)" \
            in page.inner_text("main")

        history = page.inner_text("ol.history")
        assert "Postponed the hearing" in history and "The judge is ill" in history
        assert editor.email in history
        old = start.astimezone(hearing.court.tz)
        assert f"{old:%b} {old.day}, {old.year}, {old:%H:%M} MSK →" in history  # the old date is kept
        assert "UTC" not in history and "+00:00" not in history

        page.goto(f"{live_server}/defendants/ivan-primerov")
        upcoming = page.inner_text("main")
        assert f"{new_day:%a}, {new_day:%B} {new_day.day}, {new_day.year}, 11:30 (MSK)" in upcoming
        assert "The judge is ill" not in upcoming  # the audit note stays with editors
        # no CSP violation or script error; the only miss allowed is the browser's own favicon probe
        assert all(f.endswith("/favicon.ico") for f in failed), failed
        assert len([e for e in errors if "404" not in e]) == 0, errors
    finally:
        context.close()
