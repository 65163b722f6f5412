"""Sign-up, confirmation, manage/unsubscribe pages, and the admins' page for the practical notes.

Thin: parse the form, call `reminders.subscriptions`, commit, flash, redirect.
"""
from __future__ import annotations

import re

from flask import Blueprint, current_app, flash, redirect, render_template, request, session, url_for
from flask_babel import get_locale
from flask_babel import gettext as _
from markupsafe import Markup, escape
from sqlalchemy.exc import IntegrityError
from wtforms import SelectChoice

from tracker.access import admin_required, public, token_access
from tracker.caching import cacheable_page, private_page
from tracker.forms import public_form_token, sessionless_csrf
from tracker.i18n import lazy_text
from tracker.extensions import csrf, db, limiter, utcnow
from tracker.links import safe_next
from tracker.mail.addresses import InvalidEmail
from tracker.mail.language import language_choices
from tracker.records.models import Case, Defendant
from tracker.records.names import escape_text, first_script
from tracker.reminders import markup, subscriptions
from tracker.reminders.forms import ManageForm, NotesForm, SignupForm
from tracker.reminders.models import Scope
from tracker.reminders.notes import practical_notes, save_practical_notes

bp = Blueprint("reminders", __name__, url_prefix="/reminders")
SIGNED_UP_KEY = "reminders_signed_up"  # the address just signed up, shown once on the outcome page


def follow_choices(feed_scope: tuple[str, object] | None) -> list[SelectChoice]:
    """What a sign-up form on this page can follow: the page's own subject, or everything."""
    kind, thing = feed_scope or ("all", None)
    choices = []
    if kind == "defendant" and thing is not None:
        choices.append(SelectChoice(f"defendant:{thing.slug}", _("Hearings of %(name)s", name=first_script(thing.name_latin, thing.name_original))))
    elif kind == "case" and thing is not None:
        choices.append(SelectChoice(f"case:{thing.slug}", _("Hearings in the case “%(title)s”", title=first_script(thing.title, thing.title_original))))
    choices.append(SelectChoice("all", _("All public hearings")))
    return choices


def signup_form(feed_scope: tuple[str, object] | None = None, next_url: str | None = None) -> SignupForm:
    form = SignupForm(formdata=None)
    form.follow.choices = follow_choices(feed_scope)
    form.follow.data = form.follow.choices[0].value
    form.next.data = next_url or (request.full_path.rstrip("?") if request else "/")
    return form


# The blank sign-up form as written for a language, cut where pages differ: (script root,
# locale, number of follow choices) -> text and slots (VALUE/LABEL + n, TOKEN, NEXT) in turn.
_BLANK: dict[tuple[str, str, int], list[str]] = {}
VALUE, LABEL, TOKEN, NEXT = "\x01", "\x02", "\x03", "\x04"  # never in a form's text (they refuse controls)
_SLOT = re.compile("([\x01\x02]\\d+|\x03|\x04)")


def blank_signup(feed_scope: tuple[str, object] | None = None) -> Markup:
    """`markup.signup(signup_form(feed_scope))`, the blank form on most public pages, without
    making the form: written once per language (and number of things to follow) from a real
    `SignupForm`, then per page only its token (`PublicForm`'s, as the form would make it),
    where to go back, and what to follow are put in. Building the bound form and writing it
    was ~5% of a defendant's page; tests/reminders/test_signup_markup.py holds the two equal."""
    choices = follow_choices(feed_scope)
    key = (request.script_root, str(get_locale()), len(choices))
    pieces = _BLANK.get(key)
    if pieces is None:
        form = SignupForm(formdata=None)
        form.follow.choices = [SelectChoice(f"{VALUE}{n}", f"{LABEL}{n}") for n in range(len(choices))]
        form.follow.data = form.follow.choices[0].value
        form.next.data = NEXT
        form.csrf_token.current_token = TOKEN
        pieces = _BLANK[key] = _SLOT.split(str(markup.signup(form)))
    filled = {TOKEN: escape_text(public_form_token(SignupForm.__name__, utcnow())),
              NEXT: escape_text(request.full_path.rstrip("?"))}
    for number, choice in enumerate(choices):
        filled[f"{VALUE}{number}"] = escape_text(str(choice.value))
        filled[f"{LABEL}{number}"] = str(escape(lazy_text(choice.label)))
    return Markup("".join(piece if at % 2 == 0 else filled[piece] for at, piece in enumerate(pieces)))


