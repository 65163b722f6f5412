"""The editors' history read as people read it: field and enum labels, times in the court's zone
with the zone named, references by what they are, empty values marked as such."""
from __future__ import annotations

import html
import re
from datetime import date, datetime, timezone

import pytest
import time_machine

from tests.auth.support import post_form
from tracker.extensions import db
from tracker.records.models import Defendant, Hearing, HearingKind

# the stored forms that must never reach the page
RAW = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d|\+00:00|\bUTC\b(?![+-])|pre_trial_detention|extends id|starts at\b|court id|"
                 r"case id|\bkind\b|is open|[a-z]+_[a-z]+ (?:hearing|defendant|custody)")


@pytest.fixture(autouse=True)
def _fixed_clock(now):
    with time_machine.travel(now, tick=False):
        yield


def history_of(response) -> str:
    """The text of the page's history list, tags stripped, spaces collapsed."""
    page = response.get_data(as_text=True)
    found = re.search(r'<ol class="history">(.*?)</ol>', page, re.S)
    assert found, "no history on the page"
    return " ".join(html.unescape(re.sub(r"<[^>]+>", " ", found.group(1))).split())


def test_a_postponement_reads_in_the_courts_time_with_the_zone_named(editor_client, make_hearing, make_court):
    court = make_court(name="Moscow City Court")
    hearing = make_hearing(court=court, kind=HearingKind.TRIAL,
                           starts_at=datetime(2026, 12, 1, 8, 0, tzinfo=timezone.utc))  # 11:00 in Moscow
    db.session.commit()
    page = f"/edit/hearings/{hearing.id}"
    moved = post_form(editor_client, f"{page}/postpone", {
        "postpone-to": "2026-12-02T12:30", "postpone-reason": "The judge is ill", "postpone-version": "1"})
    assert moved.status_code == 302

    shown = editor_client.get(page)
    assert "Hearing moved to Wed, December 2, 2026, 12:30 (MSK)." in html.unescape(shown.text)
    history = history_of(shown)
    assert "Postponed the hearing" in history
    assert "Date and time Dec 1, 2026, 11:00 MSK → Dec 2, 2026, 12:30 MSK" in history
    assert "The judge is ill" in history
    assert "Mar 2, 2026, 12:00 MSK" in history  # when the change was made
    assert not RAW.search(history), RAW.search(history)


def test_a_hearing_elsewhere_is_told_in_its_own_zone(editor_client, make_hearing, make_court):
    court = make_court(name="Demo Regional Court", timezone="Asia/Yekaterinburg")
    hearing = make_hearing(court=court, starts_at=datetime(2026, 12, 1, 5, 0, tzinfo=timezone.utc))
    db.session.commit()
    post_form(editor_client, f"/edit/hearings/{hearing.id}/postpone",
              {"postpone-to": "2026-12-03T09:00", "postpone-version": "1"})
    history = history_of(editor_client.get(f"/edit/hearings/{hearing.id}"))
    assert "Dec 1, 2026, 10:00 UTC+05, Yekaterinburg → Dec 3, 2026, 09:00 UTC+05, Yekaterinburg" \
        in history


def test_an_edit_shows_labels_names_yes_no_and_empty(editor_client, make_hearing, make_court, make_case,
                                                    make_defendant):
    first, second = make_court(name="Moscow City Court"), make_court(name="Basmanny District Court")
    case = make_case(title="May 6th affair")
    anna = make_defendant(name_latin="Anna Petrova")
    ivan = make_defendant(name_latin="Ivan Primerov")
    hearing = make_hearing(court=first, defendants=[anna], judge="Judge A", kind=HearingKind.TRIAL,
                           starts_at=datetime(2026, 12, 1, 8, 0, tzinfo=timezone.utc))
    db.session.commit()
    page = f"/edit/hearings/{hearing.id}"
    saved = post_form(editor_client, page, {
        "kind": "verdict", "starts_at": "2026-12-01T11:00", "case": str(case.id), "court": str(second.id),
        "duration_minutes": "120", "defendants": [str(anna.id), str(ivan.id)], "judge": "",
        "version": "1"})  # is_open unticked: closed
    assert saved.status_code == 302

    body = editor_client.get(page).get_data(as_text=True)
    history = history_of(editor_client.get(page))
    assert "Edited the hearing" in history
    assert "Court Moscow City Court → Basmanny District Court" in history
    assert "Case (empty) → May 6th affair" in history
    assert "Defendants Anna Petrova → Anna Petrova, Ivan Primerov" in history
    assert "Kind trial session → verdict" in history
    assert "Open to the public yes → no" in history
    assert "Judge Judge A → (empty)" in history
    assert "Date and time" not in history  # the same moment: not a change
    assert not RAW.search(history), RAW.search(history)
    # empty is marked in a muted style, not as a value (and nothing is underlined like a link)
    assert '<span class="empty">(empty)</span>' in body
    assert "<ins" not in body


