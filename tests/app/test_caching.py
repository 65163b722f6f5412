"""Public pages a shared cache can hold (tracker/caching.py, docs/caching.md).

No cookie on an anonymous GET of any public route; a strong ETag that moves with every
edit of what a page shows (through the editing services), with the language and with the
clock; 304 without rendering; editors' pages private and never answered from the
anonymous validator; the sign-up form's CSRF without a session.
"""
from __future__ import annotations

import re
from datetime import date, timedelta

import pytest
import sqlalchemy as sa
import time_machine
from flask import template_rendered

from tests.auth.support import admin, admin_client, editor, editor_client, log_in, make_user, new_client  # noqa: F401
from tracker import caching
from tracker.attendance import logic as attendance
from tracker.access import PUBLIC
from tracker.editing import services
from tracker.extensions import db, limiter
from tracker.mail.models import OutboxMessage
from tracker.records.models import Defendant, HearingStatus
from tracker.reminders.models import Scope, Subscription
from tracker.reminders.subscriptions import confirm_url, sign_up, unsubscribe

TOKEN = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')
# Public routes that answer with what is theirs to cache (ETag, 304 and Cache-Control of their own).
OWN_CACHING = ("feeds.", "api.", "export.", "actions.feed")
# Doors to an account: the session they start is what they are for (CSRF bound to it); never
# cached (no Cache-Control public), and no verdict-day visitor reaches them.
ACCOUNT_DOORS = {"auth.login", "auth.request_reset"}
NOT_PAGES = {"static", "healthz", "auth.logout", "i18n.switch"}  # the switch: a redirect that sets the cookie
PRIVATE_MARKERS = ("Lawyer: +7 900 000-00-00", "Note: meets family Fridays", "editor@example.org",
                   "/edit/", "Log out", "Hidden Person")


@pytest.fixture(autouse=True)
def _no_rate_limits():
    limiter.reset()  # the sign-up's limit counts per minute, and the clock is frozen


@pytest.fixture
def frozen(now):
    with time_machine.travel(now, tick=False):
        yield now


@pytest.fixture
def records(frozen, make_case, make_defendant, make_measure, make_hearing, make_court):
    case = make_case(slug="bolotnaya", title="Bolotnaya")
    court = make_court(name="Moscow City Court")
    person = make_defendant(slug="kosenko", name_latin="Mikhail Kosenko", cases=[case],
                            birth_date=date(1975, 3, 20), lawyer_contacts="Lawyer: +7 900 000-00-00",
                            internal_notes="Note: meets family Fridays")
    make_measure(person, starts_on=date(2025, 6, 8), until=date(2026, 4, 6))
    hidden = make_defendant(slug="hidden", name_latin="Hidden Person", cases=[case], is_public=False)
    hearing = make_hearing(court=court, case=case, defendants=[person, hidden], starts_at=frozen + timedelta(days=2))
    db.session.commit()
    return {"case": case, "person": person, "hidden": hidden, "hearing": hearing, "court": court}


PAGES = ["/", "/defendants/kosenko", "/cases/bolotnaya", "/hearings", "/dates", "/reminders/signup",
         "/?status=pre_trial_detention&page=1", "/hearings?case=bolotnaya"]


def _examples(app, records) -> dict[str, tuple[str, str]]:
    """An example URL for every public GET route."""
    values = {"slug": "kosenko", "court_id": records["court"].id, "hearing_id": records["hearing"].id,
              "anything": "nothing/here", "filename": "style.css", "lang": "ru"}
    urls = {}
    with app.test_request_context():
        from flask import url_for

        for rule in app.url_map.iter_rules():
            view = app.view_functions[rule.endpoint]
            if "GET" not in rule.methods or getattr(view, "access", None) != PUBLIC and rule.endpoint != "static":
                continue
            defaults = rule.defaults or {}
            given = {name: values[name] for name in rule.arguments - set(defaults)}
            urls[rule.rule] = (rule.endpoint, url_for(rule.endpoint, **given, **defaults))
    return urls


