"""Importing a group's spreadsheet: the dry run, the confirmation, re-imports, limits.

Everything goes over HTTP as an editor would do it (upload, read the dry run, confirm),
on the real database, and the records are then read from the public pages.
"""
from __future__ import annotations

import re
from datetime import date, timedelta

import pytest
import sqlalchemy as sa
import time_machine

from tests.auth.support import csrf_token, log_in, new_client
from tracker.editing import services
from tracker.editing.models import AuditEntry
from tracker.exchange.models import ImportUpload
from tracker.records.models import CustodyMeasure, Defendant, DefendantStatus, Hearing, MeasureKind
from tracker.extensions import db

# What Excel saves in a Russian locale: a BOM, semicolons, CRLF, Russian headers and dates.
HEADER = "\ufeffexternal_id;slug;ФИО;Имя латиницей;Дело;Статус;Дата рождения;Статьи;Адрес для писем;Публично\r\n"
IVAN = "1;;Иван Петров;Ivan Petrov;bolotnaya;в СИЗО;15.03.1990;212 ч.2, 318 ч.1;СИЗО-5, Москва;да\r\n"
ANNA = "2;;Анна Иванова;;Болотное дело;домашний арест;2 января 1985 г.;212 ч.2;;да\r\n"
MESSY = (
    HEADER
    + IVAN  # row 2: new
    + ANNA  # row 3: already in the tracker (matched on the slug made from her name), updated
    + IVAN  # row 4: the same person twice
    + "3;;;Sergey Sidorov;bolotnaya;в СИЗО;1988-07-30;212;;да\r\n"  # row 5: no name
    + "4;;Олег Орлов;;Несуществующее дело;в СИЗО;01.01.1980;212;;да\r\n"  # row 6: unknown case
    + "5;hidden-person;Скрытый Человек;;bolotnaya;в СИЗО;;;;нет\r\n"  # row 7: a hidden defendant of another case
    + ";;;;;;;;;\r\n"  # an empty row, skipped
)
CORRECTED = (
    HEADER + IVAN + ANNA
    + "3;;Сергей Сидоров;Sergey Sidorov;bolotnaya;в СИЗО;30.07.1988;212;;да\r\n"
    + "4;;Олег Орлов;;bolotnaya;в СИЗО;01.01.1980;212 ч.1;;да\r\n"
)
SECRET = "SECRET-MARKER-7731"


@pytest.fixture
def group(make_case, make_defendant, make_user):
    """A case, a defendant already tracked, and a hidden defendant of another case with private notes."""
    bolotnaya = make_case(slug="bolotnaya", title="Болотное дело")
    other = make_case(slug="other", title="Other case")
    anna = make_defendant(slug="anna-ivanova", name_latin="Anna Ivanova", name_original="Анна Иванова",
                          cases=[bolotnaya])
    hidden = make_defendant(slug="hidden-person", name_latin="Hidden Person", name_original="Скрытый Человек",
                            cases=[other], is_public=False, internal_notes=SECRET, lawyer_contacts=SECRET)
    db.session.commit()
    limited = make_user("limited@example.org", cases=[bolotnaya])
    return {"case": bolotnaya, "anna": anna, "hidden": hidden, "limited": limited}


def logged_in(app, email: str):  # noqa: ANN001, ANN201
    client = new_client(app)
    assert log_in(client, email).status_code == 302
    return client


def upload(client, name: str, data: bytes | str, content_type: str = "text/csv"):  # noqa: ANN001, ANN201
    import io

    raw = data.encode("utf-8") if isinstance(data, str) else data
    token = csrf_token(client, "/edit/import")
    return client.post("/edit/import", data={"csrf_token": token, "files": (io.BytesIO(raw), name, content_type)},
                       content_type="multipart/form-data")


def confirm_form(page: str) -> dict[str, str]:
    fields = dict(re.findall(r'name="(csrf_token|token|files_sha256|plan_sha256)"[^>]*value="([^"]+)"', page))
    assert set(fields) == {"csrf_token", "token", "files_sha256", "plan_sha256"}, "no confirmation form"
    return fields


