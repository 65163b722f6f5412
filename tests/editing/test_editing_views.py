"""Editors' pages over real HTTP: quick actions, validation messages, conflicts, history, query counts."""
from __future__ import annotations

import html
import re
from datetime import date, timedelta

import pytest
import sqlalchemy as sa
import time_machine

from tests.auth.support import csrf_token, log_in, new_client, post_form
from tracker.editing.models import AuditEntry
from tracker.extensions import db
from tracker.records.models import (
    Case,
    Decision,
    Defendant,
    DefendantStatus,
    Hearing,
    HearingStatus,
)


@pytest.fixture(autouse=True)
def _fixed_clock(now):
    """The views read the clock; pin it to the suite's `now`."""
    with time_machine.travel(now, tick=False):
        yield


def text(response) -> str:
    return html.unescape(response.get_data(as_text=True))


def field_error(response, field_id: str) -> str:
    """The message shown next to a field (the element linked by aria-describedby)."""
    found = re.search(rf'id="{field_id}-error"[^>]*>([^<]+)<', response.get_data(as_text=True))
    assert found, f"no error next to {field_id}"
    return html.unescape(found.group(1))


def test_postpone_from_the_hearing_page(editor_client, make_hearing, now):
    hearing = make_hearing()
    db.session.commit()
    page = editor_client.get(f"/edit/hearings/{hearing.id}")
    assert page.status_code == 200
    response = post_form(editor_client, f"/edit/hearings/{hearing.id}/postpone",
                         {"postpone-to": "2026-03-20T11:30", "postpone-reason": "lawyer ill", "postpone-version": "1"},
                         token_from=f"/edit/hearings/{hearing.id}")
    assert response.status_code == 302
    db.session.expire_all()
    hearing = db.session.get(Hearing, hearing.id)
    # 11:30 in Moscow (UTC+3) is 08:30 UTC
    assert hearing.starts_at.isoformat() == "2026-03-20T08:30:00+00:00"
    assert hearing.version == 2
    history = text(editor_client.get(f"/edit/hearings/{hearing.id}"))
    # in the court's time, the zone named (tests/editing/test_history.py has the rest)
    assert "lawyer ill" in history and "Mar 20, 2026, 11:30 MSK" in history
    assert "Mar 5, 2026, 12:00 MSK" in history  # the old date stays in the history


def test_cancel_and_mark_held_pages(editor_client, make_hearing, now):
    hearing = make_hearing()
    past = make_hearing(starts_at=now - timedelta(hours=4))
    db.session.commit()
    refused = post_form(editor_client, f"/edit/hearings/{hearing.id}/cancel", {"cancel-reason": "", "cancel-version": "1"})
    assert refused.status_code == 422
    assert field_error(refused, "cancel-reason") == "Say why the hearing was cancelled."
    done = post_form(editor_client, f"/edit/hearings/{hearing.id}/cancel", {"cancel-reason": "Judge on leave",
                                                                           "cancel-version": "1"})
    assert done.status_code == 302
    held = post_form(editor_client, f"/edit/hearings/{past.id}/held", {"held-outcome_note": "Extended 3 months",
                                                                      "held-version": "1"})
    assert held.status_code == 302
    db.session.expire_all()
    assert db.session.get(Hearing, hearing.id).status is HearingStatus.CANCELLED
    assert db.session.get(Hearing, past.id).status is HearingStatus.HELD
    actions = db.session.scalars(sa.select(AuditEntry.action).order_by(AuditEntry.id)).all()
    assert actions == ["cancel", "mark_held"]


def test_extend_detention_quick_action_and_its_validation(editor_client, make_defendant, make_measure):
    person = make_defendant()
    make_measure(person, starts_on=date(2025, 6, 8), until=date(2025, 8, 6))
    db.session.commit()
    path = f"/edit/defendants/{person.id}/extend"
    page = editor_client.get(f"/edit/defendants/{person.id}")
    assert "Extend pre-trial detention" in text(page)

    refused = post_form(editor_client, path, {"extend-until": "2025-07-01", "extend-ordered_by": "Basmanny",
                                              "extend-version": str(person.version)})
    assert refused.status_code == 422
    assert "must end after the current measure ends (Aug 6, 2025)" in field_error(refused, "extend-until")
    assert 'value="2025-07-01"' in refused.get_data(as_text=True)  # what was typed is kept
    assert 'value="Basmanny"' in refused.get_data(as_text=True)

    done = post_form(editor_client, path, {"extend-until": "2025-11-06", "extend-version": str(person.version)})
    assert done.status_code == 302
    db.session.expire_all()
    person = db.session.get(Defendant, person.id)
    assert [m.until for m in person.measures] == [date(2025, 8, 6), date(2025, 11, 6)]