def test_no_cookie_on_any_anonymous_public_get(app, records):
    """Every public GET route of the app (walked, so a new one is covered), as a first-time
    visitor: no Set-Cookie, whatever the page; the account doors never cacheable."""
    urls = _examples(app, records)
    assert len(urls) >= 25
    problems = []
    for endpoint, url in sorted(urls.values()):
        client = new_client(app)
        response = client.get(url, headers={"Accept-Language": "ru"})
        assert response.status_code < 500, url
        if endpoint in ACCOUNT_DOORS:
            assert "public" not in response.headers.get("Cache-Control", ""), url
            continue
        if response.headers.getlist("Set-Cookie"):
            problems.append(f"{url}: {response.headers.getlist('Set-Cookie')}")
    assert not problems


def test_every_public_page_declares_its_caching(app):
    """A public HTML page is either a shared page (`cacheable_page`) or one visitor's own
    (`private_page`); a new public route must choose."""
    undecided = []
    for rule in app.url_map.iter_rules():
        view = app.view_functions[rule.endpoint]
        if "GET" not in rule.methods or getattr(view, "access", None) != PUBLIC:
            continue
        if rule.endpoint.startswith(OWN_CACHING) or rule.endpoint in ACCOUNT_DOORS | NOT_PAGES:
            continue
        if not hasattr(view, "cacheable"):
            undecided.append(rule.endpoint)
    assert not undecided


@pytest.mark.parametrize("url", PAGES)
def test_anonymous_pages_are_public_with_a_strong_etag(client, records, url):
    response = client.get(url)
    assert response.status_code == 200
    assert response.headers["Cache-Control"] == "public, max-age=60, stale-while-revalidate=300"
    etag = response.headers["ETag"]
    assert re.fullmatch(r'"p-[0-9a-f]{24}"', etag)  # strong: no W/
    assert {"Accept-Language", "Cookie"} <= set(response.vary)
    assert not response.headers.getlist("Set-Cookie")
    assert client.get(url).headers["ETag"] == etag  # stable while nothing changes


@pytest.mark.parametrize("url", PAGES)
def test_a_matching_if_none_match_is_a_304_without_rendering(app, client, records, count_queries, url):
    etag = client.get(url).headers["ETag"]
    rendered = []

    def on_render(sender, template, context, **extra):  # noqa: ANN001, ANN003
        rendered.append(template.name)

    template_rendered.connect(on_render, app)
    try:
        with count_queries() as counter:
            response = client.get(url, headers={"If-None-Match": etag})
        weak = client.get(url, headers={"If-None-Match": f"W/{etag}, \"other\""})
    finally:
        template_rendered.disconnect(on_render, app)
    assert response.status_code == 304 and weak.status_code == 304
    assert response.get_data() == b""
    assert rendered == []
    # no ORM statement at all: the data generation is read on the worker's own DB-API connection
    # (tracker.generation.read_generation), one primary-key read whatever the page's size
    assert counter.count == 0, counter.statements
    assert response.headers["ETag"] == etag
    assert response.headers["Cache-Control"].startswith("public, max-age=")
    assert "Accept-Language" in response.vary
    assert client.get(url, headers={"If-None-Match": '"p-stale"'}).status_code == 200


@pytest.mark.parametrize("url", ["/", "/defendants/kosenko"])
def test_the_app_answers_the_same_304_without_the_middleware(app, client, records, url):
    """A visitor with an empty session cookie goes past the middleware: the view's wrapper
    answers the same 304 with the same ETag."""
    etag = client.get(url).headers["ETag"]
    client.set_cookie("session", "")
    response = client.get(url, headers={"If-None-Match": etag})
    assert response.status_code == 304 and response.headers["ETag"] == etag
    assert response.headers["Cache-Control"].startswith("public")


@pytest.mark.parametrize("accept", [None, "ru", "en", "ru-RU,ru;q=0.9,en;q=0.8", "de-DE,de;q=0.9", "en-GB, ru;q=0.5",
                                    "*", "ru;q=0.1, en;q=0.2", "xx"])
@pytest.mark.parametrize("cookie", [None, "ru", "en", "de"])
def test_the_middleware_chooses_the_language_the_app_renders(app, accept, cookie):
    """`PageRevalidation` reads the language from the raw request; it must be the one the
    page is rendered in, or it could answer 304 for a copy in another language."""
    from flask_babel import get_locale, refresh

    headers = {"Accept-Language": accept} if accept else {}
    if cookie:
        headers["Cookie"] = f"lang={cookie}"
    with app.test_request_context("/", headers=headers) as context:
        refresh()
        assert caching.page_language(context.request.environ, app.config) == str(get_locale())