def problems(page: str) -> list[tuple[str, str, str]]:
    table = page.split('class="import-problems"', 1)[1].split("</table>", 1)[0]
    rows = re.findall(r"<tr><td[^>]*>[^<]*</td><td[^>]*>(\d*)</td><td[^>]*>([^<]*)</td><td[^>]*>([^<]*)</td></tr>", table)
    return [(r, c, m.replace("&#39;", "'")) for r, c, m in rows]


def counts() -> tuple[int, int, int]:
    return (db.session.scalar(sa.select(sa.func.count(Defendant.id))),
            db.session.scalar(sa.select(sa.func.count(AuditEntry.id))),
            db.session.scalar(sa.select(sa.func.sum(Defendant.version))))


def test_a_messy_spreadsheet_gives_the_exact_dry_run_and_imports_nothing(app, group, plan_import):
    before = counts()
    client = logged_in(app, "limited@example.org")
    response = upload(client, "заключённые.csv", MESSY)
    page = response.get_data(as_text=True)
    assert response.status_code == 422
    assert problems(page) == [
        ("4", "external_id", "Row 2 already has this record."),
        ("5", "name_original", "This cell is required."),
        ("6", "cases", "Unknown case 'Несуществующее дело'."),
        ("7", "slug", "Another record already uses this key, and your account may not edit it."),
    ]
    # nothing of the hidden defendant shows to an editor who may not edit them
    assert SECRET not in page and "Hidden Person" not in page
    assert 'name="plan_sha256"' not in page  # no way to confirm a dry run with problems
    assert counts() == before
    assert db.session.scalar(sa.select(sa.func.count(ImportUpload.id))) == 0  # nothing kept either

    # the same dry run as a plan: what would be created, updated, left alone
    from tests.exchange.conftest import files

    plan = plan_import(group["limited"], files(people__csv=MESSY))
    assert [(i.table, i.row, i.action, i.label) for i in plan.items] == [
        ("defendants", 2, "create", "Ivan Petrov (ivan-petrov)"),
        ("defendants", 3, "update", "Anna Ivanova (anna-ivanova)"),
    ]
    assert plan.items[0].changes == [
        ("external_id", "", "1"), ("slug", "", "ivan-petrov"), ("name_original", "", "Иван Петров"),
        ("name_latin", "", "Ivan Petrov"), ("status", "", "pre_trial_detention"), ("is_public", "", "yes"),
        ("birth_date", "", "1990-03-15"), ("charges", "", "ст. 212 ч. 2\nст. 318 ч. 1"),
        ("letters_address", "", "СИЗО-5, Москва"), ("cases", "", "bolotnaya"),
    ]
    assert plan.items[1].changes == [
        ("external_id", "", "2"), ("status", "pre_trial_detention", "house_arrest"),
        ("birth_date", "", "1985-01-02"), ("charges", "", "ст. 212 ч. 2"),
    ]


def test_the_corrected_file_imports_and_importing_it_again_changes_nothing(app, group, now):
    client = logged_in(app, "limited@example.org")
    page = upload(client, "people.csv", CORRECTED).get_data(as_text=True)
    assert "class=\"import-problems\"" not in page
    assert "Import 4 changes" in page
    response = client.post("/edit/import/confirm", data=confirm_form(page))
    assert response.status_code == 302
    assert db.session.scalar(sa.select(sa.func.count(ImportUpload.id))) == 0  # the stored file is gone

    ivan = db.session.scalar(sa.select(Defendant).where(Defendant.slug == "ivan-petrov"))
    assert ivan.external_id == "1" and ivan.charges == "ст. 212 ч. 2\nст. 318 ч. 1"
    assert ivan.birth_date == date(1990, 3, 15) and [c.slug for c in ivan.cases] == ["bolotnaya"]
    anna = db.session.get(Defendant, group["anna"].id)
    assert anna.status is DefendantStatus.HOUSE_ARREST and anna.external_id == "2"
    # audited as the importer, like a hand edit
    entries = db.session.scalars(sa.select(AuditEntry).where(AuditEntry.defendant_id == anna.id)).all()
    assert [(e.action, e.user_id) for e in entries] == [("update", group["limited"].id)]
    with time_machine.travel(now, tick=False):
        public = new_client(app).get("/defendants/ivan-petrov").get_data(as_text=True)
    assert "Ivan Petrov" in public and "ст. 318 ч. 1" in public

    before = counts()
    again = upload(client, "people.csv", CORRECTED).get_data(as_text=True)
    assert "Nothing to import" in again and 'name="plan_sha256"' not in again
    assert counts() == before


