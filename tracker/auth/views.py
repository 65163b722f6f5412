"""Login, logout, invitations, password resets and one's own account page. Thin views.

The admins' account pages are in tracker/admin."""
from __future__ import annotations

from flask import Blueprint, current_app, flash, redirect, render_template, request, session, url_for
from flask_babel import gettext as _
from flask_limiter.util import get_remote_address
from flask_login import current_user, login_user, logout_user

from tracker.auth import logic
from tracker.access import editor_required, public, token_access
from tracker.auth.forms import LanguageForm, LoginForm, ResetRequestForm, SetPasswordForm
from tracker.auth.models import User
from tracker.extensions import db, limiter, utcnow
from tracker.forms import form_status
from tracker.links import safe_next
from tracker.mail.language import language_choices

bp = Blueprint("auth", __name__)


def _account_key() -> str:
    return "account:" + logic.login_key(request.form.get("email", ""))[:254]


def _address_key() -> str:
    return "address:" + (get_remote_address() or "unknown")


def _failed(response) -> bool:  # noqa: ANN001
    """Only failed attempts count: a successful login redirects."""
    return response.status_code != 302


def _too_many() -> str:
    return _("Too many failed attempts. Wait a few minutes, or reset your password.")


login_per_account = limiter.limit(
    lambda: current_app.config["LOGIN_LIMIT_PER_ACCOUNT"], key_func=_account_key, methods=["POST"],
    deduct_when=_failed, error_message=_too_many, scope="login-account",
)
login_per_address = limiter.limit(
    lambda: current_app.config["LOGIN_LIMIT_PER_ADDRESS"], key_func=_address_key, methods=["POST"],
    deduct_when=_failed, error_message=_too_many, scope="login-address",
)
reset_per_address = limiter.limit(
    lambda: current_app.config["PASSWORD_RESET_LIMIT"], key_func=_address_key, methods=["POST"],
    error_message=_too_many, scope="reset-address",
)


def _start_session(user: User, remember: bool = False) -> None:
    """Log in on a fresh session: nothing set before login (a planted session) survives it."""
    session.clear()
    login_user(user, remember=remember)
    session.permanent = False


@bp.route("/login", methods=["GET", "POST"])
@public
@login_per_account
@login_per_address
def login():
    form = LoginForm()
    next_url = safe_next(request.args.get("next"), request.host_url)
    if form.validate_on_submit():
        user = logic.authenticate(db.session, form.email.data, form.password.data, utcnow())
        if user is not None:
            db.session.commit()
            _start_session(user, remember=form.remember.data)
            flash(_("Logged in as %(email)s.", email=user.email))
            return redirect(next_url or url_for("editing.dashboard"))
        form.password.errors.append(_("Wrong email or password, or the account is deactivated."))
        return render_template("auth/login.html", form=form), 401
    return render_template("auth/login.html", form=form), form_status(form)


def _end_session() -> None:
    """Log out this browser: the session is emptied first, then `logout_user` marks the
    "Stay logged in" cookie for deletion (a flag in the session that clearing it afterwards
    would wipe, leaving the cookie to log the browser in again on the next request)."""
    session.clear()
    logout_user()


@bp.post("/logout")
@public
def logout():
    """Public so a stale session can always end; CSRF still applies. Other devices stay
    logged in; "log out everywhere" ends them too."""
    _end_session()
    flash(_("You are logged out."))
    return redirect(url_for("records.index"))


@bp.post("/account/logout-everywhere")
@editor_required
def logout_everywhere():
    """Every session and remember cookie of the account ends, this one included."""
    logic.end_all_sessions(current_user)
    db.session.commit()
    _end_session()
    flash(_("You are logged out on every device. Log in again with your password."))
    return redirect(url_for("records.index"))


def _set_password_page(purpose: str, token: str):
    now = utcnow()
    try:
        user = logic.user_for_token(db.session, token, purpose, now)
    except logic.AccountError as error:
        return render_template("auth/link_invalid.html", reason=str(error)), 400
    form = SetPasswordForm()
    if form.validate_on_submit():
        try:
            logic.set_password(user, form.password.data)
        except logic.AccountError as error:
            form.password.errors.append(str(error))
        else:
            user.last_login_at = now
            db.session.commit()
            _start_session(user)
            flash(_("Your password is set. You are logged in."))
            return redirect(url_for("editing.dashboard"))
    return render_template("auth/set_password.html", form=form, user=user, purpose=purpose), form_status(form)


@bp.route("/invitation/<token>", methods=["GET", "POST"])
@token_access
def accept_invitation(token: str):
    return _set_password_page(logic.INVITATION, token)


@bp.route("/password-reset/<token>", methods=["GET", "POST"])
@token_access
def reset_password(token: str):
    return _set_password_page(logic.PASSWORD_RESET, token)


@bp.route("/password-reset", methods=["GET", "POST"])
@public
@reset_per_address
def request_reset():
    form = ResetRequestForm()
    if form.validate_on_submit():
        logic.request_password_reset(db.session, form.email.data, utcnow())
        db.session.commit()
        flash(_("If an account uses this address, a link to set a new password is on its way."))
        return redirect(url_for("auth.login"))
    return render_template("auth/reset_request.html", form=form), form_status(form)


@bp.route("/account", methods=["GET", "POST"])
@editor_required
def me():
    """Who am I logged in as, which cases may I edit, and the language of my emails."""
    form = LanguageForm(language=current_user.language)
    form.language.choices = language_choices()
    if request.method == "POST" and form.validate():
        logic.set_language(current_user, form.language.data)
        db.session.commit()
        flash(_("Saved: your emails will be written in this language."), "success")
        return redirect(url_for("auth.me"))
    return render_template("auth/me.html", form=form), form_status(form)