def _etags(client, urls=PAGES, **headers) -> dict[str, str]:
    return {url: client.get(url, headers=headers).headers["ETag"] for url in urls}


def _all_changed(before: dict[str, str], after: dict[str, str]) -> None:
    unchanged = [url for url in before if before[url] == after[url]]
    assert not unchanged, f"these pages kept their ETag: {unchanged}"


def test_the_etag_moves_with_every_edit_through_the_services(client, records, editor, frozen):
    person, hearing, case = records["person"], records["hearing"], records["case"]
    edits = [
        lambda: services.update_defendant(db.session, person, {"bio": "Physicist."}, expected_version=None,
                                          by=editor, now=frozen),
        lambda: services.extend_custody(db.session, person, date(2026, 7, 6), by=editor, now=frozen),
        lambda: services.postpone_hearing(db.session, hearing, frozen + timedelta(days=9), by=editor, now=frozen),
        lambda: services.record_decision(db.session, person, {"decided_on": date(2026, 3, 1), "outcome": "fine"},
                                         expected_version=None, by=editor, now=frozen),
        lambda: services.update_case(db.session, case, {"title": "The May 6th case"}, expected_version=None,
                                     by=editor, now=frozen),
        lambda: services.update_court(db.session, records["court"], {"name": "Moscow City Court",
                                      "address": "Bogorodsky Val, 8", "timezone": "Europe/Moscow"}, by=editor,
                                      now=frozen),
        # a hidden defendant made public: on the case page and the home page from now on
        lambda: services.update_defendant(db.session, records["hidden"], {"is_public": True},
                                          expected_version=None, by=editor, now=frozen),
    ]
    for edit in edits:
        before = _etags(client)
        edit()
        db.session.commit()
        _all_changed(before, _etags(client))


def test_an_edit_rolled_back_changes_nothing(client, records, editor, frozen):
    before = _etags(client)
    services.update_defendant(db.session, records["person"], {"bio": "Never saved."}, expected_version=None,
                              by=editor, now=frozen)
    db.session.flush()
    db.session.rollback()
    assert _etags(client) == before


def test_writes_no_public_page_shows_keep_the_etag(client, records, frozen):
    """Sign-ups, the outbox, accounts: sending 10,000 reminders must not empty the caches."""
    before = _etags(client)
    sign_up(db.session, email="v@example.org", scope=Scope.ALL, lead_minutes=[60], digest=False, now=frozen)
    db.session.add(OutboxMessage(dedupe_key="x", kind="reminder", recipient="v@example.org", subject="s",
                                 message_id="<x@tracker.test>"))
    db.session.commit()
    assert _etags(client) == before


def test_bulk_orm_writes_move_the_etag_too(client, records):
    before = _etags(client, ["/"])
    db.session.execute(sa.update(Defendant).where(Defendant.slug == "kosenko").values(bio="Bulk."))
    db.session.commit()
    _all_changed(before, _etags(client, ["/"]))


def test_the_etag_differs_by_language_and_moves_with_the_clock(client, records, frozen):
    english = _etags(client, **{"Accept-Language": "en"})
    russian = _etags(client, **{"Accept-Language": "ru"})
    assert all(english[url] != russian[url] for url in PAGES)
    # the same page, in the language its ETag names (Russian navigation)
    assert "Дни рождения" in client.get("/", headers={"Accept-Language": "ru"}).get_data(as_text=True)
    chooser = client.application.test_client()
    chooser.set_cookie("lang", "ru")  # what the language switch leaves
    assert "Дни рождения" in chooser.get("/").get_data(as_text=True)
    assert chooser.get("/").headers["ETag"] == russian["/"]
    assert chooser.get("/", headers={"If-None-Match": russian["/"]}).status_code == 304
    with time_machine.travel(frozen + timedelta(minutes=2), tick=False):
        later = _etags(client, **{"Accept-Language": "en"})
    minute_pages = [url for url in PAGES if url != "/dates"]
    _all_changed({u: english[u] for u in minute_pages}, {u: later[u] for u in minute_pages})
    assert later["/dates"] == english["/dates"]  # the same day
    with time_machine.travel(frozen + timedelta(days=1), tick=False):
        assert client.get("/dates").headers["ETag"] != english["/dates"]