def test_an_extension_says_what_it_continues(editor_client, make_defendant, make_measure):
    person = make_defendant()
    make_measure(person, starts_on=date(2026, 3, 1), until=date(2026, 6, 1), ordered_by="Basmanny court")
    db.session.commit()
    done = post_form(editor_client, f"/edit/defendants/{person.id}/extend",
                     {"extend-until": "2026-12-31", "extend-version": str(person.version)},
                     token_from=f"/edit/defendants/{person.id}")
    assert done.status_code == 302
    history = history_of(editor_client.get(f"/edit/defendants/{person.id}"))
    assert "Extended custody" in history
    assert "Continues pre-trial detention until Jun 1, 2026" in history
    assert "Measure pre-trial detention" in history
    assert "From Jun 1, 2026" in history and "Until Dec 31, 2026" in history
    # a new record lists what it was given, not every field it left empty
    assert "Note" not in history and "(empty)" not in history
    assert not RAW.search(history), RAW.search(history)


def test_a_defendants_edit_names_cases_statuses_and_flags(editor_client, make_defendant, make_case):
    first, second = make_case(title="May 6th affair"), make_case(title="Leaflets case")
    person = make_defendant(cases=[first], slug="anna", name_latin="Anna", name_original="Анна")
    db.session.commit()
    saved = post_form(editor_client, f"/edit/defendants/{person.id}", {
        "name_latin": "Anna", "name_original": "Анна", "slug": "anna", "cases": [str(first.id), str(second.id)],
        "status": "house_arrest", "letters_status": "blocked", "birth_date": "1990-05-17",
        "version": str(person.version)})  # is_public unticked
    assert saved.status_code == 302
    history = history_of(editor_client.get(f"/edit/defendants/{person.id}"))
    assert "Cases May 6th affair → Leaflets case, May 6th affair" in history
    assert "Status in pre-trial detention → under house arrest" in history
    assert "Letters unknown whether letters reach → letters are not delivered" in history
    assert "Public (shown on the site) yes → no" in history
    assert "Born on (empty) → May 17, 1990" in history
    assert not RAW.search(history), RAW.search(history)


def test_the_admin_feed_names_hearings_in_their_courts_time(admin_client, make_hearing, make_court, admin, now):
    from tracker.editing import services

    hearing = make_hearing(court=make_court(name="Moscow City Court"),
                           starts_at=datetime(2026, 12, 2, 9, 30, tzinfo=timezone.utc))
    services.cancel_hearing(db.session, hearing, "Judge on leave", by=admin, now=now)
    db.session.commit()
    history = history_of(admin_client.get("/admin/audit"))
    assert "Cancelled the hearing" in history
    assert "Dec 2, 2026, 12:30 MSK, Moscow City Court" in history
    assert "Status scheduled → cancelled" in history
    assert not RAW.search(history), RAW.search(history)


def test_dates_follow_the_readers_language(editor_client, make_hearing):
    """Months come from Babel's locale data, so the Russian catalogue, when it comes, needs no code."""
    hearing = make_hearing(starts_at=datetime(2026, 12, 1, 8, 0, tzinfo=timezone.utc))
    db.session.commit()
    post_form(editor_client, f"/edit/hearings/{hearing.id}/postpone",
              {"postpone-to": "2026-12-02T12:30", "postpone-version": "1"})
    russian = history_of(editor_client.get(f"/edit/hearings/{hearing.id}", headers={"Accept-Language": "ru"}))
    assert "2 дек. 2026 г." in russian and "12:30" in russian


def test_a_conflict_shows_the_change_in_the_same_words(editor_client, make_hearing):
    hearing = make_hearing(starts_at=datetime(2026, 12, 1, 8, 0, tzinfo=timezone.utc))
    db.session.commit()
    post_form(editor_client, f"/edit/hearings/{hearing.id}/postpone",
              {"postpone-to": "2026-12-02T12:30", "postpone-version": "1"})
    stale = post_form(editor_client, f"/edit/hearings/{hearing.id}/cancel",
                      {"cancel-reason": "typo", "cancel-version": "1"})
    assert stale.status_code == 409
    changes = history_of(stale)
    assert "Dec 2, 2026, 12:30 MSK" in changes
    assert not RAW.search(changes), RAW.search(changes)
    assert db.session.get(Hearing, hearing.id) is not None and db.session.get(Defendant, hearing.defendants[0].id)


# --- the same history read in Russian -----------------------------------------------------------

LATIN_WORD = re.compile(r"[A-Za-z]{2,}")


def test_a_postponement_reads_in_russian_in_the_courts_zone(editor_client, editor, make_hearing, make_court):
    court = make_court(name="Мосгорсуд")
    hearing = make_hearing(court=court, kind=HearingKind.TRIAL,
                           starts_at=datetime(2026, 12, 1, 8, 0, tzinfo=timezone.utc))
    db.session.commit()
    editor_client.get("/language?to=ru&next=/edit/")  # the editor chose Russian: the message is written in it
    post_form(editor_client, f"/edit/hearings/{hearing.id}/postpone",
              {"postpone-to": "2026-12-02T12:30", "postpone-reason": "Судья болен", "postpone-version": "1"})
    shown = editor_client.get(f"/edit/hearings/{hearing.id}")
    assert "Заседание перенесено на ср, 2 декабря 2026\u202fг., 12:30 (МСК)." in html.unescape(shown.text)
    history = history_of(shown)
    assert "Дата и время 1 дек. 2026 г., 11:00 МСК → 2 дек. 2026 г., 12:30 МСК" in history
    assert "Перенос заседания" in history and "Судья болен" in history
    assert "2 мар. 2026 г., 12:00 МСК" in history  # when the change was made, in the site's zone
    # nothing in Latin letters but the editor's email address
    assert not LATIN_WORD.search(history.replace(editor.email, "")), LATIN_WORD.findall(history)
    assert not RAW.search(history), RAW.search(history)