def test_a_sentenced_defendant_is_offered_what_fits_not_an_extension(editor_client, make_defendant, make_measure,
                                                                      make_decision):
    person = make_defendant(status=DefendantStatus.IMPRISONED)
    first = make_measure(person, starts_on=date(2012, 5, 27), until=date(2012, 7, 27))
    make_measure(person, starts_on=date(2012, 7, 27), until=date(2012, 11, 27), extends=first)
    make_decision(person, decided_on=date(2012, 11, 24), term_years=4, term_months=6)
    db.session.commit()
    page = text(editor_client.get(f"/edit/defendants/{person.id}"))
    actions = page[page.index("Quick actions"):page.index("<h2>Hearings")]
    assert "Extend" not in actions and "extend-until" not in actions
    assert "Record a transfer" in actions
    assert "Record an appeal decision" in actions
    assert f"/edit/defendants/{person.id}/verdict?instance=appeal" in actions
    # the appeal form comes with its instance chosen
    form = editor_client.get(f"/edit/defendants/{person.id}/verdict?instance=appeal").get_data(as_text=True)
    assert re.search(r'<option selected value="appeal">|<option value="appeal" selected>', form)
    # and the service refuses to extend a detention a sentence replaced
    refused = post_form(editor_client, f"/edit/defendants/{person.id}/extend",
                        {"extend-until": "2013-02-27", "extend-version": str(person.version)},
                        token_from=f"/edit/defendants/{person.id}")
    assert refused.status_code == 422
    assert "decided on Nov 24, 2012 (imprisonment): the measure before the decision is history" in field_error(
        refused, "extend-until")
    db.session.expire_all()
    assert len(db.session.get(Defendant, person.id).measures) == 2


def test_record_verdict_updates_the_status(editor_client, make_defendant):
    person = make_defendant(status=DefendantStatus.PRE_TRIAL_DETENTION)
    db.session.commit()
    response = post_form(editor_client, f"/edit/defendants/{person.id}/verdict", {
        "decided_on": "2026-02-20", "court": "Zamoskvoretsky court", "instance": "first",
        "outcome": "imprisonment", "term_years": "3", "term_months": "0", "term_days": "0",
        "credited_days": "0", "version": str(person.version),
    })
    assert response.status_code == 302
    assert "serving a prison sentence" in text(editor_client.get(response.headers["Location"]))
    db.session.expire_all()
    assert db.session.get(Defendant, person.id).status is DefendantStatus.IMPRISONED


@pytest.mark.parametrize(
    ("path", "data", "field", "message"),
    [
        ("verdict", {"decided_on": "2026-02-20", "instance": "first", "outcome": "imprisonment",
                     "term_months": "-3"}, "term_months", "Enter a number from 0 to 132."),
        ("verdict", {"decided_on": "1900-01-01", "instance": "first", "outcome": "fine"},
         "decided_on", "Enter a date between Jan 1, 1990 and Dec 31, 2100."),
        ("measures/new", {"kind": "house_arrest", "starts_on": "2025-09-01", "until": "2025-08-01"},
         "until", "This date must come after the start (Sep 1, 2025)."),
        ("measures/new", {"kind": "house_arrest", "starts_on": "not a date"},
         "starts_on", "Not a valid date value."),
    ],
)
def test_validation_messages_next_to_the_field(editor_client, make_defendant, path, data, field, message):
    person = make_defendant()
    db.session.commit()
    response = post_form(editor_client, f"/edit/defendants/{person.id}/{path}",
                         {**data, "version": str(person.version)})
    assert response.status_code == 422
    assert field_error(response, field) == message
    for value in data.values():
        assert f'value="{value}"' in response.get_data(as_text=True) or value in text(response)
    assert db.session.scalar(sa.select(sa.func.count(AuditEntry.id))) == 0


