"""Accounts: passwords, invitations, password resets.

Plain functions on the session, so the CLI, the web views and tests share them.
Links in emails are signed tokens that carry their own expiry (computed from
`now`) and a fingerprint of the current password hash: setting a password makes
every older link useless, so each link works once.
"""
from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime, timedelta

import sqlalchemy as sa
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from flask import current_app, render_template
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from itsdangerous import BadSignature, URLSafeSerializer
from sqlalchemy.orm import Session, selectinload

from tracker.auth.models import Role, User, new_feed_token, new_login_id
from tracker.links import external_url
from tracker.mail.addresses import InvalidEmail, normalise_email
from tracker.mail.language import in_language, known_language
from tracker.mail.outbox import enqueue_email
from tracker.records.models import Case

MIN_PASSWORD_LENGTH = 10
_hasher = PasswordHasher()
# Verified when the email is unknown, so a wrong address costs as long as a wrong password.
_DUMMY_HASH = _hasher.hash("not a real password, only for timing")


class AccountError(ValueError):
    """A request about accounts that cannot be honoured; the message is shown to the user."""


# --- passwords -----------------------------------------------------------------------


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def check_password_strength(password: str) -> None:
    if len(password) < MIN_PASSWORD_LENGTH:
        raise AccountError(_("Use at least %(num)d characters.", num=MIN_PASSWORD_LENGTH))
    if len(password) > 1000:
        raise AccountError(_("Use at most 1000 characters."))


def set_password(user: User, password: str) -> None:
    """A new password also ends every session: whoever knew the old one (or stole a
    session or a "Stay logged in" cookie made with it) is logged out."""
    check_password_strength(password)
    user.password_hash = hash_password(password)
    end_all_sessions(user)


def end_all_sessions(user: User) -> None:
    """Log the account out on every device: sessions and remember cookies carry the login
    id (User.get_id), and no account has the old one any more. The caller commits."""
    user.login_id = new_login_id()


def login_key(email: str) -> str:
    """The address an account would hold for what someone typed; lower-cased as typed when it is
    no address at all (a lookup then finds nothing, and failed logins are still counted by it)."""
    try:
        return normalise_email(email)
    except InvalidEmail:
        return email.strip().lower()


def find_user(session: Session, email: str) -> User | None:
    """The account with this address. Accounts made before addresses had one rule
    (tracker.mail.addresses) hold it lower-cased as typed, which differs from the rule
    only for an internationalised domain: that spelling is looked up too."""
    forms = {login_key(email), email.strip().lower()}
    return session.scalar(sa.select(User).where(User.email.in_(sorted(forms))))


def authenticate(session: Session, email: str, password: str, now: datetime) -> User | None:
    """The active account with this email and password, or None (and the reason stays vague)."""
    user = find_user(session, email)
    if user is None or not user.password_hash or not user.active:
        try:
            _hasher.verify(_DUMMY_HASH, password)
        except VerificationError:
            pass
        return None
    try:
        _hasher.verify(user.password_hash, password)
    except (VerificationError, InvalidHashError):
        return None
    if _hasher.check_needs_rehash(user.password_hash):
        user.password_hash = hash_password(password)
    user.last_login_at = now
    return user


def create_user(
    session: Session,
    email: str,
    *,
    role: Role = Role.EDITOR,
    password: str | None = None,
    name: str = "",
    cases: list[Case] | None = None,
    language: str | None = None,
    now: datetime,
) -> User:
    try:
        email = normalise_email(email)
    except InvalidEmail as error:
        raise AccountError(str(error)) from None
    if find_user(session, email) is not None:
        raise AccountError(_("An account with this email already exists."))
    user = User(email=email, name=name.strip(), role=role, cases=list(cases or []), created_at=now,
                language=known_language(language))
    if password is not None:
        set_password(user, password)
    session.add(user)
    session.flush()
    return user


# --- signed links --------------------------------------------------------------------

INVITATION, PASSWORD_RESET = "invitation", "password-reset"


def _serializer(purpose: str) -> URLSafeSerializer:
    return URLSafeSerializer(current_app.config["SECRET_KEY"], salt=f"tracker-{purpose}")


def _fingerprint(user: User) -> str:
    return hashlib.sha256((user.password_hash or "-").encode()).hexdigest()[:16]


def make_token(user: User, purpose: str, now: datetime) -> str:
    hours = current_app.config[
        "INVITATION_MAX_AGE_HOURS" if purpose == INVITATION else "PASSWORD_RESET_MAX_AGE_HOURS"
    ]
    expires = int((now + timedelta(hours=hours)).timestamp())
    return _serializer(purpose).dumps({"u": user.id, "p": _fingerprint(user), "e": expires})