def test_a_file_with_edits_updates_exactly_those_rows(app, group, admin, do_import, plan_import):
    from tests.exchange.conftest import files

    do_import(admin, files(people__csv=CORRECTED))
    versions = dict(db.session.execute(sa.select(Defendant.slug, Defendant.version)).all())
    edited = CORRECTED.replace("СИЗО-5, Москва", "ИК-2, Покров")
    plan = plan_import(admin, files(people__csv=edited))
    assert [(i.row, i.action, i.changes) for i in plan.items if i.action != "unchanged"] == [
        (2, "update", [("letters_address", "СИЗО-5, Москва", "ИК-2, Покров")])]
    do_import(admin, files(people__csv=edited))
    after = dict(db.session.execute(sa.select(Defendant.slug, Defendant.version)).all())
    assert {slug for slug in after if after[slug] != versions[slug]} == {"ivan-petrov"}
    assert after["ivan-petrov"] == versions["ivan-petrov"] + 1


def test_an_editor_who_may_edit_a_hidden_defendant_updates_them_and_they_stay_hidden(group, editor, do_import):
    from tests.exchange.conftest import files

    plan = do_import(editor, files(people__csv="slug;name_original;letters_address\r\n"
                                              "hidden-person;Скрытый Человек;СИЗО-1\r\n"))
    assert [(i.action, i.changes) for i in plan.items] == [("update", [("letters_address", "", "СИЗО-1")])]
    hidden = db.session.get(Defendant, group["hidden"].id)
    assert hidden.letters_address == "СИЗО-1" and hidden.is_public is False


def test_a_limited_editor_imports_only_into_their_cases(group, plan_import):
    from tests.exchange.conftest import files

    plan = plan_import(group["limited"], files(
        people__csv="name_original;cases\r\nНовый Человек;other\r\nДругой Человек;\r\n",
        cases__csv="slug;title\r\nnew-case;New case\r\n",
        hearings__csv="defendants;court;starts_at;case\r\nhidden-person;Мосгорсуд;01.04.2026 10:00;\r\n"
                      "anna-ivanova;Мосгорсуд;01.04.2026 10:00;other\r\n",
    ))
    assert [(p.source, p.row, p.column, p.message) for p in plan.problems] == [
        ("cases.csv", 2, "slug", "Your account is limited to some cases; an admin can add new ones."),
        ("people.csv", 2, "cases", "Your account may not add records to the case 'other'."),
        ("people.csv", 3, "cases", "Choose one of your cases."),
        # a hidden defendant of another case is not even found
        ("hearings.csv", 2, "defendants", "Unknown defendant 'hidden-person'."),
        ("hearings.csv", 3, "case", "Your account may not add records to the case 'other'."),
    ]


def test_confirming_is_refused_when_the_records_changed_since_the_dry_run(app, group, editor, now):
    client = logged_in(app, editor.email)
    page = upload(client, "people.csv", CORRECTED).get_data(as_text=True)
    form = confirm_form(page)
    # someone edits Anna meanwhile
    anna = db.session.get(Defendant, group["anna"].id)
    services.update_defendant(db.session, anna, {"letters_address": "changed meanwhile"}, expected_version=None,
                              by=editor, now=now)
    db.session.commit()
    before = counts()
    response = client.post("/edit/import/confirm", data=form)
    assert response.status_code == 409
    assert "The records changed since you saw the dry run" in response.get_data(as_text=True)
    assert counts() == before
    # the new dry run can be confirmed
    response = client.post("/edit/import/confirm", data=confirm_form(response.get_data(as_text=True)))
    assert response.status_code == 302
    assert db.session.scalar(sa.select(sa.func.count(Defendant.id))) == 5


