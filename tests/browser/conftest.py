"""Account fixtures (tests/auth/support.py) and the app served on a loopback port for the browser."""
from __future__ import annotations

import os
import shutil
import threading
from contextlib import contextmanager

import pytest
from werkzeug.serving import make_server

from tests.auth.support import *  # noqa: F401,F403
from tests.conftest import free_port

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run"]


@contextmanager
def serving(app):  # noqa: ANN001, ANN201
    """An app over real HTTP on a free loopback port, in a thread; yields its base URL."""
    port = free_port()
    server = make_server("127.0.0.1", port, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, name="live-server", daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.shutdown()
        thread.join(timeout=10)


@pytest.fixture
def live_server(app):
    """The real app over real HTTP on a free loopback port, in a thread, on the test database."""
    with serving(app) as url:
        yield url


@pytest.fixture
def browser():
    """Debian's chromium driven by Playwright; skipped (or failed, with REQUIRE_BROWSER=1) without it."""
    required = os.environ.get("REQUIRE_BROWSER") == "1"
    executable = CHROMIUM if os.path.exists(CHROMIUM) else shutil.which("chromium")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError as error:
        if required:
            pytest.fail(f"REQUIRE_BROWSER=1 but Playwright is not installed: {error}")
        pytest.skip("browser tests skipped: the playwright package is not installed")
    if executable is None:
        if required:
            pytest.fail(f"REQUIRE_BROWSER=1 but there is no chromium at {CHROMIUM} (apt-get install chromium)")
        pytest.skip(f"browser tests skipped: no chromium at {CHROMIUM} (apt-get install chromium to run them)")
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=executable, headless=True, args=CHROMIUM_ARGS)
        try:
            yield launched
        finally:
            launched.close()


PHONE = {"width": 390, "height": 844}


@pytest.fixture
def phone(browser):  # noqa: ANN001, ANN201
    """A page in a phone-sized, touch browser context, and the list of its script errors.

    Console errors about a resource that failed to load are not script errors: the tests
    that care about them watch responses themselves."""
    context = browser.new_context(viewport=PHONE, device_scale_factor=2, is_mobile=True, has_touch=True)
    page = context.new_page()
    problems: list[str] = []
    page.on("console", lambda message: problems.append(message.text)
            if message.type == "error" and not message.text.startswith("Failed to load resource") else None)
    page.on("pageerror", lambda error: problems.append(str(error)))
    yield page, problems
    context.close()


def log_in_page(page, base: str, email: str) -> None:  # noqa: ANN001
    """Log `email` in through the real login form (the test password), landing on /edit/."""
    from tests.auth.support import PASSWORD

    page.goto(f"{base}/login")
    page.fill("#email", email)
    page.fill("#password", PASSWORD)
    page.click("main button[type=submit]")
    page.wait_for_url(f"{base}/edit/")


def wider_than_a_phone(page, base: str, paths: list[str]) -> dict[str, int]:  # noqa: ANN001
    """Each of `paths` (expected 200) whose page scrolls sideways on the phone, with its width:
    the document's, since on a phone the viewport grows with the content (the page zooms out)."""
    wide = {}
    for path in paths:
        response = page.goto(f"{base}{path}")
        assert response.status == 200, path
        width = page.evaluate("document.documentElement.scrollWidth")
        if width > PHONE["width"]:
            wide[path] = width
    return wide