def _resolve(follow: str) -> tuple[Scope, Case | None, Defendant | None] | None:
    if follow == "all":
        return Scope.ALL, None, None
    kind, _sep, slug = follow.partition(":")
    if kind == "case" and slug:
        case = db.session.scalar(db.select(Case).where(Case.slug == slug))
        return (Scope.CASE, case, None) if case is not None else None
    if kind == "defendant" and slug:
        person = db.session.scalar(
            db.select(Defendant).where(Defendant.slug == slug, Defendant.is_public.is_(True))
        )
        return (Scope.DEFENDANT, None, person) if person is not None else None
    return None


def _safe_next(value: str | None) -> str:
    """Where the form was: a path on this site (the one check, auth's), or the home page."""
    return safe_next(value, request.host_url) or url_for("records.index")


def _signup_limit() -> str:
    return current_app.config["REMINDER_SIGNUP_LIMIT"]


@bp.route("/signup", methods=["GET", "POST"])
@limiter.limit(_signup_limit, methods=["POST"])
@sessionless_csrf
@public
@cacheable_page()
def signup():
    form = SignupForm()
    target = _resolve(request.values.get("follow", "all"))
    scope, case, person = target or (Scope.ALL, None, None)
    scope_of_page = ("defendant", person) if person else ("case", case) if case else ("all", None)
    form.follow.choices = follow_choices(scope_of_page)
    if request.method != "POST":
        form = signup_form(scope_of_page, request.args.get("next"))
        return render_template("reminders/signup.html", form=form)
    if target is None:  # a defendant or case that is gone, or was never public
        form.validate()
        form.follow.data = "all"
        form.follow.errors = [_("This is no longer on the site; you can follow all public hearings instead.")]
        return render_template("reminders/signup.html", form=form), 400
    if not form.validate():
        return render_template("reminders/signup.html", form=form), 400
    try:
        subscriptions.sign_up(
            db.session, email=form.email.data, scope=scope, case=case, defendant=person,
            lead_minutes=form.leads.data or [], digest=form.mode.data == "digest", now=utcnow(),
            language=str(get_locale()),  # the page's language: every email to this sign-up is in it
        )
        db.session.commit()
    except InvalidEmail as error:
        db.session.rollback()
        form.email.errors = [*form.email.errors, str(error)]
        return render_template("reminders/signup.html", form=form), 400
    except IntegrityError:  # the same sign-up sent twice at once: the first one won
        db.session.rollback()
    # The outcome gets a page of its own: back on the form's page, a phone shows a fresh
    # empty form while a note sits off-screen, and people submit again. The address they
    # typed is shown back (a typo is seen at once); the page is the same whether it was
    # new, unconfirmed or already following.
    session[SIGNED_UP_KEY] = form.email.data.strip()
    return redirect(url_for("reminders.signed_up", next=_safe_next(form.next.data)))



@bp.get("/signed-up")
@public
@private_page
def signed_up():
    # pop only what is there: popping from an empty session would answer with a cookie
    address = session.pop(SIGNED_UP_KEY) if SIGNED_UP_KEY in session else None
    return render_template(
        "reminders/signed_up.html", address=address,
        back=_safe_next(request.args.get("next")), valid_days=subscriptions.CONFIRM_DAYS,
    )