def test_a_confirmation_is_bound_to_its_files_its_uploader_and_its_time(app, group, editor, make_user, now):
    client = logged_in(app, editor.email)
    form = confirm_form(upload(client, "people.csv", CORRECTED).get_data(as_text=True))
    tampered = {**form, "plan_sha256": "0" * 64}
    assert client.post("/edit/import/confirm", data=tampered).status_code == 409
    other = make_user("other@example.org")
    stranger = logged_in(app, other.email)
    stolen = {**form, "csrf_token": csrf_token(stranger, "/edit/import")}
    assert stranger.post("/edit/import/confirm", data=stolen).status_code == 400
    # an hour later the upload has expired and is deleted by the next upload or the scheduler
    db.session.execute(sa.update(ImportUpload).values(created_at=now - timedelta(hours=2)))
    db.session.commit()
    assert client.post("/edit/import/confirm", data=form).status_code == 400
    from scheduler.jobs import purge_import_uploads as purge_import_uploads_job

    purge_import_uploads_job(app)
    assert db.session.scalar(sa.select(sa.func.count(ImportUpload.id))) == 0
    assert db.session.scalar(sa.select(sa.func.count(Defendant.id))) == 2


def test_custody_columns_record_an_extension_when_the_until_date_moves(group, admin, do_import):
    from tests.exchange.conftest import files

    sheet = "slug;name_original;custody;custody_since;custody_until\r\nanna-ivanova;Анна Иванова;СИЗО;08.06.2025;{}\r\n"
    do_import(admin, files(people__csv=sheet.format("06.08.2025")))
    plan = do_import(admin, files(people__csv=sheet.format("06.11.2025")))
    assert [(i.table, i.action, i.changes) for i in plan.items if i.action != "unchanged"] == [
        ("measures", "extend", [("until", "2025-08-06", "2025-11-06")])]
    measures = db.session.scalars(sa.select(CustodyMeasure).order_by(CustodyMeasure.starts_on)).all()
    assert [(m.kind, m.starts_on, m.until, m.extends_id) for m in measures] == [
        (MeasureKind.PRE_TRIAL_DETENTION, date(2025, 6, 8), date(2025, 8, 6), None),
        (MeasureKind.PRE_TRIAL_DETENTION, date(2025, 8, 6), date(2025, 11, 6), measures[0].id),
    ]
    assert do_import(admin, files(people__csv=sheet.format("06.11.2025"))).changes == 0


def test_hearings_with_an_external_id_move_when_their_date_changes(group, admin, do_import, now):
    from tests.exchange.conftest import files

    sheet = ("external_id;defendants;court;starts_at;kind\r\n"
             "h-1;anna-ivanova;Мосгорсуд;{};trial\r\n")
    do_import(admin, files(hearings__csv=sheet.format("10.03.2026 11:00")))
    hearing = db.session.scalar(sa.select(Hearing))
    assert hearing.starts_at.isoformat() == "2026-03-10T08:00:00+00:00" and hearing.version == 1
    plan = do_import(admin, files(hearings__csv=sheet.format("17.03.2026 11:00")))
    assert [(i.action, i.changes) for i in plan.items] == [
        ("update", [("starts_at", "2026-03-10 11:00", "2026-03-17 11:00")])]
    db.session.refresh(hearing)
    assert hearing.version == 2  # what feeds (SEQUENCE) and reminders (change notices) follow
    entry = db.session.scalars(sa.select(AuditEntry).where(AuditEntry.entity_type == "hearing")
                               .order_by(AuditEntry.id.desc())).first()
    assert entry.changes == {"starts_at": ["2026-03-10T08:00:00+00:00", "2026-03-17T08:00:00+00:00"]}
    assert entry.user_id == admin.id


def test_the_import_is_one_transaction(group, admin, plan_import, now):
    """A change the dry run could not foresee fails the whole import: nothing is kept."""
    from tests.exchange.conftest import files
    from tracker.exchange.apply import ImportFailed, apply_plan

    plan = plan_import(admin, files(people__csv=CORRECTED))
    assert plan.ok
    # a defendant takes the slug of a new row between the dry run and the import
    services.create_defendant(db.session, {"slug": "oleg-orlov", "name_original": "x", "name_latin": "x"},
                              cases=[], by=admin, now=now)
    db.session.commit()
    before = counts()
    with pytest.raises(ImportFailed) as failed:
        apply_plan(db.session, plan, user=admin, now=now)
    db.session.rollback()
    assert (failed.value.item.row, failed.value.message) == (5, "This address is already used by another record.")
    # rows 2 to 4 had been applied before row 5 failed: none of them is kept
    assert counts() == before
    assert db.session.scalar(sa.select(Defendant).where(Defendant.slug == "ivan-petrov")) is None