def test_an_extension_reads_in_russian(editor_client, editor, make_defendant, make_measure):
    person = make_defendant(name_latin="Ivan Primerov")
    make_measure(person, starts_on=date(2026, 3, 1), until=date(2026, 6, 1), ordered_by="Басманный суд")
    db.session.commit()
    post_form(editor_client, f"/edit/defendants/{person.id}/extend",
              {"extend-until": "2026-12-31", "extend-version": str(person.version)},
              token_from=f"/edit/defendants/{person.id}")
    history = history_of(editor_client.get(f"/edit/defendants/{person.id}?lang=ru"))
    assert "Продление меры пресечения" in history
    assert "Мера пресечения заключение под стражу" in history
    assert "Продолжает меру заключение под стражу до 1 июн. 2026 г." in history
    assert "Начало 1 июн. 2026 г." in history and "Срок до 31 дек. 2026 г." in history
    assert "extends" not in history and "pre_trial" not in history
    assert not LATIN_WORD.search(history.replace(editor.email, "")), LATIN_WORD.findall(history)


def test_the_admin_feed_in_russian_names_the_hearing_by_its_time(admin_client, admin, make_hearing, make_court, now):
    from tracker.editing import services

    hearing = make_hearing(court=make_court(name="Мосгорсуд"),
                           starts_at=datetime(2026, 12, 2, 9, 30, tzinfo=timezone.utc))
    services.cancel_hearing(db.session, hearing, "Судья в отпуске", by=admin, now=now)
    db.session.commit()
    history = history_of(admin_client.get("/admin/audit", headers={"Accept-Language": "ru"}))
    assert "2 дек. 2026 г., 12:30 МСК, Мосгорсуд" in history
    assert "Статус назначено → отменено" in history
    assert not LATIN_WORD.search(history.replace(admin.email, "")), LATIN_WORD.findall(history)


@pytest.mark.parametrize("language, anna_name, ivan_name, case_title, court_name", [
    ("ru", "Анна Петрова", "Иван Примеров", "Дело 6 мая", "Мосгорсуд"),
    ("en", "Anna Petrova", "Ivan Primerov", "May 6th affair", "Moscow City Court"),
])
def test_the_history_names_people_cases_and_courts_in_the_readers_script(
        admin_client, admin, make_hearing, make_court, make_case, make_defendant, now,
        language, anna_name, ivan_name, case_title, court_name):
    """Names and titles are pairs, shown in the reader's script first (tracker.records.names):
    the history and the admin's audit list printed the latin spellings to Russian readers."""
    court = make_court(name="Moscow City Court", name_original="Мосгорсуд")
    case = make_case(title="May 6th affair", title_original="Дело 6 мая")
    anna = make_defendant(name_latin="Anna Petrova", name_original="Анна Петрова")
    ivan = make_defendant(name_latin="Ivan Primerov", name_original="Иван Примеров")
    hearing = make_hearing(court=court, defendants=[anna], starts_at=datetime(2026, 12, 1, 8, 0, tzinfo=timezone.utc))
    db.session.commit()
    page = f"/edit/hearings/{hearing.id}"
    saved = post_form(admin_client, page, {
        "kind": "trial", "starts_at": "2026-12-01T11:00", "case": str(case.id), "court": str(court.id),
        "duration_minutes": "120", "defendants": [str(anna.id), str(ivan.id)], "is_open": "y", "version": "1"})
    assert saved.status_code == 302
    post_form(admin_client, f"/edit/defendants/{anna.id}", {
        "name_latin": "Anna Petrova", "name_original": "Анна Петрова", "slug": anna.slug,
        "cases": [str(case.id)], "status": "pre_trial_detention", "letters_status": "unknown",
        "is_public": "y", "version": str(anna.version)})
    headers = {"Accept-Language": language}

    history = history_of(admin_client.get(page, headers=headers))
    assert f"{case_title}" in history and f"{anna_name}, {ivan_name}" in history
    person = history_of(admin_client.get(f"/edit/defendants/{anna.id}", headers=headers))
    assert case_title in person
    audit = history_of(admin_client.get("/admin/audit", headers=headers))
    assert f"Dec 1, 2026, 11:00 MSK, {court_name}" in audit or f"1 дек. 2026 г., 11:00 МСК, {court_name}" in audit
    assert anna_name in audit
    if language == "ru":
        for latin in ("Anna", "Ivan", "May 6th", "Moscow City"):
            assert latin not in history + person + audit, latin