def test_a_name_of_ten_thousand_characters_is_refused_and_kept(editor_client, make_defendant):
    person = make_defendant()
    db.session.commit()
    long_name = "Я" * 10_000
    response = post_form(editor_client, f"/edit/defendants/{person.id}", {
        "name_latin": long_name, "name_original": "Иван", "slug": person.slug, "status": "bail",
        "letters_status": "unknown", "internal_notes": "keep me", "version": str(person.version),
    })
    assert response.status_code == 422
    assert field_error(response, "name_latin") == "Field cannot be longer than 200 characters."
    body = text(response)
    assert long_name in body and "keep me" in body


def test_a_hearing_needs_a_defendant(editor_client, make_court, make_defendant):
    court = make_court()
    make_defendant()
    db.session.commit()
    response = post_form(editor_client, "/edit/hearings/new", {
        "kind": "trial", "starts_at": "2026-04-01T10:00", "case": "0", "court": str(court.id),
        "duration_minutes": "120", "judge": "Judge Dredd",
    })
    assert response.status_code == 422
    assert field_error(response, "defendants") == "Choose at least one defendant."
    assert 'value="Judge Dredd"' in response.get_data(as_text=True)
    assert 'value="2026-04-01T10:00"' in response.get_data(as_text=True)


def test_create_hearing_in_a_new_court_and_its_zone(editor_client, make_defendant):
    person = make_defendant()
    db.session.commit()
    response = post_form(editor_client, "/edit/hearings/new", {
        "kind": "trial", "starts_at": "2026-04-01T10:00", "case": "0", "court": "0",
        "new_court_name": "Leninsky court", "new_court_timezone": "Asia/Yekaterinburg",
        "duration_minutes": "90", "defendants": [str(person.id)],
    })
    assert response.status_code == 302
    hearing = db.session.scalar(sa.select(Hearing))
    assert hearing.starts_at.isoformat() == "2026-04-01T05:00:00+00:00"
    assert hearing.court.name == "Leninsky court" and hearing.defendants == [person]


def test_create_and_edit_a_case_and_a_defendant(editor_client):
    created = post_form(editor_client, "/edit/cases/new", {"title": "Bolotnaya", "slug": "bolotnaya"})
    assert created.status_code == 302
    case = db.session.scalar(sa.select(Case))
    duplicate = post_form(editor_client, "/edit/cases/new", {"title": "Other", "slug": "bolotnaya"})
    assert field_error(duplicate, "slug") == "This address is already used by another record."
    person = post_form(editor_client, "/edit/defendants/new", {
        "name_latin": "Ivan Primerov", "name_original": "Иван Примеров", "slug": "ivan-primerov",
        "status": "pre_trial_detention", "letters_status": "unknown", "is_public": "y",
        "cases": [str(case.id)], "lawyer_contacts": "lawyer@example.org",
    })
    assert person.status_code == 302
    defendant = db.session.scalar(sa.select(Defendant))
    assert defendant.cases == [case] and defendant.lawyer_contacts == "lawyer@example.org"
    edit = post_form(editor_client, f"/edit/cases/{case.id}", {"title": "Bolotnaya square", "slug": "bolotnaya",
                                                               "version": str(case.version)})
    assert edit.status_code == 302
    db.session.expire_all()
    assert db.session.get(Case, case.id).title == "Bolotnaya square"


def test_a_cases_original_title_is_edited_refused_on_two_lines_and_in_its_history(editor_client, make_case):
    case = make_case(slug="may6", title="May 6th affair")
    db.session.commit()
    path = f"/edit/cases/{case.id}"
    form = editor_client.get(path, headers={"Accept-Language": "ru"}).get_data(as_text=True)
    assert "Название в оригинальном написании" in form
    broken = post_form(editor_client, path, {"title": "May 6th affair", "title_original": "Дело\n6 мая",
                                             "slug": "may6", "version": str(case.version)})
    assert broken.status_code == 422
    assert "one line" in field_error(broken, "title_original")
    saved = post_form(editor_client, path, {"title": "May 6th affair", "title_original": "  Дело 6 мая ",
                                            "slug": "may6", "version": str(case.version)})
    assert saved.status_code == 302
    db.session.expire_all()
    assert db.session.get(Case, case.id).title_original == "Дело 6 мая"
    page = text(editor_client.get(path))
    assert "Title in the original script" in page and "Дело 6 мая" in page  # the history names the field
    entry = db.session.scalar(sa.select(AuditEntry).where(AuditEntry.entity_type == "case"))
    assert entry.changes["title_original"] == ["", "Дело 6 мая"]


