"""The interface language: how it is chosen, what the response says about it, plural forms,
dates through Babel, error pages and WTForms' own messages in Russian."""
from __future__ import annotations

import re
from contextlib import contextmanager
from datetime import date, datetime, timezone

import pytest
import time_machine

from tracker import formats
from tracker.extensions import db
from tracker.i18n import LANGUAGE_COOKIE, current_language
from tracker.records.enums import MeasureKind


@contextmanager
def request_in(app, url: str):  # noqa: ANN001, ANN201
    """A request of its own: Flask-Babel keeps the locale on `g`, which the test's app context shares."""
    with app.app_context(), app.test_request_context(url):
        yield


def lang_of(response) -> str:  # noqa: ANN001
    found = re.search(r'<html lang="([^"]+)"', response.get_data(as_text=True))
    assert found, "no <html lang>"
    return found.group(1)


# --- the order: ?lang=, the switch's cookie, Accept-Language, the default ---------------------


def test_without_any_choice_the_default_language(client):
    response = client.get("/hearings")
    assert lang_of(response) == "en" and response.headers["Content-Language"] == "en"


def test_accept_language_chooses_a_listed_language(client):
    response = client.get("/hearings", headers={"Accept-Language": "ru-RU,ru;q=0.9,en;q=0.5"})
    assert lang_of(response) == "ru" and response.headers["Content-Language"] == "ru"
    assert "Заседания" in response.get_data(as_text=True)


def test_accept_language_of_an_unlisted_language_falls_back_to_the_default(client):
    assert lang_of(client.get("/hearings", headers={"Accept-Language": "de, fr;q=0.5"})) == "en"


def test_the_switch_sets_a_cookie_and_goes_back(client):
    switched = client.get("/language?to=ru&next=/hearings%3Fcase%3Dx")
    assert switched.status_code == 303 and switched.headers["Location"] == "/hearings?case=x"
    cookie = switched.headers["Set-Cookie"]
    assert cookie.startswith(f"{LANGUAGE_COOKIE}=ru;") and "HttpOnly" in cookie and "SameSite=Lax" in cookie
    assert "Max-Age=" in cookie  # kept across visits, not only for the browser session


def test_the_switch_beats_accept_language_and_sticks(client):
    client.get("/language?to=ru&next=/")
    for page in ("/", "/hearings", "/dates", "/reminders/signup"):  # every page after it, no session needed
        response = client.get(page, headers={"Accept-Language": "en"})
        assert lang_of(response) == "ru", page
    client.get("/language?to=en&next=/")
    assert lang_of(client.get("/", headers={"Accept-Language": "ru"})) == "en"


def test_lang_in_the_url_beats_the_cookie_and_keeps_nothing(client):
    client.get("/language?to=en&next=/")
    shown = client.get("/hearings?lang=ru")
    assert lang_of(shown) == "ru" and "Set-Cookie" not in shown.headers
    assert lang_of(client.get("/hearings")) == "en"  # the cookie is still the choice


def test_a_bad_cookie_or_lang_is_ignored(client):
    client.set_cookie(LANGUAGE_COOKIE, "xx")
    assert lang_of(client.get("/hearings?lang=zz", headers={"Accept-Language": "ru"})) == "ru"


def test_the_switch_is_a_plain_link_on_every_page(client):
    page = client.get("/hearings", headers={"Accept-Language": "ru"}).get_data(as_text=True)
    switch = re.search(r'<nav class="languages"[^>]*>(.*?)</nav>', page, re.S).group(1)
    assert '<a href="/language?to=en&amp;next=/hearings" lang="en" hreflang="en"' in switch
    assert '<span lang="ru" aria-current="true">Русский</span>' in switch
    assert "<script" not in page  # nothing to run: it works without JavaScript
    error = client.get("/no-such-page", headers={"Accept-Language": "ru"})
    assert error.status_code == 404 and 'class="languages"' in error.get_data(as_text=True)