@bp.route("/confirm/<signed>", methods=["GET", "POST"])
@token_access
def confirm(signed: str):
    """GET and HEAD show a button; only its POST confirms.

    Mail scanners and security gateways fetch links (HEAD or GET, no cookie); they do
    not press buttons. Anything but a POST must leave the sign-up unconfirmed.
    """
    now = utcnow()
    if request.method != "POST":
        try:
            subscription = subscriptions.check_confirm_link(db.session, signed, now)
        except (subscriptions.BadLink, subscriptions.ExpiredLink) as error:
            return render_template("reminders/link_error.html", message=str(error)), 404
        return render_template(
            "reminders/confirm.html", signed=signed, what=subscriptions.describe(subscription),
            confirmed=subscription.is_confirmed,
        )
    try:
        subscription = subscriptions.confirm(db.session, signed, now)
    except (subscriptions.BadLink, subscriptions.ExpiredLink) as error:
        return render_template("reminders/link_error.html", message=str(error)), 404
    db.session.commit()
    what = subscriptions.describe(subscription)
    flash(_("Confirmed: you will get reminders for %(what)s.", what=what), "success")
    return redirect(url_for("reminders.manage", token=subscription.token))


def _stopped():
    """An old email's link to reminders that no longer exist: say so, and offer to sign up again.

    We keep nothing about an address that left (or never confirmed), so this is all we can say.
    """
    return render_template("reminders/stopped.html"), 404


def masked(email: str) -> str:
    local, _sep, domain = email.partition("@")
    return f"{local[:1]}…@{domain}"


@bp.route("/manage/<token>", methods=["GET", "POST"])
@token_access
def manage(token: str):
    subscription = subscriptions.find_by_token(db.session, token)
    if subscription is None:
        return _stopped()
    if subscription.scope is Scope.HEARING:  # an attendance: its own page (tracker/attendance)
        return redirect(subscriptions.manage_url(subscription))
    form = ManageForm(obj=None, language=subscription.language)  # a form sent without it keeps it
    form.language.choices = language_choices()
    if request.method != "POST":
        form.mode.data = "digest" if subscription.digest else "each"
        form.leads.data = list(subscription.lead_minutes)
    elif form.validate():
        subscriptions.change_choices(subscription, lead_minutes=form.leads.data or [],
                                     digest=form.mode.data == "digest", language=form.language.data)
        db.session.commit()
        flash(_("Saved."), "success")
        return redirect(url_for("reminders.manage", token=token))
    status = 200 if request.method != "POST" else 400
    return render_template(
        "reminders/manage.html", form=form, subscription=subscription, address=masked(subscription.email),
        what=subscriptions.describe(subscription),
    ), status


@bp.route("/unsubscribe/<token>", methods=["GET", "POST"])
@csrf.exempt
@token_access
def unsubscribe(token: str):
    """RFC 8058 one-click unsubscribe: a POST with no cookie and no CSRF token must work.

    A GET or HEAD (a mail scanner, a preview, a link checker) only leads to the manage
    page. The token in the
    path is the credential; CSRF protection adds nothing for a request that can only
    remove the token holder's own subscription.
    """
    if request.method != "POST":
        return redirect(url_for("reminders.manage", token=token))
    subscription = subscriptions.find_by_token(db.session, token)
    if subscription is not None:
        subscriptions.unsubscribe(db.session, subscription)
        db.session.commit()
    if request.form.get("List-Unsubscribe") == "One-Click":
        return _("You are unsubscribed."), 200, {"Content-Type": "text/plain; charset=utf-8"}
    return render_template("reminders/unsubscribed.html")


# --- admins ----------------------------------------------------------------------------


@bp.route("/admin/notes", methods=["GET", "POST"])
@admin_required
def admin_notes():
    form = NotesForm()
    if request.method != "POST":
        form.notes.data = practical_notes(db.session)
    elif form.validate():
        save_practical_notes(db.session, form.notes.data or "")
        db.session.commit()
        flash(_("Saved: the next reminders carry these notes."), "success")
        return redirect(url_for("reminders.admin_notes"))
    return render_template("reminders/admin_notes.html", form=form), 200 if request.method != "POST" else 400