def test_two_editors_save_the_same_hearing(app, editor_client, make_user, make_hearing):
    """The second save is refused, shows what changed, and keeps what the second editor typed."""
    hearing = make_hearing(judge="Judge A")
    db.session.commit()
    other = make_user("second@example.org")
    second = new_client(app)
    assert log_in(second, other.email).status_code == 302

    path = f"/edit/hearings/{hearing.id}"
    first_page = editor_client.get(path).get_data(as_text=True)
    second_page = second.get(path).get_data(as_text=True)
    assert 'name="version" type="hidden" value="1"' in first_page
    assert 'name="version" type="hidden" value="1"' in second_page

    form = {"kind": "trial", "starts_at": "2026-03-05T12:00", "case": "0", "court": str(hearing.court_id),
            "duration_minutes": "120", "defendants": [str(hearing.defendants[0].id)], "version": "1"}
    saved = post_form(editor_client, path, {**form, "judge": "Judge B"})
    assert saved.status_code == 302

    refused = post_form(second, path, {**form, "courtroom": "Room 7", "judge": "Judge C"})
    assert refused.status_code == 409
    body = text(refused)
    assert "Someone else saved this while you were editing" in body
    assert "editor@example.org" in body  # who
    assert "Judge A" in body and "Judge B" in body  # what changed, old and new
    assert 'value="Room 7"' in body and 'value="Judge C"' in body  # nothing typed is lost
    assert 'name="version" type="hidden" value="2"' in body
    db.session.expire_all()
    assert db.session.get(Hearing, hearing.id).judge == "Judge B"

    # having seen the change, the second editor saves deliberately on top of it
    again = post_form(second, path, {**form, "courtroom": "Room 7", "judge": "Judge C", "version": "2"})
    assert again.status_code == 302
    db.session.expire_all()
    assert db.session.get(Hearing, hearing.id).judge == "Judge C"


def test_a_quick_action_on_a_stale_page_is_refused(editor_client, make_hearing, now):
    hearing = make_hearing()
    db.session.commit()
    assert post_form(editor_client, f"/edit/hearings/{hearing.id}/postpone",
                     {"postpone-to": "2026-03-20T11:30", "postpone-version": "1"}).status_code == 302
    stale = post_form(editor_client, f"/edit/hearings/{hearing.id}/cancel", {"cancel-reason": "typo", "cancel-version": "1"})
    assert stale.status_code == 409
    assert "Mar 20, 2026, 11:30 MSK" in text(stale)
    assert 'value="typo"' in stale.get_data(as_text=True)


def test_history_is_for_editors_and_public_pages_show_only_the_timeline(
    anon_client, editor_client, make_defendant, make_hearing
):
    person = make_defendant(internal_notes="")
    hearing = make_hearing(defendants=[person])
    db.session.commit()
    post_form(editor_client, f"/edit/hearings/{hearing.id}/postpone", {"postpone-reason": "MARKER-REASON", "postpone-version": "1"})
    editor_view = text(editor_client.get(f"/edit/hearings/{hearing.id}"))
    assert "MARKER-REASON" in editor_view and "editor@example.org" in editor_view
    public = text(anon_client.get(f"/defendants/{person.slug}"))
    assert "MARKER-REASON" not in public and "editor@example.org" not in public
    assert "postponed, new date not fixed" in public
    # an editor sees a link to the tools on the public page; a visitor does not
    assert f"/edit/hearings/{hearing.id}" in text(editor_client.get(f"/defendants/{person.slug}"))
    assert f"/edit/hearings/{hearing.id}" not in public