@pytest.mark.parametrize("target", ["//evil.example/", "https://evil.example/", "/\t/evil.example", "\\\\evil"])
def test_the_switch_never_leaves_the_site(client, target):
    switched = client.get("/language", query_string={"to": "ru", "next": target})
    # home, or refused outright (a control character in the query: tracker/edge.py)
    assert (switched.status_code, switched.headers.get("Location")) in ((303, "/"), (400, None))


def test_the_switch_refuses_an_unknown_language_with_a_reason(client):
    refused = client.get("/language?to=klingon&next=/", headers={"Accept-Language": "ru"})
    assert refused.status_code == 400 and "Set-Cookie" not in refused.headers
    assert "Неизвестный язык" in refused.get_data(as_text=True)


def test_only_the_switch_sets_the_language_cookie(client):
    for page in ("/", "/hearings", "/dates", "/?lang=ru", "/no-such-page"):
        cookies = client.get(page, headers={"Accept-Language": "ru"}).headers.getlist("Set-Cookie")
        assert not [c for c in cookies if c.startswith(f"{LANGUAGE_COOKIE}=")], page


# --- what responses say about their language ---------------------------------------------------


def test_pages_chosen_by_header_or_cookie_say_so_in_vary(client):
    response = client.get("/hearings", headers={"Accept-Language": "ru"})
    vary = {v.strip() for v in response.headers["Vary"].split(",")}
    assert {"Accept-Language", "Cookie"} <= vary


def test_a_feed_does_not_vary_on_the_language(client):
    response = client.get("/feeds/all.ics", headers={"Accept-Language": "ru"})
    assert response.status_code == 200
    assert "Accept-Language" not in response.headers.get("Vary", "")
    assert "Content-Language" not in response.headers


def test_current_language_outside_a_request_is_the_default(app):
    assert current_language() == app.config["BABEL_DEFAULT_LOCALE"]


# --- plural forms ------------------------------------------------------------------------------