def user_for_token(session: Session, token: str, purpose: str, now: datetime) -> User:
    """The account a link was made for, or AccountError saying why the link no longer works."""
    try:
        data = _serializer(purpose).loads(token)
    except BadSignature:
        raise AccountError(_("This link is not valid. Ask for a new one.")) from None
    if not isinstance(data, dict) or not {"u", "p", "e"} <= data.keys():
        raise AccountError(_("This link is not valid. Ask for a new one."))
    if now.timestamp() > data["e"]:
        raise AccountError(_("This link has expired. Ask for a new one."))
    user = session.get(User, data["u"])
    if user is None or not user.active or data["p"] != _fingerprint(user):
        raise AccountError(_("This link has already been used or was replaced by a newer one."))
    return user


def invite_editor(
    session: Session,
    email: str,
    *,
    name: str = "",
    cases: list[Case] | None = None,
    role: Role = Role.EDITOR,
    language: str | None = None,
    by: User,
    now: datetime,
) -> User:
    """Create an account without a password and put the invitation in the outbox.

    `language`: the new account's, which its invitation is written in (the admin chooses;
    the editor can change it on their account page).
    """
    user = create_user(session, email, role=role, name=name, cases=cases, language=language, now=now)
    send_invitation(session, user, by=by, now=now)
    return user


def _mail_link(
    session: Session, user: User, purpose: str, now: datetime, *, endpoint: str, kind: str, hours: int,
    subject: object, template: str, **context: object,
) -> None:
    """Put an email with a signed, expiring, single-use link for `purpose` in the outbox.

    Written in the account's language (`subject` is a lazy string, translated there). The
    outbox row expires with the link: a message delayed past it would only frustrate.
    """
    link = external_url(endpoint, token=make_token(user, purpose, now))
    with in_language(user.language):
        subject_text = str(subject)
        text_body = render_template(template, user=user, link=link, hours=hours, **context)
    enqueue_email(
        session,
        dedupe_key=f"{kind.replace('_', '-')}:{user.id}:{int(now.timestamp())}",
        kind=kind,
        recipient=user.email,
        subject=subject_text,
        text_body=text_body,
        now=now,
        expires_at=now + timedelta(hours=hours),
    )


def send_invitation(session: Session, user: User, *, by: User, now: datetime) -> None:
    if user.password_hash:
        raise AccountError(_("This account already has a password; it can reset it from the login page."))
    _mail_link(session, user, INVITATION, now, endpoint="auth.accept_invitation", kind="invitation",
               hours=current_app.config["INVITATION_MAX_AGE_HOURS"],
               subject=_l("You are invited to edit the prisoner support tracker"),
               template="auth/mail/invitation.txt", by=by)


def request_password_reset(session: Session, email: str, now: datetime) -> bool:
    """Put a reset link in the outbox when an active account with a password has this email.

    The caller shows the same message either way, so nobody learns which emails have accounts.
    """
    user = find_user(session, email)
    if user is None or not user.active or not user.password_hash:
        return False
    _mail_link(session, user, PASSWORD_RESET, now, endpoint="auth.reset_password", kind="password_reset",
               hours=current_app.config["PASSWORD_RESET_MAX_AGE_HOURS"],
               subject=_l("Reset your password for the prisoner support tracker"),
               template="auth/mail/password_reset.txt")
    return True


def set_language(user: User, language: str) -> None:
    """The language of the account's emails from now on (alerts, password resets)."""
    user.language = known_language(language)


# --- administration ------------------------------------------------------------------


def all_accounts(session: Session) -> list[User]:
    return list(session.scalars(sa.select(User).options(selectinload(User.cases)).order_by(User.email)))


@dataclass
class AccountChanges:
    role: Role
    active: bool
    cases: list[Case]


def update_account(session: Session, user: User, changes: AccountChanges, *, by: User) -> User:
    if user.id == by.id and (not changes.active or changes.role is not Role.ADMIN):
        raise AccountError(_("You cannot deactivate your own account or remove your own admin role."))
    user.role = changes.role
    user.active = changes.active
    user.cases = list(changes.cases)
    if not changes.active:
        user.feed_token = None  # a deactivated account's private feed stops at once
        end_all_sessions(user)  # and its sessions and cookies stay dead if it is reactivated
    elif user.feed_token is None:
        user.feed_token = new_feed_token()
    return user