def test_admin_audit_feed_has_a_constant_query_count(admin_client, make_hearing, count_queries, admin, now):
    from tracker.editing import services

    def add_changes(n: int) -> None:
        for _ in range(n):
            hearing = make_hearing()
            services.cancel_hearing(db.session, hearing, "reason", by=admin, now=now)
        db.session.commit()

    add_changes(2)
    with count_queries() as few:
        assert admin_client.get("/admin/audit").status_code == 200
    add_changes(20)
    with count_queries() as many:
        page = admin_client.get("/admin/audit")
    assert page.status_code == 200
    assert text(page).count('class="audit-entry') == 22
    assert many.count == few.count


def test_editor_defendant_page_has_a_constant_query_count(editor_client, make_defendant, make_measure,
                                                          make_hearing, count_queries):
    person = make_defendant()
    db.session.commit()
    with count_queries() as few:
        assert editor_client.get(f"/edit/defendants/{person.id}").status_code == 200
    for n in range(5):
        make_measure(person, starts_on=date(2025, 1 + n, 1))
        make_hearing(defendants=[person])
    db.session.add(Decision(defendant=person, decided_on=date(2026, 1, 1), outcome="fine"))
    db.session.commit()
    with count_queries() as many:
        assert editor_client.get(f"/edit/defendants/{person.id}").status_code == 200
    assert many.count == few.count


def test_forms_without_a_csrf_token_are_refused(editor_client, make_hearing):
    hearing = make_hearing()
    db.session.commit()
    response = editor_client.post(f"/edit/hearings/{hearing.id}/cancel", data={"cancel-reason": "x", "cancel-version": "1"})
    assert response.status_code == 400
    db.session.expire_all()
    assert db.session.get(Hearing, hearing.id).status is HearingStatus.SCHEDULED
    assert csrf_token(editor_client, f"/edit/hearings/{hearing.id}")


def test_defendant_details_saved_over_a_newer_extension_are_refused(app, editor_client, make_user,
                                                                   make_defendant, make_measure):
    """A defendant's version covers its measures: the extension shows up as the change in between."""
    person = make_defendant(slug="anna", name_latin="Anna", name_original="Анна")
    make_measure(person, starts_on=date(2025, 6, 8), until=date(2025, 8, 6))
    db.session.commit()
    other = make_user("second@example.org")
    second = new_client(app)
    assert log_in(second, other.email).status_code == 302
    loaded = str(person.version)

    assert post_form(editor_client, f"/edit/defendants/{person.id}/extend",
                     {"extend-until": "2025-11-06", "extend-version": loaded}).status_code == 302
    refused = post_form(second, f"/edit/defendants/{person.id}", {
        "name_latin": "Anna O.", "name_original": "Анна", "slug": "anna", "status": "pre_trial_detention",
        "letters_status": "unknown", "internal_notes": "typed by the second editor", "version": loaded,
    })
    assert refused.status_code == 409
    body = text(refused)
    assert "Someone else saved this while you were editing" in body
    assert "Extended custody" in body and "Nov 6, 2025" in body
    assert "typed by the second editor" in body and 'value="Anna O."' in body


def test_correcting_a_measure_and_a_decision(editor_client, make_defendant, make_measure, make_decision):
    person = make_defendant()
    measure = make_measure(person, starts_on=date(2025, 6, 8), until=date(2025, 8, 6))
    decision = make_decision(person, term_years=2)
    db.session.commit()
    version = person.version
    page = editor_client.get(f"/edit/measures/{measure.id}")
    assert page.status_code == 200 and 'value="2025-08-06"' in page.get_data(as_text=True)
    assert post_form(editor_client, f"/edit/measures/{measure.id}", {
        "kind": "pre_trial_detention", "starts_on": "2025-06-08", "until": "2025-08-07",
        "version": str(version)}).status_code == 302
    assert post_form(editor_client, f"/edit/decisions/{decision.id}", {
        "decided_on": "2025-11-24", "instance": "first", "outcome": "imprisonment", "term_years": "3",
        "version": str(version + 1)}).status_code == 302
    entries = db.session.scalars(sa.select(AuditEntry).order_by(AuditEntry.id)).all()
    assert [(e.entity_type, e.action, e.defendant_id) for e in entries] == [
        ("custody_measure", "update", person.id), ("decision", "update", person.id)]
    assert entries[0].changes == {"until": ["2025-08-06", "2025-08-07"]}
    assert entries[1].changes == {"term_years": [2, 3]}
