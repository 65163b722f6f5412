"""Accounts (invite, change, resend an invitation), the audit trail, and the outbox's failed
messages. Thin: read the form, call one function, commit, flash, redirect."""
from __future__ import annotations

from collections.abc import Callable

from flask import Blueprint, abort, flash, redirect, render_template, url_for
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_login import current_user
from werkzeug.wrappers import Response
from wtforms import Field, SelectChoice

from tracker.access import admin_required
from tracker.admin.outbox_labels import kind_label, status_label
from tracker.auth import logic
from tracker.auth.forms import AccountForm, InviteForm
from tracker.auth.models import Role, User
from tracker.edge import query_id
from tracker.editing import audit, history
from tracker.extensions import db, utcnow
from tracker.forms import form_status
from tracker.mail.language import language_choices
from tracker.mail.outbox import failed_messages, outbox_counts, retry_failed
from tracker.records.queries import all_cases, cases_by_id
from tracker.records.names import first_script

bp = Blueprint("admin", __name__)
AUDIT_PAGE = 100  # changes per page of the audit trail


def _case_choices() -> list[SelectChoice]:
    return [SelectChoice(c.id, first_script(c.title, c.title_original)) for c in all_cases(db.session)]


def _account_saved(field: Field, call: Callable[[], User], message: Callable[[User], str]) -> Response | None:
    """Run one change to an account; its refusal goes next to `field`, a success back to the list."""
    try:
        user = call()
    except logic.AccountError as error:
        field.errors.append(str(error))
        return None
    db.session.commit()
    flash(message(user))
    return redirect(url_for("admin.accounts"))


# --- accounts ---------------------------------------------------------------------------------


@bp.get("/admin/accounts")
@admin_required
def accounts():
    return render_template("admin/accounts.html", users=logic.all_accounts(db.session))


@bp.route("/admin/accounts/invite", methods=["GET", "POST"])
@admin_required
def invite():
    # the admin's own language is most likely the new editor's too (a form without it: that one)
    form = InviteForm(language=str(get_locale()))
    form.cases.choices = _case_choices()
    form.language.choices = language_choices()
    if form.validate_on_submit():
        done = _account_saved(form.email, lambda: logic.invite_editor(
            db.session, form.email.data, name=form.name.data or "", role=Role(form.role.data),
            cases=cases_by_id(db.session, form.cases.data), language=form.language.data, by=current_user,
            now=utcnow(),
        ), lambda user: _("Invitation for %(email)s is on its way.", email=user.email))
        if done:
            return done
    return render_template("admin/invite.html", form=form), form_status(form)


@bp.route("/admin/accounts/<int:user_id>", methods=["GET", "POST"])
@admin_required
def account(user_id: int):
    user = db.session.get(User, user_id) or abort(404)
    form = AccountForm(
        data={"role": user.role.value, "active": user.active, "cases": [c.id for c in user.cases]}
    )
    form.cases.choices = _case_choices()
    if form.validate_on_submit():
        changes = logic.AccountChanges(Role(form.role.data), form.active.data,
                                       cases_by_id(db.session, form.cases.data))
        done = _account_saved(form.active, lambda: logic.update_account(db.session, user, changes, by=current_user),
                              lambda user: _("Account %(email)s saved.", email=user.email))
        if done:
            return done
    return render_template("admin/account.html", form=form, user=user), form_status(form)


@bp.post("/admin/accounts/<int:user_id>/invitation")
@admin_required
def resend_invitation(user_id: int):
    user = db.session.get(User, user_id) or abort(404)
    try:
        logic.send_invitation(db.session, user, by=current_user, now=utcnow())
    except logic.AccountError as error:
        flash(str(error), "error")
    else:
        db.session.commit()
        flash(_("A new invitation for %(email)s is on its way.", email=user.email))
    return redirect(url_for("admin.account", user_id=user.id))


# --- the audit trail -----------------------------------------------------------------------------


@bp.get("/admin/audit")
@admin_required
def audit_feed():
    entries = audit.recent(db.session, before_id=query_id("before"), limit=AUDIT_PAGE)
    return render_template("admin/audit.html", entries=history.describe(db.session, entries), page_size=AUDIT_PAGE)


# --- the outbox ----------------------------------------------------------------------------------


@bp.get("/reminders/admin/outbox")
@admin_required
def outbox():
    return render_template("admin/outbox.html", failed=failed_messages(db.session),
                           counts=outbox_counts(db.session), status_label=status_label, kind_label=kind_label)


@bp.post("/reminders/admin/outbox/<int:message_id>/retry")
@admin_required
def retry_message(message_id: int):
    if not retry_failed(db.session, message_id, utcnow()):
        abort(404, description=_("There is no failed message with this number."))
    db.session.commit()
    flash(_("The message will be sent again within a minute."), "success")
    return redirect(url_for("admin.outbox"))
