"""GET and HEAD count towards no rate limit, through Flask-Limiter's public API only.

The app exempts safe methods with `limiter.request_filter` (tracker/extensions.py): it
used to reach into the limiter's private attributes and swap its `before_request` hook,
which a minor release of Flask-Limiter could break without a word.
"""
from __future__ import annotations

import ast
from pathlib import Path

import pytest

from tests.auth.support import csrf_token, new_client
from tracker.extensions import limiter

TRACKER = Path(__file__).resolve().parents[2] / "tracker"


def _sources() -> list[tuple[Path, ast.Module]]:
    return [(path, ast.parse(path.read_text(encoding="utf-8"))) for path in TRACKER.rglob("*.py")]


def test_no_private_flask_limiter_attribute_is_read():
    private = []
    for path, tree in _sources():
        for node in ast.walk(tree):
            if isinstance(node, ast.Attribute) and node.attr.startswith("_") and not node.attr.startswith("__"):
                inner = node.value
                owner = inner.attr if isinstance(inner, ast.Attribute) else getattr(inner, "id", "")
                if owner in ("limiter", "limit_manager", "manager"):
                    private.append(f"{path.relative_to(TRACKER)}:{node.lineno} {owner}.{node.attr}")
    assert private == []


def test_every_limit_counts_posts_only():
    """The filter skips GET/HEAD/OPTIONS: a limit meant for them would silently never count."""
    limits = []
    for path, tree in _sources():
        for node in ast.walk(tree):
            if (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)
                    and node.func.attr in ("limit", "shared_limit")
                    and getattr(node.func.value, "id", "") == "limiter"):
                methods = next((k.value for k in node.keywords if k.arg == "methods"), None)
                limits.append((f"{path.relative_to(TRACKER)}:{node.lineno}",
                               ast.literal_eval(methods) if methods is not None else None))
    assert len(limits) >= 6  # logins (2), password reset, action, reminder and attendance sign-ups
    assert [where for where, methods in limits if methods != ["POST"]] == []


@pytest.fixture
def one_login_a_quarter(app):
    saved = app.config["LOGIN_LIMIT_PER_ADDRESS"]
    app.config["LOGIN_LIMIT_PER_ADDRESS"] = "1 per 15 minutes"
    limiter.reset()
    yield
    app.config["LOGIN_LIMIT_PER_ADDRESS"] = saved
    limiter.reset()


def test_gets_and_heads_do_not_count_and_posts_still_do(app, one_login_a_quarter):
    client = new_client(app)
    address = {"REMOTE_ADDR": "10.9.0.1"}
    for _ in range(3):
        assert client.get("/login", environ_base=address).status_code == 200
        assert client.head("/login", environ_base=address).status_code == 200

    def attempt() -> int:
        return client.post("/login", data={"email": "nobody@example.org", "password": "guess",
                                           "csrf_token": csrf_token(client)}, environ_base=address).status_code

    assert attempt() == 401
    assert attempt() == 429
