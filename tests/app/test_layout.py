"""The layout's parts kept per language, mount point and demo flag (tracker/layout.py): what
is kept never carries one reader's content to another, and the page is the one Jinja writes."""
from __future__ import annotations

import re

import pytest

from tracker.extensions import db
from tracker.layout import PARTS_KEY
from tests.auth.support import editor, editor_client, make_user, new_client  # noqa: F401


def switch_of(page: str) -> str:
    return re.search(r'<nav class="languages"[^>]*>(.*?)</nav>', page, re.S).group(1)


@pytest.fixture
def kept_parts(app):
    """Each test starts with nothing kept (other tests' pages would have filled the store)."""
    app.extensions.pop(PARTS_KEY, None)
    yield
    app.extensions.pop(PARTS_KEY, None)


def test_an_editors_header_is_theirs_and_a_visitors_is_kept_without_it(app, kept_parts, editor_client, editor):
    visitor = new_client(app)
    first = visitor.get("/hearings").get_data(as_text=True)  # the visitor's header is kept
    own = editor_client.get("/hearings").get_data(as_text=True)
    again = visitor.get("/hearings").get_data(as_text=True)
    assert editor.email in own and 'action="/logout"' in own and 'class="login"' not in own
    for page in (first, again):
        assert editor.email not in page and "logout" not in page and 'class="login"' in page
    assert first == again


def test_the_switch_links_back_to_each_page_read(app, kept_parts, client):
    client.get("/hearings")
    switch = switch_of(client.get("/dates?lang=en&x=1").get_data(as_text=True))
    assert 'href="/language?to=ru&amp;next=/dates?x%3D1"' in switch
    error = switch_of(client.get("/no-such-page").get_data(as_text=True))
    assert "no-such-page" not in error and 'next=/"' in error  # an error page's switch goes home


def test_the_demo_banner_follows_the_data(app, kept_parts, client, make_case):
    assert 'class="demo"' not in client.get("/hearings").get_data(as_text=True)
    make_case(is_demo=True)
    db.session.commit()  # the banner's check reads what is committed
    assert 'class="demo"' in client.get("/hearings").get_data(as_text=True)


@pytest.mark.parametrize("path", ["/hearings", "/login", "/reminders/signup", "/no-such-page"])
@pytest.mark.parametrize("language", ["en", "ru"])
def test_kept_parts_write_the_page_jinja_writes(app, kept_parts, client, path, language):
    """With auto-reload on nothing is kept: the page rendered from the templates alone."""
    headers = {"Accept-Language": language}
    client.get(path, headers=headers)  # fills the store
    kept = client.get(path, headers=headers)
    assert app.extensions[PARTS_KEY]
    app.jinja_env.auto_reload = True
    try:
        app.extensions.pop(PARTS_KEY, None)
        rendered = client.get(path, headers=headers)
        assert PARTS_KEY not in app.extensions or not app.extensions[PARTS_KEY]
    finally:
        app.jinja_env.auto_reload = False
    token = re.compile(r'(name="csrf_token"[^>]*value=")[^"]*')
    assert token.sub(r"\1", kept.get_data(as_text=True)) == token.sub(r"\1", rendered.get_data(as_text=True))
    assert f'<html lang="{language}">' in kept.get_data(as_text=True)
