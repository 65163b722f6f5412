"""What every editing page does with a form: the blueprint and the steps the views share.

A form that fails validation is shown again with everything typed and the reason
next to each field (422). A save over someone else's newer change is refused and
shown again with what changed in between (409).
"""
from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from flask import Blueprint, abort, flash, redirect, render_template, request
from werkzeug.wrappers import Response

from tracker.editing import history, services
from tracker.editing.forms import CancelForm, ExtendForm, MarkHeldForm, PostponeForm
from tracker.extensions import db
from tracker.forms import Form, form_status

bp = Blueprint("editing", __name__, url_prefix="/edit")
# Quick-action forms share a page with the full form: prefixes keep their field ids apart.
PREFIX = {PostponeForm: "postpone", MarkHeldForm: "held", CancelForm: "cancel", ExtendForm: "extend"}

T = TypeVar("T")
R = TypeVar("R")
F = TypeVar("F", bound=Form)


def get_or_404(model: type[R], ident: int) -> R:
    return db.session.get(model, ident) or abort(404)


def page_status(form: Form, report: services.ConflictReport | None = None) -> int:
    """409 after a conflict, 422 when the form came back with errors, else 200."""
    return 409 if report else form_status(form)


def render_page(template: str, form: Form, report: services.ConflictReport | None = None,
                **context: Any) -> tuple[str, int]:
    return render_template(template, form=form, conflict=report, **context), page_status(form, report)


def load_form(form_class: type[F], record: Any, *, version: int, enums: tuple[str, ...] = (), **kw: Any) -> F:
    """The form for changing `record`: filled from it on GET (an enum field by its value), as
    sent on POST; `version` is what the record's owner was at, for the conflict check."""
    if request.method == "POST":
        return form_class(**kw)
    form = form_class(obj=record, **kw)
    for name in enums:
        getattr(form, name).data = getattr(record, name).value
    form.version.data = str(version)
    return form


def _domain_error(form: Form, error: services.DomainError) -> None:
    db.session.rollback()  # nothing half-changed may be flushed while the page is drawn again
    target = getattr(form, error.field, None) if error.field else None
    if target is None:
        form.form_errors.append(error.message)
    else:
        target.errors = list(target.errors) + [error.message]


def _conflict(form: Form, conflict: services.EditConflict) -> services.ConflictReport:
    """Keep what the editor typed, show what was saved meanwhile, and let them save again."""
    db.session.rollback()
    report = services.explain_conflict(db.session, conflict)
    report.entries = history.describe(db.session, report.entries)  # in the same words as the history
    form.version.data = str(report.current_version)
    return report


def save(
    form: Form, call: Callable[[], T], *, message: str | Callable[[T], str], to: str | Callable[[T], str]
) -> tuple[Response | None, services.ConflictReport | None]:
    """Run one service call for a submitted form and settle its three outcomes in one place.

    Returns (redirect, None) once saved; (None, report) on a conflict, so the caller reloads
    its record and shows what changed meanwhile (409); (None, None) when the service refused,
    with the reason already next to its field (422). `message` and `to` may be functions of
    what the call returned, for what exists only once it has run (a new record's id).
    """
    try:
        result = call()
    except services.DomainError as error:
        _domain_error(form, error)
        return None, None
    except services.EditConflict as conflict:
        return None, _conflict(form, conflict)
    db.session.commit()
    flash(message(result) if callable(message) else message)
    return redirect(to(result) if callable(to) else to), None


def create(
    form: Form, call: Callable[[], T], *, message: str, to: Callable[[T], str], template: str, **context: Any,
) -> Response | tuple[str, int]:
    """A page that adds a record: once the form validates, `save` the call and go to the new
    record (`to` of what the call returned); otherwise the page again."""
    if form.validate_on_submit():
        done, _report = save(form, call, message=message, to=to)
        if done:
            return done
    return render_page(template, form, **context)


def submit(
    form: Form, record: R, reload: Callable[[], R], call: Callable[[R], T], *,
    message: str | Callable[[T], str], to: str | Callable[[T], str],
) -> tuple[Response | None, R, services.ConflictReport | None]:
    """A change to an existing record, once its form validates: `save` the call, and after a
    conflict `reload` the record, so the page shows its newer state.

    Returns (redirect or None, the record to show, the conflict report or None).
    """
    if not form.validate_on_submit():
        return None, record, None
    done, report = save(form, lambda: call(record), message=message, to=to)
    if report is not None:
        record = reload()
    return done, record, report
