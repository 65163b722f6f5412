"""`flask import-records FILE... [--dry-run] [--as EMAIL]` and `flask export-records OUT.xlsx`.

For files above the web's row limit, and for moving an instance. Progress goes to stderr.
"""
from __future__ import annotations

import sys
import time
from pathlib import Path

import click
from flask import current_app
from flask.cli import with_appcontext

from tracker.auth import logic as accounts
from tracker.exchange.apply import ImportFailed, apply_plan
from tracker.exchange.apply import dry_run as plan_files
from tracker.exchange.export import full_export
from tracker.exchange.reading import FileRejected, UploadedFile
from tracker.extensions import db, utcnow


def _report(plan, verbose: bool) -> None:  # noqa: ANN001
    for note in plan.notes:
        click.echo(f"note: {note}")
    for table, counts in plan.counts().items():
        click.echo(f"{table:<11} {counts['create']:>6} to create {counts['update']:>6} to update "
                   f"{counts['unchanged']:>6} unchanged")
    if verbose:
        for item in plan.items:
            if item.action != "unchanged":
                changes = "; ".join(f"{f}: {b!r} -> {a!r}" for f, b, a in item.changes)
                click.echo(f"  {item.source} row {item.row}: {item.action} {item.label}: {changes}")
    for problem in plan.problems:
        where = f"{problem.source}, row {problem.row}" + (f", column {problem.column}" if problem.column else "")
        click.echo(f"problem: {where}: {problem.message}", err=True)


@click.command("import-records")
@click.argument("paths", nargs=-1, required=True, type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--dry-run", is_flag=True, help="Show what would change; write nothing.")
@click.option("--as", "as_email", help="The account the changes are recorded as (and whose case limits apply).")
@click.option("--max-rows", type=int, default=None, help="Row limit (default: IMPORT_CLI_MAX_ROWS).")
@click.option("--verbose", "-v", is_flag=True, help="List every change.")
@with_appcontext
def import_records_command(paths: tuple[Path, ...], dry_run: bool, as_email: str | None, max_rows: int | None,
                           verbose: bool) -> None:
    """Import defendants, measures, hearings... from .xlsx or CSV files (see docs/import.md)."""
    user = None
    if as_email:
        user = accounts.find_user(db.session, as_email)
        if user is None or not user.active:
            raise click.ClickException(f"No active account {as_email}.")
    files = [UploadedFile(p.name, p.read_bytes()) for p in paths]
    now = utcnow()
    started = time.perf_counter()
    try:
        plan = plan_files(db.session, files, user=user, now=now,
                          max_rows=max_rows or current_app.config["IMPORT_CLI_MAX_ROWS"],
                          default_timezone=current_app.config["DEFAULT_TIMEZONE"])
    except FileRejected as error:
        raise click.ClickException(str(error)) from None
    click.echo(f"dry run of {plan.rows} rows in {time.perf_counter() - started:.1f} s")
    _report(plan, verbose)
    if not plan.ok:
        db.session.rollback()
        raise click.ClickException(f"{len(plan.problems)} problem(s): nothing imported.")
    if dry_run or not plan.changes:
        db.session.rollback()
        click.echo("nothing written" + (" (dry run)" if dry_run else ": no changes"))
        return

    def progress(done: int, total: int) -> None:
        click.echo(f"\rapplying: {done}/{total} changes", nl=done == total, err=True)
        sys.stderr.flush()

    try:
        apply_plan(db.session, plan, user=user, now=now, progress=progress)
    except ImportFailed as error:
        db.session.rollback()
        where = f"{error.item.source}, row {error.item.row}: " if error.item else ""
        raise click.ClickException(f"{where}{error.message} Nothing imported.") from None
    db.session.commit()
    click.echo(f"imported {plan.changes} changes in {time.perf_counter() - started:.1f} s")


@click.command("export-records")
@click.argument("path", type=click.Path(dir_okay=False, writable=True, path_type=Path))
@with_appcontext
def export_records_command(path: Path) -> None:
    """Write every record, private fields included, to an .xlsx workbook the import reads back."""
    data = full_export(db.session)
    db.session.rollback()
    path.write_bytes(data)
    path.chmod(0o600)  # private fields: readable by its owner only
    click.echo(f"wrote {path} ({len(data) // 1024} KiB)")
