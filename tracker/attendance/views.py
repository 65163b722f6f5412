"""Pages of "I'll be there": the sign-up, its outcome, the confirmation and withdraw links, and
the editors' list of those going with the message form.

Thin: parse the form, call `attendance.logic`, commit, flash, redirect. As with the
reminders, only a POST changes anything: a mail scanner's GET or HEAD of a link shows a
page with a button.
"""
from __future__ import annotations

from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, session, url_for
from flask_babel import gettext as _
from flask_babel import get_locale, ngettext
from flask_login import current_user
from sqlalchemy.exc import IntegrityError

from tracker.access import editor_required, public, require_edit, token_access
from tracker.attendance import logic
from tracker.attendance.forms import AttendForm, MessageForm
from tracker.caching import cacheable_page, private_page
from tracker.extensions import csrf, db, limiter, utcnow
from tracker.forms import sessionless_csrf
from tracker.mail.addresses import InvalidEmail
from tracker.records.models import Hearing
from tracker.reminders.subscriptions import CONFIRM_DAYS, BadLink, ExpiredLink

bp = Blueprint("attendance", __name__)
SIGNED_UP_KEY = "attendance_signed_up"  # (address, hearing id) just signed up, shown once


def _signup_limit() -> str:
    return current_app.config["REMINDER_SIGNUP_LIMIT"]  # the same bound as the reminders' sign-up


def _closed():
    """A hearing one cannot sign up for (past, moved away, cancelled, hidden, or none)."""
    return render_template("attendance/closed.html"), 404


@bp.route("/attend/<int:hearing_id>", methods=["GET", "POST"])
@limiter.limit(_signup_limit, methods=["POST"])
@sessionless_csrf
@public
@cacheable_page()
def attend(hearing_id: int):
    now = utcnow()
    # the page shows a line; the sign-up records the entity
    hearing = (logic.open_hearing if request.method == "POST" else logic.open_line)(db.session, hearing_id, now)
    if hearing is None:
        return _closed()
    form = AttendForm()
    count = logic.going_counts(db.session, [hearing.id]).get(hearing.id, 0)
    if request.method != "POST" or not form.validate():
        page = render_template("attendance/attend.html", form=form, hearing=hearing, going=count)
        return page, (400 if request.method == "POST" else 200)
    try:
        logic.sign_up(db.session, hearing=hearing, email=form.email.data, first_name=form.first_name.data or "",
                      now=now, language=str(get_locale()))
        db.session.commit()
    except InvalidEmail as error:
        db.session.rollback()
        form.email.errors = [*form.email.errors, str(error)]
        return render_template("attendance/attend.html", form=form, hearing=hearing, going=count), 400
    except IntegrityError:  # the same sign-up sent twice at once: the first one won
        db.session.rollback()
    session[SIGNED_UP_KEY] = form.email.data.strip()
    return redirect(url_for("attendance.signed_up", hearing_id=hearing.id))


@bp.get("/attend/<int:hearing_id>/signed-up")
@public
@private_page
def signed_up(hearing_id: int):
    # pop only what is there: popping from an empty session would answer with a cookie
    address = session.pop(SIGNED_UP_KEY) if SIGNED_UP_KEY in session else None
    return render_template("attendance/signed_up.html", address=address,
                           hearing_id=hearing_id, valid_days=CONFIRM_DAYS)


def _link_error(error: Exception):
    return render_template("attendance/link_error.html", message=str(error)), 404


@bp.route("/attend/confirm/<signed>", methods=["GET", "POST"])
@token_access
def confirm(signed: str):
    """GET and HEAD show a button; only its POST confirms (mail scanners fetch links)."""
    now = utcnow()
    try:
        attendance = (logic.check_link if request.method != "POST" else logic.confirm)(db.session, signed, now)
    except (BadLink, ExpiredLink) as error:
        return _link_error(error)
    if request.method != "POST":
        return render_template("attendance/confirm.html", signed=signed, attendance=attendance,
                               hearing=attendance.hearing)
    db.session.commit()
    flash(_("Confirmed: you are counted among those going. You will get the hearing's reminder and any "
            "change at once."), "success")
    return redirect(url_for("attendance.withdraw", token=attendance.token))


@bp.route("/attend/withdraw/<token>", methods=["GET", "POST"])
@csrf.exempt
@token_access
def withdraw(token: str):
    """The attendance's own page: what it is, and a button to withdraw.

    A POST withdraws: the button, or a mail program's RFC 8058 one-click unsubscribe
    (no cookie, no CSRF token: the token in the path is the credential, and it can only
    remove its holder's own attendance). GET and HEAD only show the page.
    """
    attendance = logic.find(db.session, token)
    if request.method != "POST":
        if attendance is None:
            return render_template("attendance/withdrawn.html", gone=True), 404
        return render_template("attendance/withdraw.html", attendance=attendance, hearing=attendance.hearing,
                               now=utcnow())
    if attendance is not None:
        logic.withdraw(db.session, attendance)
        db.session.commit()
    if request.form.get("List-Unsubscribe") == "One-Click":
        return _("You are no longer counted as going."), 200, {"Content-Type": "text/plain; charset=utf-8"}
    return render_template("attendance/withdrawn.html", gone=False)


@bp.route("/edit/hearings/<int:hearing_id>/attendees", methods=["GET", "POST"])
@editor_required
def attendees(hearing_id: int):
    """Who is going, for the editors of the hearing's defendants; and the message to them."""
    hearing = db.session.get(Hearing, hearing_id) or abort(404)
    require_edit(hearing)
    form = MessageForm()
    status = 200
    if request.method == "POST":
        status = 422
        if form.validate():
            try:
                written = logic.message_those_going(db.session, hearing, form.text.data, by=current_user,
                                                    now=utcnow())
            except logic.TooManyMessages as error:
                db.session.rollback()
                form.text.errors = [str(error)]
                status = 429
            else:
                db.session.commit()
                flash(ngettext("Sent to %(num)d person going.", "Sent to %(num)d people going.", written), "success")
                return redirect(url_for("attendance.attendees", hearing_id=hearing.id))
    people = logic.attendees(db.session, hearing)
    return render_template("attendance/attendees.html", hearing=hearing, people=people, form=form,
                           confirmed=sum(1 for p in people if p.is_confirmed),
                           sent=logic.messages_sent(db.session, hearing), now=utcnow()), status