@pytest.mark.parametrize("url", PAGES)
def test_editors_pages_are_private_and_never_a_304_from_the_public_etag(records, client, editor_client, url):
    public_etag = client.get(url).headers["ETag"]
    response = editor_client.get(url, headers={"If-None-Match": public_etag})
    assert response.status_code == 200
    assert response.headers["Cache-Control"] == "private, no-store"
    assert "ETag" not in response.headers
    assert "Log out" in response.get_data(as_text=True)


def test_editor_and_visitor_alternating_nothing_private_is_ever_public(app, records, editor):
    """An editor (who sees edit links, the hidden defendant, lawyers' contacts) and a visitor
    take turns on every page, with and without validators: every response marked public is
    free of anything private and sets no cookie; no editor's response is public."""
    visitor = new_client(app)
    editor_browser = new_client(app)
    assert log_in(editor_browser, editor.email).status_code == 302
    urls = [*PAGES, "/defendants/hidden"]
    seen_etags: dict[str, str] = {}
    for round_ in range(3):
        for url in urls:
            for who, client in (("editor", editor_browser), ("visitor", visitor)):
                headers = {"If-None-Match": seen_etags[url]} if url in seen_etags and round_ else {}
                response = client.get(url, headers=headers)
                cache_control = response.headers.get("Cache-Control", "")
                body = response.get_data(as_text=True)
                if who == "editor":
                    assert "public" not in cache_control, url
                    assert "Log out" in body, url  # the editor's own page
                    if url == "/defendants/kosenko":
                        assert "/edit/" in body
                    continue
                if "public" in cache_control:
                    assert not response.headers.getlist("Set-Cookie"), url
                    leaked = [marker for marker in PRIVATE_MARKERS if marker in body]
                    assert not leaked, f"{url}: {leaked}"
                    seen_etags[url] = response.headers["ETag"]
                if url == "/defendants/hidden":
                    assert response.status_code == 404
    assert len(seen_etags) == len(PAGES)


def test_a_visitor_with_a_flash_gets_it_privately(client, records):
    with client.session_transaction() as session:
        session["_flashes"] = [("success", "Confirmed: you will get reminders for all public hearings.")]
    response = client.get("/")
    assert "Confirmed: you will get reminders" in response.get_data(as_text=True)
    assert response.headers["Cache-Control"] == "private, no-store"
    assert "ETag" not in response.headers
    after = client.get("/")  # the flash was shown; the session is empty again
    assert after.headers["Cache-Control"].startswith("public")


def test_the_guard_makes_a_public_response_that_sets_a_cookie_private(app):
    from flask import Response

    with app.test_request_context("/"):
        response = Response("x", headers={"Cache-Control": "public, max-age=60", "ETag": '"p-1"'})
        response.set_cookie("session", "someone's")
        caching.guard(response)
        assert response.headers["Cache-Control"] == "private, no-store"
        assert "ETag" not in response.headers


def test_health_is_plain_and_touches_nothing(client, count_queries):
    with count_queries() as counter:
        response = client.get("/healthz")
    assert response.status_code == 200 and response.get_data() == b"ok\n"
    assert counter.count == 0
    assert not response.headers.getlist("Set-Cookie")


# --- the sign-up form's CSRF without a session -------------------------------------------------


def _signup(client, token: str | None, headers: dict | None = None):
    data = {"email": "volunteer@example.org", "follow": "defendant:kosenko", "mode": "each", "leads": ["60"],
            "next": "/defendants/kosenko"}
    if token is not None:
        data["csrf_token"] = token
    return client.post("/reminders/signup", data=data, headers=headers or {})


def _token(client, url: str = "/defendants/kosenko") -> str:
    return TOKEN.search(client.get(url).get_data(as_text=True)).group(1)


