"""The repeated autumn hour survives export -> import, and an ambiguous or skipped local time is refused.

Berlin's clocks go back from 03:00 CEST to 02:00 CET on 25 October 2026: 02:30 happens at
00:30 UTC (+02:00) and again at 01:30 UTC (+01:00). The export used to write both as
"2026-10-25 02:30" and the import read both as the first, so the second hearing (and an
action there) came back an hour early (tracker.records.wallclock, docs/import.md).
"""
from __future__ import annotations

import io
from datetime import datetime, timezone

import pytest
import sqlalchemy as sa
from openpyxl import load_workbook

from tests.auth.support import log_in, new_client
from tests.exchange.conftest import files
from tests.exchange.test_import import confirm_form, problems, upload
from tests.exchange.test_round_trip import empty_the_records
from tracker.actions.models import Action, ActionStatus
from tracker.auth.models import User
from tracker.extensions import db
from tracker.records.models import Hearing

FIRST = datetime(2026, 10, 25, 0, 30, tzinfo=timezone.utc)  # 02:30 CEST
SECOND = datetime(2026, 10, 25, 1, 30, tzinfo=timezone.utc)  # 02:30 CET, an hour later


@pytest.fixture
def autumn_night(make_court, make_defendant, make_hearing):
    court = make_court(name="Amtsgericht Tiergarten", timezone="Europe/Berlin")
    anna = make_defendant(slug="anna", name_latin="Anna Petrova", name_original="Анна Петрова")
    make_hearing(court=court, defendants=[anna], starts_at=FIRST, external_id="h-first")
    make_hearing(court=court, defendants=[anna], starts_at=SECOND, external_id="h-second")
    db.session.add(Action(title="Vigil", city="Berlin", country="DE", timezone="Europe/Berlin", starts_at=SECOND,
                          ends_at=datetime(2026, 10, 25, 3, 0, tzinfo=timezone.utc), status=ActionStatus.APPROVED,
                          contact="vigil@example.org", external_id="a-1", defendants=[anna]))
    db.session.commit()


def instants() -> dict[str, list]:
    hearings = db.session.execute(sa.select(Hearing.external_id, Hearing.starts_at).order_by(Hearing.external_id))
    actions = db.session.execute(sa.select(Action.external_id, Action.starts_at, Action.ends_at))
    return {"hearings": [tuple(r) for r in hearings], "actions": [tuple(r) for r in actions]}


def cells(export: bytes, sheet: str, column: str) -> list:
    rows = list(load_workbook(io.BytesIO(export), read_only=True)[sheet].iter_rows(values_only=True))
    return [row[rows[0].index(column)] for row in rows[1:]]


def test_the_export_writes_each_local_time_with_its_offset(admin_client, autumn_night):
    export = admin_client.get("/admin/export.xlsx").data
    assert sorted(cells(export, "hearings", "starts_at")) == ["2026-10-25 02:30 +01:00", "2026-10-25 02:30 +02:00"]
    assert cells(export, "actions", "starts_at") == ["2026-10-25 02:30 +01:00"]
    assert cells(export, "actions", "ends_at") == ["2026-10-25 04:00 +01:00"]


