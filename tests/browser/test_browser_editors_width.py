"""Editors and admins work from phones too (at the court's door): no page of theirs scrolls
sideways, in either language, even with long addresses, subjects and errors in its tables.

Found by walking the demo at 390 px: the list of those going to a hearing was 436-485 px wide
(a long address in a table cell), the outbox 402 px in Russian."""
from __future__ import annotations

from datetime import timedelta

import pytest

from tests.browser.conftest import PHONE, browser, live_server, log_in_page, wider_than_a_phone  # noqa: F401
from tracker.attendance import logic as attendance
from tracker.auth.models import Role
from tracker.extensions import db, utcnow
from tracker.mail.models import OutboxStatus
from tracker.mail.outbox import enqueue_email

pytestmark = pytest.mark.browser

LONG_ADDRESS = "anastasia.konstantinopolskaya-vladimirovna.supporter@example.org"
# a row the import refuses, with a long value in a cell the dry run shows back
IMPORT_CSV = ("external_id,slug,name_latin,name_original,cases\n"
              f"x-1,{'very-long-slug-' * 6}x,Anna Example,,Несуществующее-дело-с-очень-длинным-названием\n"
              "x-2,vera-primerova,Vera Primerova,Вера Примерова,\n")


@pytest.mark.parametrize("language", ["ru", "en"])
def test_no_editors_page_is_wider_than_a_phone(live_server, browser, language, make_user,  # noqa: F811
                                               make_case, make_defendant, make_hearing, tmp_path):
    now = utcnow()
    admin = make_user("admin@example.org", role=Role.ADMIN)
    case = make_case(slug="bolotnaya", title="Bolotnaya Square case")
    person = make_defendant(slug="luzyanin", name_latin="Maksim Luzyanin", name_original="Максим Лузянин",
                            cases=[case])
    hearing = make_hearing(defendants=[person], case=case, starts_at=now + timedelta(days=3))
    going = attendance.sign_up(db.session, hearing=hearing, email=LONG_ADDRESS, first_name="Anastasia", now=now)
    going.confirmed_at = now
    failed = enqueue_email(db.session, dedupe_key="wide", kind="reminder", recipient=LONG_ADDRESS,
                           subject="Напоминание: заседание по делу " * 3, text_body="…", now=now)
    failed.status, failed.attempts = OutboxStatus.FAILED, 8
    failed.last_error = "550 5.1.1 <" + LONG_ADDRESS + ">: Recipient address rejected: User unknown in virtual table"
    db.session.commit()
    upload = tmp_path / "defendants.csv"
    upload.write_text(IMPORT_CSV, encoding="utf-8")

    pages = ["/edit/", f"/edit/hearings/{hearing.id}", f"/edit/hearings/{hearing.id}/postpone",
             f"/edit/hearings/{hearing.id}/cancel", f"/edit/hearings/{hearing.id}/attendees",
             f"/edit/defendants/{person.id}", f"/edit/defendants/{person.id}/extend",
             f"/edit/defendants/{person.id}/verdict", f"/edit/defendants/{person.id}/transfer",
             f"/edit/defendants/{person.id}/measures/new", "/edit/hearings/new", "/edit/defendants/new",
             "/edit/cases/new", f"/edit/cases/{case.id}", "/edit/courts", f"/edit/courts/{hearing.court_id}",
             "/edit/import", "/edit/actions", "/admin/accounts", "/admin/accounts/invite", "/admin/audit",
             "/account", "/feeds/private", "/reminders/admin/notes", "/reminders/admin/outbox"]
    context = browser.new_context(viewport=PHONE, is_mobile=True, has_touch=True, locale=language,
                                  extra_http_headers={"Accept-Language": language})
    page = context.new_page()
    try:
        log_in_page(page, live_server, admin.email)
        wide = wider_than_a_phone(page, live_server, pages)
        page.goto(f"{live_server}/edit/import")
        page.set_input_files("input[type=file]", str(upload))
        page.click("main form button[type=submit]")
        page.wait_for_selector("table.import-problems")
        assert page.locator("table.import-changes").count() == 1  # the valid row's change is listed too
        width = page.evaluate("document.documentElement.scrollWidth")
        if width > PHONE["width"]:
            wide["import dry run"] = width
        assert LONG_ADDRESS in page.goto(f"{live_server}/edit/hearings/{hearing.id}/attendees").text()
    finally:
        context.close()
    assert not wide, f"editors' pages wider than a {PHONE['width']} px phone in {language}: {wide}"