def test_bad_files_get_a_clear_message(app, group, editor):
    client = logged_in(app, editor.email)
    cases = [
        ("photo.csv", b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", "is not a CSV or .xlsx file"),
        ("old.xls", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 100, "old Excel format (.xls)"),
        ("latin1.csv", "name_original\r\nJosé Müller\r\n".encode("latin-1"), "is not UTF-8 text"),
        ("broken.xlsx", b"PK\x03\x04 not really a zip", "is not a CSV or .xlsx file"),
        ("notes.csv", "just some text\r\nnothing tabular\r\n", "No table found"),
    ]
    for name, data, message in cases:
        response = upload(client, name, data)
        assert response.status_code == 422, name
        assert message in response.get_data(as_text=True).replace("&#39;", "'"), name
    assert client.post("/edit/import", data={"csrf_token": csrf_token(client, "/edit/import")}).status_code == 422


def test_an_upload_above_the_limits_is_refused_with_the_limit_named(app, group, editor):
    client = logged_in(app, editor.email)
    app.config["IMPORT_MAX_ROWS"], saved_rows = 3, app.config["IMPORT_MAX_ROWS"]
    try:
        response = upload(client, "people.csv", CORRECTED)
        assert response.status_code == 422
        assert "limited to 3 rows" in response.get_data(as_text=True)
    finally:
        app.config["IMPORT_MAX_ROWS"] = saved_rows
    app.config["IMPORT_MAX_BYTES"], saved_bytes = 1000, app.config["IMPORT_MAX_BYTES"]
    try:
        response = upload(client, "people.csv", CORRECTED * 100)  # ~50 KB
        assert response.status_code == 413
        assert "The upload is too big" in response.get_data(as_text=True)
    finally:
        app.config["IMPORT_MAX_BYTES"] = saved_bytes


def test_windows_1251_and_utf16_files_are_read(group, admin, plan_import):
    from tests.exchange.conftest import files

    text = "ФИО;Дело\r\nСергей Сидоров;bolotnaya\r\n"
    plan = plan_import(admin, files(people__csv=text.encode("cp1251")))
    assert [i.label for i in plan.items] == ["Sergey Sidorov (sergey-sidorov)"]
    assert plan.notes == ["people.csv was read as Windows-1251 (Cyrillic). Check the names in the dry run below."]
    plan = plan_import(admin, files(people__csv=text.replace(";", "\t").encode("utf-16")))
    assert [i.label for i in plan.items] == ["Sergey Sidorov (sergey-sidorov)"] and not plan.notes


def test_control_characters_and_bad_cells_are_reported_per_cell(group, admin, plan_import):
    from tests.exchange.conftest import files

    sheet = ("name_original;name_latin;birth_date;public;status;charges\r\n"
             "Иван\u202eПетров;Ivan;31.02.1990;может быть;в СИЗО;212\r\n"
             "\"Иван\nПетров\";Ivan\x07;1850-01-01;да;под следствием;212\r\n")
    plan = plan_import(admin, files(people__csv=sheet))
    assert [(p.row, p.column, p.message) for p in plan.problems] == [
        (2, "name_original", "This contains an invisible control character (U+202E)."),
        (2, "birth_date", "There is no such day: '31.02.1990'."),
        (2, "public", "Write yes or no (да or нет), not 'может быть'."),
        (3, "name_original", "This must be one line."),
        (3, "name_latin", "This contains an invisible control character (U+0007)."),
        (3, "birth_date", "Enter a date between 1910-01-01 and 2100-12-31."),
        (3, "status", "Unknown value 'под следствием'; use one of: pre_trial_detention, house_arrest, bail, "
                      "travel_ban, compulsory_treatment, imprisoned, suspended_sentence, released, at_large."),
    ]


def test_a_key_taken_by_a_concurrent_change_fails_the_import_cleanly(group, admin, plan_import, make_hearing,
                                                                     now):
    from tests.exchange.conftest import files
    from tracker.exchange.apply import ImportFailed, apply_plan

    sheet = "external_id;defendants;court;starts_at\r\nh-1;anna-ivanova;Мосгорсуд;10.03.2026 11:00\r\n"
    plan = plan_import(admin, files(hearings__csv=sheet))
    make_hearing(external_id="h-1", defendants=[db.session.get(Defendant, group["anna"].id)])
    db.session.commit()
    with pytest.raises(ImportFailed) as failed:
        apply_plan(db.session, plan, user=admin, now=now)
    db.session.rollback()
    assert failed.value.message == "Someone changed the records while they were being imported."
    assert db.session.scalar(sa.select(sa.func.count(Hearing.id))) == 1


def test_a_large_import_streams_its_progress_then_its_outcome(app, group, editor):
    client = logged_in(app, editor.email)
    page = upload(client, "people.csv", CORRECTED).get_data(as_text=True)
    app.config["IMPORT_PROGRESS_FROM"], saved = 2, app.config["IMPORT_PROGRESS_FROM"]
    try:
        response = client.post("/edit/import/confirm", data=confirm_form(page))
    finally:
        app.config["IMPORT_PROGRESS_FROM"] = saved
    assert response.status_code == 200 and response.is_streamed
    assert response.headers["X-Accel-Buffering"] == "no"
    body = response.get_data(as_text=True)
    assert "<li>0 of 4 changes</li>" in body and "<li>4 of 4 changes</li>" in body
    assert 'id="import-done">Imported: 3 created, 1 updated.</p>' in body
    assert db.session.scalar(sa.select(sa.func.count(Defendant.id))) == 5
    assert db.session.scalar(sa.select(sa.func.count(ImportUpload.id))) == 0


def test_a_streamed_import_that_fails_says_nothing_was_kept(app):
    from flask import render_template

    from tracker.exchange.apply import ImportFailed
    from tracker.exchange.plan import Item

    failed = ImportFailed(Item("defendants", "people.csv", 5, "create", "Oleg Orlov (oleg-orlov)"),
                          "This address is already used by another record.")
    with app.test_request_context():
        html = render_template("exchange/_import_outcome.html", message=None, error=failed)
    assert "Nothing was imported" in html
    assert "people.csv, row 5 (defendants: Oleg Orlov (oleg-orlov)): This address is already used" in html


def test_an_upload_deletes_the_expired_ones_of_everybody(app, group, editor, make_user, now):
    other = logged_in(app, make_user("other@example.org").email)
    confirm_form(upload(other, "people.csv", CORRECTED).get_data(as_text=True))
    db.session.execute(sa.update(ImportUpload).values(created_at=now - timedelta(hours=2)))
    db.session.commit()
    confirm_form(upload(logged_in(app, editor.email), "people.csv", CORRECTED).get_data(as_text=True))
    assert db.session.scalars(sa.select(ImportUpload.user_id)).all() == [editor.id]


def test_a_limited_editor_moves_a_hearing_and_its_hidden_co_defendant_stays_unseen(group, do_import, make_hearing,
                                                                                  make_court, now):
    from tests.exchange.conftest import files

    court = make_court(name="Мосгорсуд")
    anna, hidden = db.session.get(Defendant, group["anna"].id), db.session.get(Defendant, group["hidden"].id)
    hearing = make_hearing(external_id="h-9", court=court, case=group["case"], defendants=[anna, hidden],
                           starts_at=now + timedelta(days=3))
    db.session.commit()
    sheet = "external_id;defendants;court;starts_at\r\nh-9;anna-ivanova;Мосгорсуд;20.03.2026 10:00\r\n"
    plan = do_import(group["limited"], files(hearings__csv=sheet))
    [item] = plan.items
    assert item.action == "update" and [c[0] for c in item.changes] == ["starts_at"]
    assert "hidden" not in repr(plan.items).lower() and SECRET not in repr(plan.items)
    db.session.refresh(hearing)
    assert sorted(d.slug for d in hearing.defendants) == ["anna-ivanova", "hidden-person"]
    assert hearing.local_start.strftime("%Y-%m-%d %H:%M") == "2026-03-20 10:00"
