"""Import pages (editors) and the full export (admins). Thin: read the request, call, render.

Upload -> dry run (nothing written; the files are kept for the confirmation) -> confirm
(the plan is made again in the import's transaction; refused when it differs from the
dry run shown) -> applied through the editing services, committed, files deleted.
"""
from __future__ import annotations

from datetime import timedelta

from flask import (
    Blueprint,
    Response,
    abort,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    stream_with_context,
    url_for,
)
from markupsafe import escape
from flask_babel import gettext as _
from flask_login import current_user

from tracker.access import admin_required, editor_required
from tracker.exchange import columns, export, uploads
from tracker.exchange.apply import DryRunChanged, ImportFailed, apply_steps, dry_run, replan
from tracker.exchange.forms import ConfirmForm, UploadForm
from tracker.exchange.reading import FileRejected, UploadedFile
from tracker.extensions import db, utcnow

bp = Blueprint("exchange", __name__)

FORM_OVERHEAD = 16 * 1024  # the multipart envelope and the CSRF token around the files
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def _settings() -> dict:
    config = current_app.config
    return {"max_rows": config["IMPORT_MAX_ROWS"], "default_timezone": config["DEFAULT_TIMEZONE"]}


def _max_age() -> timedelta:
    return timedelta(minutes=current_app.config["IMPORT_UPLOAD_MAX_AGE_MINUTES"])


def _page(form: UploadForm, status: int = 200, **context):  # noqa: ANN202
    return render_template("exchange/import.html", form=form, tables=columns.TABLES, **context), status


def limit_upload_size() -> None:
    """Before anything reads the body (the CSRF check does): an upload is bounded by IMPORT_MAX_BYTES."""
    if request.endpoint != "exchange.upload" or request.method != "POST":
        return
    limit = current_app.config["IMPORT_MAX_BYTES"] + FORM_OVERHEAD
    request.max_content_length = limit  # also bounds a body sent without Content-Length
    if request.content_length is not None and request.content_length > limit:
        abort(413, description=_("The upload is too big: at most %(mb)s MB. Split it into several files.",
                                 mb=f"{current_app.config['IMPORT_MAX_BYTES'] / (1024 * 1024):g}"))


def _uploaded_files(form: UploadForm) -> list[UploadedFile]:
    files = []
    for storage in form.files.data or []:
        if storage and storage.filename:
            files.append(UploadedFile(storage.filename.rsplit("/", 1)[-1].rsplit("\\", 1)[-1], storage.read()))
    return files


@bp.route("/edit/import", methods=["GET", "POST"])
@editor_required
def upload():
    form = UploadForm()
    submitted = form.validate_on_submit()
    if not submitted:
        return _page(form, 422 if form.errors else 200)
    files = _uploaded_files(form)
    if not files:
        form.files.errors = [_("Choose a file to import.")]
        return _page(form, 422)
    now = utcnow()
    uploads.purge_uploads(db.session, now, _max_age())
    db.session.commit()
    try:
        plan = dry_run(db.session, files, user=current_user, now=now, **_settings())
    except FileRejected as error:
        db.session.rollback()
        form.files.errors = [str(error)]
        return _page(form, 422)
    db.session.rollback()  # the dry run never writes; end its read transaction
    confirm = None
    if plan.ok and plan.changes:
        token = uploads.store_upload(db.session, files, user=current_user, now=now)
        db.session.commit()
        confirm = ConfirmForm(formdata=None, token=token, files_sha256=uploads.files_digest(files),
                              plan_sha256=plan.digest)
    return render_template("exchange/dry_run.html", plan=plan, confirm=confirm, files=files,
                           tables=columns.TABLES), 200 if plan.ok else 422


