"""Login rate limits (memory and Redis), cookie flags, security headers."""
from __future__ import annotations

import json
import os
import subprocess
import sys
import uuid
from pathlib import Path

import pytest

from tests.auth.support import PASSWORD, csrf_token, new_client
from tests.conftest import TEST_SECRET_KEY
from tracker.extensions import limiter

ROOT = Path(__file__).resolve().parents[2]
TOO_MANY = "Too many failed attempts. Wait a few minutes, or reset your password."


@pytest.fixture
def small_limits(app):
    saved = {k: app.config[k] for k in ("LOGIN_LIMIT_PER_ACCOUNT", "LOGIN_LIMIT_PER_ADDRESS")}
    app.config["LOGIN_LIMIT_PER_ACCOUNT"] = "3 per 15 minutes"
    app.config["LOGIN_LIMIT_PER_ADDRESS"] = "5 per 15 minutes"
    limiter.reset()
    yield
    app.config.update(saved)
    limiter.reset()  # other tests log in from the same address


def _attempt(client, email: str, password: str, address: str):
    token = csrf_token(client)
    return client.post("/login", data={"email": email, "password": password, "csrf_token": token},
                       environ_base={"REMOTE_ADDR": address})


def test_failed_logins_are_limited_per_account_from_any_address(app, editor, small_limits):
    client = new_client(app)
    codes = [_attempt(client, editor.email, "guess", f"10.0.0.{n}").status_code for n in range(3)]
    assert codes == [401, 401, 401]
    blocked = _attempt(client, editor.email, PASSWORD, "10.0.0.99")  # even the right password, elsewhere
    assert blocked.status_code == 429
    body = blocked.get_data(as_text=True)
    assert TOO_MANY in body and f'value="{editor.email}"' in body
    # another account from a fresh address is not affected
    assert _attempt(client, "other@example.org", "guess", "10.0.1.1").status_code == 401


def test_failed_logins_are_limited_per_address_across_accounts(app, editor, small_limits):
    client = new_client(app)
    codes = [_attempt(client, f"user{n}@example.org", "guess", "10.0.2.1").status_code for n in range(5)]
    assert codes == [401] * 5
    assert _attempt(client, editor.email, PASSWORD, "10.0.2.1").status_code == 429
    assert _attempt(client, editor.email, PASSWORD, "10.0.2.2").status_code == 302


def test_successful_logins_do_not_count(app, editor, small_limits):
    for _ in range(5):
        client = new_client(app)
        assert _attempt(client, editor.email, PASSWORD, "10.0.3.1").status_code == 302


# --- shared counters in Redis ----------------------------------------------------------------

WORKER = """
import json, os, sys
from config import Config
from tracker import create_app

class WorkerConfig(Config):
    SQLALCHEMY_DATABASE_URI = os.environ["WORKER_DATABASE_URI"]
    RATELIMIT_STORAGE_URI = os.environ["WORKER_RATELIMIT_STORAGE_URI"]
    RATELIMIT_KEY_PREFIX = os.environ["WORKER_PREFIX"]
    WTF_CSRF_ENABLED = False
    LOGIN_LIMIT_PER_ACCOUNT = "3 per 15 minutes"

app = create_app(WorkerConfig)
client = app.test_client()
codes = [
    client.post("/login", data={"email": sys.argv[1], "password": "guess"},
                environ_base={"REMOTE_ADDR": sys.argv[2]}).status_code
    for _ in range(int(sys.argv[3]))
]
print(json.dumps(codes))
"""


def _redis_url() -> str | None:
    url = os.environ.get("TEST_REDIS_URL")
    import redis

    try:
        redis.Redis.from_url(url or "redis://127.0.0.1:6379/15", socket_connect_timeout=1).ping()
    except redis.exceptions.ConnectionError as error:
        if url:
            pytest.fail(f"TEST_REDIS_URL={url} is set but Redis does not answer: {error}")
        pytest.skip("Redis is not reachable at redis://127.0.0.1:6379/15 and TEST_REDIS_URL is unset")
    return url or "redis://127.0.0.1:6379/15"


def _worker(database_uri: str, storage: str, prefix: str, email: str, address: str, attempts: int) -> list[int]:
    env = dict(os.environ, WORKER_DATABASE_URI=database_uri, WORKER_RATELIMIT_STORAGE_URI=storage,
               WORKER_PREFIX=prefix, PYTHONPATH=str(ROOT), SECRET_KEY=TEST_SECRET_KEY)
    done = subprocess.run([sys.executable, "-c", WORKER, email, address, str(attempts)], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout.strip().splitlines()[-1])


def test_redis_counters_are_shared_by_separate_worker_processes(database_uri):
    url = _redis_url()
    prefix = f"test-{uuid.uuid4().hex}"  # this run's keys only; nothing else in the database is touched
    assert _worker(database_uri, url, prefix, "target@example.org", "10.1.0.1", 3) == [401, 401, 401]
    # a second process (another gunicorn worker, another host) sees the same counters
    assert _worker(database_uri, url, prefix, "target@example.org", "10.1.0.2", 1) == [429]
    # while memory storage counts per process, which is why production needs Redis
    assert _worker(database_uri, "memory://", prefix, "target@example.org", "10.1.0.2", 1) == [401]

    import redis

    client = redis.Redis.from_url(url)
    keys = list(client.scan_iter(f"*{prefix}*"))
    assert keys, "the limiter wrote no keys to Redis"
    client.delete(*keys)


# --- cookies and headers -------------------------------------------------------------------------

COOKIES = """
import json, os
from config import Config
from tracker import create_app

results = {}
for base_url in ("https://tracker.example", "http://127.0.0.1:5000"):
    class SiteConfig(Config):
        SQLALCHEMY_DATABASE_URI = os.environ["WORKER_DATABASE_URI"]
        BASE_URL = base_url

    app = create_app(SiteConfig)
    page = app.test_client().get("/login", base_url=base_url)
    results[base_url] = {"set_cookie": page.headers.getlist("Set-Cookie"),
                         "remember_secure": app.config["REMEMBER_COOKIE_SECURE"]}
print(json.dumps(results))
"""


def test_cookies_are_secure_when_the_site_is_https(database_uri):
    env = dict(os.environ, WORKER_DATABASE_URI=database_uri, PYTHONPATH=str(ROOT), SECRET_KEY=TEST_SECRET_KEY)
    done = subprocess.run([sys.executable, "-c", COOKIES], cwd=ROOT, env=env, capture_output=True, text=True,
                          timeout=120)
    assert done.returncode == 0, done.stderr
    results = json.loads(done.stdout.strip().splitlines()[-1])
    for base_url, secure in (("https://tracker.example", True), ("http://127.0.0.1:5000", False)):
        [cookie] = [c for c in results[base_url]["set_cookie"] if c.startswith("session=")]
        assert ("; Secure" in cookie) is secure, (base_url, cookie)
        assert "HttpOnly" in cookie and "SameSite=Lax" in cookie
        assert results[base_url]["remember_secure"] is secure


def test_security_headers_and_no_inline_script_on_editing_pages(editor_client, make_hearing):
    from tracker.extensions import db

    hearing = make_hearing()
    db.session.commit()
    for path in ("/login", "/edit/", f"/edit/hearings/{hearing.id}"):
        response = editor_client.get(path)
        csp = response.headers["Content-Security-Policy"]
        assert "script-src 'self'" in csp and "unsafe-inline" not in csp
        assert response.headers["X-Frame-Options"] == "DENY"
        body = response.get_data(as_text=True)
        assert "<script" not in body and " style=" not in body and "<style" not in body