@pytest.mark.parametrize(("extensions", "russian", "english"), [
    (1, "продлевали 1 раз", "extended 1 time"),
    (2, "продлевали 2 раза", "extended 2 times"),
    (4, "продлевали 4 раза", "extended 4 times"),
    (5, "продлевали 5 раз", "extended 5 times"),
    (11, "продлевали 11 раз", "extended 11 times"),
    (21, "продлевали 21 раз", "extended 21 times"),
    (22, "продлевали 22 раза", "extended 22 times"),
])
def test_extensions_are_counted_in_each_languages_plural(client, make_defendant, make_measure, extensions,
                                                         russian, english, now):
    person = make_defendant(slug="counted")
    previous = make_measure(person, kind=MeasureKind.PRE_TRIAL_DETENTION, starts_on=date(2025, 1, 1),
                            until=date(2025, 2, 1))
    for n in range(extensions):
        previous = make_measure(person, kind=MeasureKind.PRE_TRIAL_DETENTION, extends_id=previous.id,
                                starts_on=date(2025, 2 + n // 28, 1 + n % 28), until=date(2027, 1, 1))
    db.session.commit()
    with time_machine.travel(now, tick=False):
        assert russian in client.get("/defendants/counted?lang=ru").get_data(as_text=True)
        assert english in client.get("/defendants/counted?lang=en").get_data(as_text=True)


# --- dates through Babel -----------------------------------------------------------------------

MOMENT = datetime(2026, 12, 2, 8, 0, tzinfo=timezone.utc)  # 11:00 in Moscow, 13:00 in Yekaterinburg


@pytest.mark.parametrize(("lang", "zone", "expected"), [
    ("ru", "Europe/Moscow", "ср, 2 декабря 2026\u202fг., 11:00 (МСК)"),
    ("en", "Europe/Moscow", "Wed, December 2, 2026, 11:00 (MSK)"),
    ("ru", "Asia/Yekaterinburg", "ср, 2 декабря 2026\u202fг., 13:00 (UTC+05, Екатеринбург)"),
    ("en", "Asia/Yekaterinburg", "Wed, December 2, 2026, 13:00 (UTC+05, Yekaterinburg)"),
])
def test_a_moment_in_the_courts_zone_in_the_readers_language(app, lang, zone, expected):
    with request_in(app, f"/?lang={lang}"):
        assert formats.moment(MOMENT, zone) == expected


def test_days_in_russian_and_english(app):
    with request_in(app, "/?lang=ru"):
        assert formats.day(date(2026, 12, 2)) == "ср, 2 дек. 2026\u202fг."
        assert formats.short_day(date(2026, 12, 2)) == "2 дек. 2026\u202fг."
        assert formats.moment_short(MOMENT, "Europe/Moscow") == "2 дек. 2026\u202fг., 11:00 МСК"
        assert formats.short_day(None) == ""
    with request_in(app, "/?lang=en"):
        assert formats.day(date(2026, 12, 2)) == "Wed, Dec 2, 2026"
        assert formats.moment_short(MOMENT, "Europe/Moscow") == "Dec 2, 2026, 11:00 MSK"


def test_a_language_can_be_asked_for_outside_a_request(app):
    """Mail and the scheduler have no request: they name the reader's language."""
    assert formats.moment(MOMENT, "Europe/Moscow", locale="ru") == "ср, 2 декабря 2026\u202fг., 11:00 (МСК)"
    assert formats.day(date(2026, 12, 2), locale="en") == "Wed, Dec 2, 2026"


def test_the_hearings_page_names_days_and_times_in_russian(client, make_hearing, make_court, now):
    make_hearing(court=make_court(name="Мосгорсуд"), starts_at=datetime(2026, 3, 4, 9, 0, tzinfo=timezone.utc))
    db.session.commit()
    with time_machine.travel(now, tick=False):
        page = client.get("/hearings", headers={"Accept-Language": "ru"}).get_data(as_text=True)
    assert "ср, 4 мар. 2026\u202fг." in page and "12:00 (МСК)" in page
    assert not re.search(r"\b(Mon|Tue|Wed|Thu|Fri|Sat|Sun|Mar)\b", page)


# --- error pages and WTForms' own messages -----------------------------------------------------


def test_error_pages_are_in_the_readers_language(client):
    missing = client.get("/no-such-page", headers={"Accept-Language": "ru"}).get_data(as_text=True)
    assert "404 Страница не найдена" in missing and "Not Found" not in missing
    bad = client.get("/?page=x", headers={"Accept-Language": "ru"}).get_data(as_text=True)
    assert "400 Неверный запрос" in bad and "Bad Request" not in bad


def test_method_not_allowed_is_explained_in_russian(client):
    page = client.put("/hearings", headers={"Accept-Language": "ru"})
    assert page.status_code == 405
    text = page.get_data(as_text=True)
    assert "Method Not Allowed" not in text and "not allowed for the requested URL" not in text


def test_wtforms_own_messages_are_translated(app):
    from wtforms import IntegerField
    from wtforms.validators import InputRequired

    from tracker.forms import Form

    class Sample(Form):
        number = IntegerField(validators=[InputRequired()])

    with app.app_context(), app.test_request_context("/?lang=ru", method="POST", data={"number": "abc"}):
        form = Sample(meta={"csrf": False})
        assert not form.validate()
        messages = " ".join(m for ms in form.errors.values() for m in ms)
    assert "Not a valid integer" not in messages and "This field is required" not in messages
    assert re.search(r"[а-я]", messages), messages


def test_the_api_and_the_csv_take_their_language_from_the_header_only(client):
    """Other sites' pages and programs read them: a reader's cookie must not choose their
    language (nor make caches keep a copy per cookie)."""
    client.set_cookie("lang", "ru")
    for url in ("/api/v1/cases", "/export/defendants.csv"):
        response = client.get(url)
        assert "Cookie" not in response.headers.get("Vary", ""), url
    page = client.get("/")
    assert 'lang="ru"' in page.get_data(as_text=True)  # the pages still follow the cookie
