"""A Russian reader and an English one walk the site in a real browser: home, a defendant, the
hearings, the sign-up form sent back with an error, the editors' dashboard and a postponement.

What counts as interface text: everything the page shows, less what comes from the database
(names, courts, addresses, case titles, notes: whatever script they were entered in), less
elements marked in another language (the switch's "English"/"Русский"), less addresses
(emails, URLs). Under Russian no Latin word may be left; under English no Cyrillic one.
"""
from __future__ import annotations

import re
from datetime import timedelta

import pytest
import sqlalchemy as sa

from tests.auth.support import PASSWORD
from tracker.extensions import db, utcnow
from tracker.records.demo import load_demo
from tracker.records.enums import HearingStatus
from tracker.records.models import Defendant, Hearing

pytestmark = pytest.mark.browser

LATIN = re.compile(r"[A-Za-z][A-Za-z'’-]+")
CYRILLIC = re.compile(r"[А-Яа-яЁё][А-Яа-яЁё'’-]*")
ADDRESSES = re.compile(r"\S+@\S+|https?://\S+|/\S*")
# Product names the sign-up and calendar boxes speak of: proper nouns in every language.
PROPER_NOUNS = {"Apple", "Google", "Calendar", "Outlook", "Thunderbird", "iCalendar", "UTC", "CSV", "JSON", "API"}

# The page's own text: drop elements in another language than the page's, and the values
# typed into fields (a form sent back keeps what was typed).
VISIBLE_TEXT = """() => {
  const lang = document.documentElement.lang;
  const body = document.body.cloneNode(true);
  body.querySelectorAll('[lang]').forEach(e => { if (e.lang !== lang) e.remove(); });
  body.querySelectorAll('script, style, input, textarea, select option:checked').forEach(e => e.remove());
  return body.innerText + ' ' + Array.from(document.querySelectorAll('[placeholder]')).map(e => e.placeholder).join(' ')
    + ' ' + document.title;
}"""


RECORD_TABLES = {"cases", "courts", "defendants", "placements", "custody_measures", "decisions", "hearings",
                 "site_settings", "actions"}  # actions: what organisers typed (title, city, address...)


def data_words() -> set[str]:
    """Words stored in the records: data, not interface, in whatever language an editor typed them
    (the demo's biographies and notes are English; names come in both scripts)."""
    words: set[str] = set()
    for table in db.metadata.sorted_tables:
        if table.name not in RECORD_TABLES:  # not the audit trail, the outbox or settings: machinery
            continue
        columns = [c for c in table.columns
                   if isinstance(c.type, (sa.String, sa.Text)) and not isinstance(c.type, sa.Enum)
                   and c.name not in ("key", "slug", "timezone")]
        if not columns:
            continue
        for row in db.session.execute(sa.select(*columns)):
            for value in row:
                if not isinstance(value, str):
                    continue
                words.update(LATIN.findall(value))
                words.update(CYRILLIC.findall(value))
    db.session.rollback()
    return words


def foreign_words(text: str, pattern: re.Pattern, allowed: set[str]) -> list[str]:
    text = ADDRESSES.sub(" ", text)
    return sorted({w for w in pattern.findall(text) if w not in allowed and w.strip("'’-") not in allowed})


@pytest.fixture
def demo(editor):
    now = utcnow()
    load_demo(db.session, now.date())
    db.session.commit()
    upcoming = db.session.scalar(
        sa.select(Hearing).where(Hearing.status == HearingStatus.SCHEDULED, Hearing.starts_at > now + timedelta(days=1))
        .order_by(Hearing.starts_at).limit(1))
    defendant = db.session.scalar(sa.select(Defendant).where(Defendant.slug == "maksim-luzyanin"))
    assert upcoming is not None and defendant is not None
    return {"hearing": upcoming, "defendant": defendant, "editor": editor}


