"""`flask import-records` and `flask export-records`, for large files and for moving an instance."""
from __future__ import annotations

import sqlalchemy as sa

from tracker.editing.models import AuditEntry
from tracker.extensions import db
from tracker.records.models import Defendant

SHEET = "\ufeffФИО;Дело;Статьи\r\nИван Петров;bolotnaya;212 ч.2\r\nАнна Иванова;bolotnaya;318\r\n"


def test_dry_run_then_import_as_an_account_with_progress(app, tmp_path, make_case, editor):
    make_case(slug="bolotnaya")
    db.session.commit()
    path = tmp_path / "people.csv"
    path.write_bytes(SHEET.encode("utf-8"))
    runner = app.test_cli_runner()

    result = runner.invoke(args=["import-records", str(path), "--dry-run", "--as", editor.email, "-v"])
    assert result.exit_code == 0, result.output
    assert "defendants       2 to create      0 to update      0 unchanged" in result.output
    assert "people.csv row 2: create Ivan Petrov (ivan-petrov)" in result.output
    assert "nothing written (dry run)" in result.output
    assert db.session.scalar(sa.select(sa.func.count(Defendant.id))) == 0

    result = runner.invoke(args=["import-records", str(path), "--as", editor.email])
    assert result.exit_code == 0, result.output
    assert "applying: 2/2 changes" in result.output and "imported 2 changes" in result.output
    assert db.session.scalar(sa.select(sa.func.count(Defendant.id))) == 2
    assert set(db.session.scalars(sa.select(AuditEntry.user_id))) == {editor.id}

    result = runner.invoke(args=["import-records", str(path)])
    assert result.exit_code == 0 and "nothing written: no changes" in result.output


def test_problems_and_limits_exit_non_zero_and_import_nothing(app, tmp_path):
    path = tmp_path / "people.csv"
    path.write_bytes(SHEET.encode("utf-8"))
    runner = app.test_cli_runner()
    result = runner.invoke(args=["import-records", str(path)])
    assert result.exit_code == 1
    assert "people.csv, row 2, column cases: Unknown case 'bolotnaya'." in result.output
    assert "2 problem(s): nothing imported." in result.output
    result = runner.invoke(args=["import-records", str(path), "--max-rows", "1"])
    assert result.exit_code == 1 and "limited to 1 rows" in result.output
    result = runner.invoke(args=["import-records", str(path), "--as", "nobody@example.org"])
    assert result.exit_code == 1 and "No active account nobody@example.org." in result.output
    assert db.session.scalar(sa.select(sa.func.count(Defendant.id))) == 0


def test_export_records_writes_a_private_file_the_import_reads_back(app, tmp_path, make_defendant):
    make_defendant(slug="ivan", lawyer_contacts="+7 900 000-00-00", is_public=False)
    db.session.commit()
    path = tmp_path / "backup.xlsx"
    runner = app.test_cli_runner()
    result = runner.invoke(args=["export-records", str(path)])
    assert result.exit_code == 0, result.output
    assert path.stat().st_mode & 0o777 == 0o600
    result = runner.invoke(args=["import-records", str(path), "--dry-run"])
    assert result.exit_code == 0, result.output
    assert "defendants       0 to create      0 to update      1 unchanged" in result.output
