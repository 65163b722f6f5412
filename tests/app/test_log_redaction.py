"""Secrets in URLs (private feeds, reminder links, invitations, password resets) never land
in the app's logs, nor in the request log of the server `make run` starts."""
from __future__ import annotations

import logging
import threading
import urllib.error
import urllib.request

import pytest
from werkzeug.serving import make_server

from tests.auth.support import make_user  # noqa: F401  (a fixture)
from tests.conftest import free_port

SECRET = "s3cr3tT0k3n-abcdefghijklmnop"
SIGNED = "eyJzIjo1fQ.aB-Cd_9.signature_part"
PATHS = [
    f"/feeds/private/{SECRET}.ics",
    f"/reminders/manage/{SECRET}",
    f"/reminders/unsubscribe/{SECRET}",
    f"/reminders/confirm/{SIGNED}",
    f"/invitation/{SIGNED}",
    f"/password-reset/{SIGNED}",
]


def _leaks(text: str) -> list[str]:
    return [part for part in (SECRET, "aB-Cd_9", "signature_part") if part in text]


@pytest.mark.parametrize("path", PATHS)
def test_each_secret_path_is_redacted(path):
    from tracker.redaction import redact

    line = f'127.0.0.1 - - "GET {path}?x=1 HTTP/1.1" 200 - https://tracker.example{path}'
    clean = redact(line)
    assert _leaks(clean) == [] and clean.count("[redacted]") == 2
    assert "?x=1 HTTP/1.1" in clean  # the rest of the line stays readable
    assert redact("/reminders/signup?follow=anna /password-reset /feeds/all.ics") == \
        "/reminders/signup?follow=anna /password-reset /feeds/all.ics"
    assert _leaks(redact(f"/login?next={path.replace('/', '%2F')}")) == []


def test_nothing_the_app_logs_carries_a_token(app, caplog):
    caplog.set_level(logging.INFO)
    path = f"/reminders/manage/{SECRET}"
    app.logger.error("unhandled error on %s", path)  # what the app's 500 handler writes
    logging.getLogger("tracker.feeds.views").info("served %(path)s", {"path": f"/feeds/private/{SECRET}.ics"})
    logging.getLogger("gunicorn.access").info('"GET %s HTTP/1.1" 200', f"/invitation/{SIGNED}")
    try:
        raise ValueError(f"no such token in /password-reset/{SIGNED}")
    except ValueError:
        logging.getLogger("tracker").exception("while serving %s", f"/reminders/confirm/{SIGNED}")
    records = [r for r in caplog.records if r.name in ("tracker", "tracker.feeds.views", "gunicorn.access")]
    assert len(records) == 4
    assert _leaks(caplog.text) == [], caplog.text
    formatted = "\n".join(logging.Formatter("%(message)s").format(r) for r in records)  # any handler's view
    assert _leaks(formatted) == [] and "Traceback" in formatted and formatted.count("[redacted]") >= 5


def test_the_request_log_of_the_dev_server_carries_no_token(app, caplog, make_user):
    user = make_user("feed@example.org")
    caplog.set_level(logging.INFO, logger="werkzeug")
    port = free_port()
    server = make_server("127.0.0.1", port, app, threaded=True)  # what `make run` serves with
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        for path in PATHS + [f"/feeds/private/{user.feed_token}.ics"]:
            try:
                urllib.request.urlopen(f"http://127.0.0.1:{port}{path}", timeout=10).read()
            except urllib.error.HTTPError:
                pass  # 404 for the made-up tokens: still logged
    finally:
        server.shutdown()
        thread.join(timeout=10)
    lines = [r.getMessage() for r in caplog.records if r.name == "werkzeug"]
    # each request was logged (and the redirect from unsubscribe to manage followed)
    assert len([line for line in lines if "GET " in line]) >= len(PATHS) + 1, lines
    assert _leaks("\n".join(lines)) == [] and user.feed_token not in caplog.text, lines
    assert "/feeds/private/[redacted]" in caplog.text


def test_pages_reached_by_a_token_send_no_referer(app, make_user):
    """Otherwise the browser sends the token URL as Referer for the page's stylesheet and for
    every link followed from it, and it lands in the server's access log."""
    user = make_user("referer@example.org")
    client = app.test_client()
    for path in (f"/reminders/manage/{SECRET}", f"/invitation/{SIGNED}", f"/feeds/private/{user.feed_token}.ics"):
        assert client.get(path).headers["Referrer-Policy"] == "no-referrer", path
    assert client.get("/").headers["Referrer-Policy"] == "same-origin"