def walk(page, base: str, demo: dict) -> dict[str, str]:  # noqa: ANN001
    """The pages of the walk, each page's interface text by name."""
    seen: dict[str, str] = {}

    def keep(name: str) -> None:
        seen[name] = page.evaluate(VISIBLE_TEXT)

    page.goto(f"{base}/")
    keep("home")
    page.goto(f"{base}/defendants/{demo['defendant'].slug}")
    keep("defendant")
    page.goto(f"{base}/hearings")
    keep("hearings")
    page.goto(f"{base}/reminders/signup")
    page.fill("#email", "not an address")
    page.click("form.reminders-signup button[type=submit]")
    page.wait_for_selector(".field-error")
    keep("sign-up with an error")
    page.goto(f"{base}/login")
    keep("login")
    page.fill("#email", demo["editor"].email)
    page.fill("#password", PASSWORD)
    page.click("main button[type=submit]")
    page.wait_for_url(f"{base}/edit/")
    keep("editors' dashboard")
    hearing = demo["hearing"]
    page.goto(f"{base}/edit/hearings/{hearing.id}")
    keep("hearing")
    moved = (hearing.local_start + timedelta(days=7)).strftime("%Y-%m-%dT%H:%M")
    page.fill("#postpone-to", moved)
    page.click("button[value=postpone]")
    page.wait_for_selector(".flash")
    keep("after a postponement")
    page.click("form.logout button")
    return seen


# Interface words the walk's pages show in English: the allow list must not swallow them, or the
# Russian walk could pass with them untranslated.
INTERFACE_WORDS = {"Defendants", "Hearings", "Birthdays", "Remind", "Postpone", "Save", "Status", "Log",
                   "extended", "Subscribe", "Skip", "Expected", "Born", "Address", "Postponed"}


@pytest.mark.parametrize("language", ["ru", "en"])
def test_a_walk_through_the_site_speaks_one_language(live_server, browser, demo, language):
    allowed = data_words() | PROPER_NOUNS
    assert not INTERFACE_WORDS & allowed, INTERFACE_WORDS & allowed  # the checker still has teeth
    context = browser.new_context(locale=language, extra_http_headers={"Accept-Language": language})
    page = context.new_page()
    try:
        seen = walk(page, live_server, demo)
        assert page.evaluate("document.documentElement.lang") == language
    finally:
        context.close()
    assert len(seen) == 8
    pattern = LATIN if language == "ru" else CYRILLIC
    leftovers = {name: foreign_words(text, pattern, allowed) for name, text in seen.items()}
    leftovers = {name: words for name, words in leftovers.items() if words}
    context = {name: [" ".join(seen[name][max(0, seen[name].find(w) - 60):seen[name].find(w) + 40].split())
                      for w in words] for name, words in leftovers.items()}
    assert not leftovers, f"words of another language in the {language} interface: {leftovers}\n{context}"
    if language == "ru":
        assert "Заседания" in seen["hearings"] and "МСК" in seen["hearings"]
        assert "Заседание перенесено на" in seen["after a postponement"]


def test_the_switch_changes_the_language_and_it_sticks(live_server, browser, demo):
    context = browser.new_context(locale="ru", extra_http_headers={"Accept-Language": "ru"})
    context.route("**/*.js", lambda route: route.abort())  # no script runs: the switch is a link
    page = context.new_page()
    try:
        page.goto(f"{live_server}/hearings")
        assert page.evaluate("document.documentElement.lang") == "ru"
        page.click("nav.languages a[lang=en]")
        page.wait_for_url(f"{live_server}/hearings")  # back where the reader was
        assert page.evaluate("document.documentElement.lang") == "en"
        assert "Hearings" in page.inner_text("main")
        page.goto(f"{live_server}/defendants/{demo['defendant'].slug}")  # the choice sticks, over Accept-Language
        assert page.evaluate("document.documentElement.lang") == "en"
        page.click("nav.languages a[lang=ru]")
        page.wait_for_url(f"{live_server}/defendants/{demo['defendant'].slug}")
        assert page.evaluate("document.documentElement.lang") == "ru"
        page.goto(f"{live_server}/")
        assert page.evaluate("document.documentElement.lang") == "ru"
        assert [c["name"] for c in context.cookies()].count("lang") == 1
    finally:
        context.close()