@bp.post("/edit/import/confirm")
@editor_required
def confirm():
    form = ConfirmForm()
    if not form.validate_on_submit():
        return _expired()
    now = utcnow()
    files = uploads.load_upload(db.session, form.token.data, user=current_user, now=now, max_age=_max_age())
    if files is None or uploads.files_digest(files) != form.files_sha256.data:
        db.session.rollback()
        return _expired()
    try:
        plan = replan(db.session, files, user=current_user, now=now, expected_digest=form.plan_sha256.data,
                      **_settings())
    except DryRunChanged as changed:
        db.session.rollback()
        fresh = ConfirmForm(formdata=None, token=form.token.data, files_sha256=form.files_sha256.data,
                            plan_sha256=changed.plan.digest)
        return render_template("exchange/dry_run.html", plan=changed.plan, files=files, tables=columns.TABLES,
                               confirm=fresh if changed.plan.ok and changed.plan.changes else None,
                               changed=True), 409
    except FileRejected as error:
        db.session.rollback()
        return render_template("exchange/failed.html", error=error, item=None), 422
    if plan.changes >= current_app.config["IMPORT_PROGRESS_FROM"]:
        return _streamed_import(plan, form.token.data, now)
    try:
        for _progress in apply_steps(db.session, plan, user=current_user, now=now):
            pass
    except ImportFailed as error:
        db.session.rollback()
        return render_template("exchange/failed.html", error=error, item=error.item), 422
    uploads.delete_upload(db.session, form.token.data)
    db.session.commit()
    flash(_summary(plan))
    return redirect(url_for("editing.dashboard"))


def _summary(plan) -> str:  # noqa: ANN001
    counts = plan.counts().values()
    return _("Imported: %(created)d created, %(updated)d updated.", created=sum(c["create"] for c in counts),
             updated=sum(c["update"] for c in counts))


def _streamed_import(plan, token: str, now) -> Response:  # noqa: ANN001
    """A large import: the page shows its progress while the changes are applied, then the outcome.

    The status (200) is sent before the outcome is known, so the page itself says whether
    the import was committed or rolled back. No script: each line is plain HTML, streamed.
    """
    user = current_user._get_current_object()
    head, tail = render_template("exchange/importing.html", total=plan.changes).split("<!-- progress -->")

    def lines():  # noqa: ANN202
        yield head
        try:
            for done, total in apply_steps(db.session, plan, user=user, now=now):
                yield f'<li>{escape(_("%(done)d of %(total)d changes", done=done, total=total))}</li>\n'
            uploads.delete_upload(db.session, token)
            db.session.commit()
            outcome = render_template("exchange/_import_outcome.html", message=_summary(plan), error=None)
        except ImportFailed as error:
            db.session.rollback()
            outcome = render_template("exchange/_import_outcome.html", message=None, error=error)
        yield tail.replace("<!-- outcome -->", outcome)

    return Response(stream_with_context(lines()), mimetype="text/html", headers={
        "Cache-Control": "no-store", "X-Accel-Buffering": "no"})  # nginx: pass each line on at once


def _expired():  # noqa: ANN202
    form = UploadForm(formdata=None)
    form.files.errors = [_("This dry run has expired or was already imported. Upload the file again.")]
    return _page(form, 400)


@bp.get("/edit/import/template.xlsx")
@editor_required
def template_xlsx() -> Response:
    return Response(export.template_xlsx(), mimetype=XLSX,
                    headers={"Content-Disposition": "attachment; filename=tracker-import-template.xlsx"})


@bp.get("/edit/import/template.csv")
@editor_required
def template_csv() -> Response:
    return Response(export.template_csv(), mimetype="text/csv; charset=utf-8",
                    headers={"Content-Disposition": "attachment; filename=defendants.csv"})


@bp.get("/admin/export.xlsx")
@admin_required
def full_export() -> Response:
    """Everything, private fields included: never cached, never public."""
    day = utcnow().date().isoformat()
    data = export.full_export(db.session)
    db.session.rollback()
    return Response(data, mimetype=XLSX, headers={
        "Content-Disposition": f"attachment; filename=tracker-export-{day}.xlsx",
        "Cache-Control": "no-store, private",
    })