def test_export_then_import_over_http_keeps_the_repeated_hour(app, admin, admin_client, autumn_night):
    before = instants()
    assert before["hearings"] == [("h-first", FIRST), ("h-second", SECOND)]
    export = admin_client.get("/admin/export.xlsx").data
    admin_id = admin.id
    empty_the_records()
    client = new_client(app)
    assert log_in(client, db.session.get(User, admin_id).email).status_code == 302
    page = upload(client, "export.xlsx", export, "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
    text = page.get_data(as_text=True)
    assert 'class="import-problems"' not in text, problems(text)
    assert client.post("/edit/import/confirm", data=confirm_form(text)).status_code == 302
    assert instants() == before
    # read back into the instance it came from, the file changes nothing
    again = upload(client, "export.xlsx", export, "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
    assert "Nothing to import" in again.get_data(as_text=True) or "no changes" in again.get_data(as_text=True)


def test_export_then_import_by_the_commands_keeps_the_repeated_hour(app, tmp_path, autumn_night):
    before = instants()
    path = tmp_path / "backup.xlsx"
    runner = app.test_cli_runner()
    assert runner.invoke(args=["export-records", str(path)]).exit_code == 0
    empty_the_records()
    result = runner.invoke(args=["import-records", str(path)])
    assert result.exit_code == 0, result.output
    assert instants() == before
    result = runner.invoke(args=["import-records", str(path)])
    assert result.exit_code == 0 and "nothing written: no changes" in result.output


HEARINGS = "defendants;court;starts_at\r\n"


@pytest.mark.parametrize("written, message", [
    ("2026-10-25 02:30", "2026-10-25 02:30 happens twice in Europe/Berlin (the clocks go back then): write it with "
                         "its UTC offset, '2026-10-25 02:30 +02:00' for the first time or '2026-10-25 02:30 +01:00' "
                         "for the second."),
    ("25.10.2026 02:30", "2026-10-25 02:30 happens twice in Europe/Berlin (the clocks go back then): write it with "
                         "its UTC offset, '2026-10-25 02:30 +02:00' for the first time or '2026-10-25 02:30 +01:00' "
                         "for the second."),
    ("29.03.2026 02:30", "This time does not exist in Europe/Berlin: the clocks go forward then."),
    ("2026-03-29 02:30 +01:00", "This time does not exist in Europe/Berlin: the clocks go forward then."),
    ("2026-12-25 10:00 +02:00", "In Europe/Berlin, 2026-12-25 10:00 is at UTC+01:00, not +02:00: correct the offset "
                                "or leave it out."),
    ("2026-10-25 02:30 +03:00", "In Europe/Berlin, 2026-10-25 02:30 is at UTC+02:00 / UTC+01:00, not +03:00: "
                                "correct the offset or leave it out."),
])
def test_a_time_without_the_offset_that_tells_or_with_a_wrong_one_is_refused_on_its_cell(
        admin, plan_import, make_court, make_defendant, written, message):
    make_court(name="Amtsgericht Tiergarten", timezone="Europe/Berlin")
    make_defendant(slug="anna")
    db.session.commit()
    plan = plan_import(admin, files(hearings__csv=f"{HEARINGS}anna;Amtsgericht Tiergarten;{written}\r\n"))
    assert [(p.row, p.column, p.message) for p in plan.problems] == [(2, "starts_at", message)]


@pytest.mark.parametrize("written, instant", [
    ("2026-10-25 02:30 +02:00", FIRST), ("25.10.2026 02:30 +01:00", SECOND), ("2026-10-25T02:30+01:00", SECOND),
    ("25.10.2026 02:30 UTC+1", SECOND),
    ("2026-10-25 03:30", datetime(2026, 10, 25, 2, 30, tzinfo=timezone.utc)),  # once only: no offset needed
    ("2026-12-01 11:00", datetime(2026, 12, 1, 10, 0, tzinfo=timezone.utc)),  # the old format, as ever
])
def test_the_offset_tells_the_two_apart_and_the_old_format_still_reads(
        admin, do_import, make_court, make_defendant, written, instant):
    make_court(name="Amtsgericht Tiergarten", timezone="Europe/Berlin")
    make_defendant(slug="anna")
    db.session.commit()
    do_import(admin, files(hearings__csv=f"{HEARINGS}anna;Amtsgericht Tiergarten;{written}\r\n"))
    assert db.session.scalars(sa.select(Hearing.starts_at)).all() == [instant]


def test_an_actions_ambiguous_start_is_refused_with_both_offsets(admin, plan_import):
    sheet = ("title;city;country;timezone;starts_at;ends_at;contact\r\n"
             "Vigil;Berlin;DE;Europe/Berlin;25.10.2026 02:30;25.10.2026 04:00;v@example.org\r\n")
    plan = plan_import(admin, files(akcii__csv=sheet))
    assert [(p.column, p.message) for p in plan.problems] == [
        ("starts_at", "2026-10-25 02:30 happens twice in Europe/Berlin (the clocks go back then): write it with its "
                      "UTC offset, '2026-10-25 02:30 +02:00' for the first time or '2026-10-25 02:30 +01:00' for "
                      "the second.")]
    fixed = plan_import(admin, files(akcii__csv=sheet.replace("25.10.2026 02:30;", "25.10.2026 02:30 +01:00;")))
    assert fixed.ok, fixed.problems