def test_signup_works_with_the_token_of_a_cached_page_and_no_cookie(app, records):
    visitor = new_client(app)
    token = _token(visitor)
    assert not visitor._cookies  # noqa: SLF001  the visitor has no cookie at all
    other = new_client(app)
    assert _token(other) == token  # the same page for everyone: a cache may serve it
    response = _signup(visitor, token, {"Sec-Fetch-Site": "same-origin", "Origin": "http://localhost"})
    assert response.status_code == 302
    assert "/reminders/signed-up" in response.headers["Location"]
    assert db.session.scalar(sa.select(sa.func.count(Subscription.id))) == 1
    outcome = visitor.get(response.headers["Location"])  # the address, once, on a private page
    assert "volunteer@example.org" in outcome.get_data(as_text=True)
    assert outcome.headers["Cache-Control"] == "private, no-store"
    assert not new_client(app).get("/reminders/signed-up").headers.getlist("Set-Cookie")


@pytest.mark.parametrize("token, message", [
    (None, "without its security code"),
    ("", "without its security code"),
    ("12345.forged", "not valid"),
    ("not-a-token", "not valid"),
])
def test_signup_refuses_a_missing_or_forged_token(app, records, token, message):
    response = _signup(new_client(app), token)
    assert response.status_code == 400
    assert message in response.get_data(as_text=True)
    assert db.session.scalar(sa.select(sa.func.count(Subscription.id))) == 0


def test_a_token_signed_for_another_form_is_refused(app, records, frozen):
    from tracker.forms import public_form_token

    with app.test_request_context():
        other = public_form_token("AttendanceForm", frozen)
    response = _signup(new_client(app), other)
    assert response.status_code == 400 and "not valid" in response.get_data(as_text=True)


def test_an_expired_token_is_refused_and_the_form_comes_back_with_a_new_one(app, records, frozen):
    visitor = new_client(app)
    token = _token(visitor)
    with time_machine.travel(frozen + timedelta(hours=23), tick=False):
        assert _signup(new_client(app), token).status_code == 302  # a page left open all day
    with time_machine.travel(frozen + timedelta(hours=26), tick=False):
        response = _signup(visitor, token)
        page = response.get_data(as_text=True)
        assert response.status_code == 400
        assert "expired" in page
        assert 'value="volunteer@example.org"' in page  # nothing typed is lost
        fresh = TOKEN.search(page).group(1)
        assert fresh != token
        assert _signup(visitor, fresh).status_code == 302


@pytest.mark.parametrize("headers", [
    {"Sec-Fetch-Site": "cross-site"},
    {"Sec-Fetch-Site": "same-site"},
    {"Origin": "https://evil.example"},
])
def test_a_signup_posted_from_another_site_is_refused(app, records, headers):
    visitor = new_client(app)
    response = _signup(visitor, _token(visitor), headers)
    assert response.status_code == 400
    assert "another website" in response.get_data(as_text=True)
    assert db.session.scalar(sa.select(sa.func.count(Subscription.id))) == 0


def test_other_forms_still_need_the_session_token(editor_client, records):
    hearing = records["hearing"]
    response = editor_client.post(f"/edit/hearings/{hearing.id}/cancel", data={"reason": "x",
                                                                             "csrf_token": _token(editor_client)})
    assert response.status_code == 400
    assert db.session.get(type(hearing), hearing.id).status is HearingStatus.SCHEDULED


def test_a_confirmed_or_withdrawn_attendance_moves_the_etag(client, records, frozen):
    """'N people are going' is on the public pages: an attendance confirmed or withdrawn is a
    change they show, although subscriptions are otherwise a table no page shows."""
    with time_machine.travel(frozen, tick=False):
        going = attendance.sign_up(db.session, hearing=records["hearing"], email="g@example.org", first_name="",
                                   now=frozen)
        db.session.commit()
        before = _etags(client, ["/defendants/kosenko", "/cases/bolotnaya"])
        attendance.confirm(db.session, confirm_url(going).rsplit("/", 1)[1], frozen)
        db.session.commit()
        confirmed = _etags(client, ["/defendants/kosenko", "/cases/bolotnaya"])
        _all_changed(before, confirmed)
        unsubscribe(db.session, going)
        db.session.commit()
        _all_changed(confirmed, _etags(client, ["/defendants/kosenko", "/cases/bolotnaya"]))
