"""Fixtures shared by tests/auth, tests/editing and tests/browser (their conftests import them)."""
from __future__ import annotations

import re

import pytest

from tracker.auth import logic
from tracker.auth.models import Role, User
from tracker.extensions import db
from flask.testing import FlaskClient

PASSWORD = "correct horse battery"
TOKEN = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')


def new_client(app) -> FlaskClient:  # noqa: ANN001
    """A second browser: its own cookies."""
    return app.test_client()


def csrf_token(client, path: str = "/login") -> str:
    """The CSRF token a real browser would send, read from a rendered form."""
    page = client.get(path)
    found = TOKEN.search(page.get_data(as_text=True))
    assert found, f"no CSRF token on {path} ({page.status_code})"
    return found.group(1)


def log_in(client, email: str, password: str = PASSWORD, **extra):
    token = csrf_token(client, "/login")
    return client.post("/login", data={"email": email, "password": password, "csrf_token": token, **extra})


def post_form(client, path: str, data: dict, token_from: str | None = None):
    """POST like a browser: with the CSRF token of the page the form is on."""
    token = csrf_token(client, token_from or path)
    return client.post(path, data={**data, "csrf_token": token})


@pytest.fixture
def make_user(now):
    counter = iter(range(1, 10**6))

    def make(email: str | None = None, *, role: Role = Role.EDITOR, password: str | None = PASSWORD,
             cases=(), **kw) -> User:
        user = logic.create_user(db.session, email or f"user{next(counter)}@example.org", role=role,
                                 password=password, cases=list(cases), now=now, **kw)
        db.session.commit()
        return user

    return make


@pytest.fixture
def admin(make_user) -> User:
    return make_user("admin@example.org", role=Role.ADMIN)


@pytest.fixture
def editor(make_user) -> User:
    return make_user("editor@example.org")


@pytest.fixture
def anon_client(app) -> FlaskClient:
    return new_client(app)


@pytest.fixture
def editor_client(app, editor):
    client = new_client(app)
    assert log_in(client, editor.email).status_code == 302
    return client


@pytest.fixture
def admin_client(app, admin):
    client = new_client(app)
    assert log_in(client, admin.email).status_code == 302
    return client
