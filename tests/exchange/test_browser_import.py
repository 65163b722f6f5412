"""An editor uploads the group's spreadsheet, reads the dry run, confirms, and sees the public pages."""
from __future__ import annotations

from datetime import timedelta

import pytest

from tests.browser.conftest import browser, live_server, log_in_page  # noqa: F401  (fixtures)
from tracker.extensions import db, utcnow

pytestmark = pytest.mark.browser


@pytest.fixture
def show_progress(app):
    app.config["IMPORT_PROGRESS_FROM"], saved = 2, app.config["IMPORT_PROGRESS_FROM"]
    yield
    app.config["IMPORT_PROGRESS_FROM"] = saved


def test_editor_imports_a_spreadsheet_from_the_browser(live_server, browser, editor, make_case,  # noqa: F811
                                                       show_progress):
    make_case(slug="bolotnaya", title="Болотное дело")
    db.session.commit()
    # the served app reads the real clock: the hearing is placed relative to it
    day = (utcnow() + timedelta(days=6)).date()
    sheet = ("\ufeffФИО;Имя латиницей;Дело;Статьи;Мера;Мера с;Мера до;Следующее заседание;Суд\r\n"
             f"Иван Петров;Ivan Petrov;Болотное дело;212 ч.2, 318 ч.1;СИЗО;08.06.2025;{day:%d.%m.%Y};"
             f"{day:%d.%m.%Y} 10:30;Мосгорсуд\r\n"
             "Анна Иванова;;bolotnaya;212 ч.2;домашний арест;01.07.2025;;;\r\n").encode("utf-8")

    context = browser.new_context()
    page = context.new_page()
    errors: list[str] = []
    page.on("console", lambda message: errors.append(message.text) if message.type == "error" else None)
    try:
        log_in_page(page, live_server, editor.email)
        page.click("text=Import from a spreadsheet")
        page.wait_for_url(f"{live_server}/edit/import")

        page.set_input_files("#files", files=[{"name": "заключённые.csv", "mimeType": "text/csv", "buffer": sheet}])
        page.click("text=Show the dry run")
        page.wait_for_selector("table.import-counts")
        counts = page.inner_text("table.import-counts")
        assert "defendants\t2\t0\t0" in counts and "measures\t2\t0\t0" in counts and "hearings\t1\t0\t0" in counts
        changes = page.inner_text("table.import-changes")
        assert "Ivan Petrov (ivan-petrov)" in changes and "ст. 318 ч. 1" in changes
        assert "Anna Ivanova (anna-ivanova)" in changes
        assert page.query_selector("table.import-problems") is None

        page.click("text=Import 6 changes")
        # a large import shows its progress (here: from 2 changes on), then its outcome
        page.wait_for_selector("#import-done")
        text = page.inner_text("main")
        assert "0 of 6 changes" in text and "6 of 6 changes" in text
        assert "Imported: 6 created, 0 updated." in text

        page.goto(f"{live_server}/defendants/ivan-petrov")
        text = page.inner_text("main")
        assert "Ivan Petrov" in text and "Иван Петров" in text
        # dates as Babel writes them in English: "Dec 3, 2026"; the hearing in the court's zone, named
        assert f"now until {day:%b} {day.day}, {day.year}" in text
        assert f"{day:%B} {day.day}, {day.year}, 10:30 (MSK)" in text and "Мосгорсуд" in text
        page.goto(f"{live_server}/cases/bolotnaya")
        assert "Anna Ivanova" in page.inner_text("main")
        assert [e for e in errors if "404" not in e] == []
    finally:
        context.close()
