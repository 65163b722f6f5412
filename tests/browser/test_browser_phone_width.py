"""Every public page fits a phone's width in both languages: nothing makes the page scroll
sideways (Russian words are longer: the home page's status filter once pushed it to 404 px)."""
from __future__ import annotations

from datetime import timedelta

import pytest

from tests.browser.conftest import PHONE, browser, live_server, wider_than_a_phone  # noqa: F401  (fixtures)
from tracker.extensions import db, utcnow

pytestmark = pytest.mark.browser


@pytest.mark.parametrize("language", ["ru", "en"])
def test_no_public_page_is_wider_than_a_phone(live_server, browser, language,  # noqa: F811
                                              make_case, make_defendant, make_hearing):
    case = make_case(slug="bolotnaya", title="Bolotnaya Square case")
    person = make_defendant(slug="luzyanin", name_latin="Maksim Luzyanin", name_original="Максим Лузянин",
                            cases=[case])
    hearing = make_hearing(defendants=[person], case=case, starts_at=utcnow() + timedelta(days=3))
    db.session.commit()
    pages = ["/", "/hearings", "/dates", "/actions", "/actions/new", "/reminders/signup", "/cases/bolotnaya",
             "/defendants/luzyanin", f"/attend/{hearing.id}", "/login"]
    context = browser.new_context(viewport=PHONE, is_mobile=True, has_touch=True, locale=language,
                                  extra_http_headers={"Accept-Language": language})
    try:
        wide = wider_than_a_phone(context.new_page(), live_server, pages)
    finally:
        context.close()
    assert not wide, f"pages wider than a {PHONE['width']} px phone in {language}: {wide}"
