"""Volunteers' sign-ups: signing up, the confirmation link, the manage and unsubscribe
links, and forgetting an address for good. Plain functions on a session, given `now`.

Nothing here sends mail: every email becomes an outbox row in the caller's transaction
(`mail_subscriber`, the one way mail reaches a volunteer).
"""
from __future__ import annotations

import hashlib
import logging
from datetime import datetime, timedelta
from typing import Sequence

import sqlalchemy as sa
from flask import Flask, current_app
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from itsdangerous import BadSignature, URLSafeTimedSerializer
from sqlalchemy.orm import Session

from tracker.generation import bump_generation
from tracker.links import external_url
from tracker.mail.addresses import normalise_email
from tracker.mail.language import in_language, known_language, name_for, reads_latin
from tracker.mail.message import Mail
from tracker.mail.models import OutboxMessage
from tracker.mail.outbox import enqueue_email
from tracker.records.models import Case, Defendant, Hearing
from tracker.records.names import first_script
from tracker.reminders import compose
from tracker.reminders.models import ReminderDelivery, Scope, Subscription

log = logging.getLogger(__name__)

LEAD_CHOICES: list[tuple[int, object]] = [
    (7 * 24 * 60, _l("1 week before")),
    (3 * 24 * 60, _l("3 days before")),
    (24 * 60, _l("1 day before")),
    (3 * 60, _l("3 hours before")),
    (60, _l("1 hour before")),
]
LEAD_VALUES = {minutes for minutes, _label in LEAD_CHOICES}
DEFAULT_LEADS = [24 * 60, 3 * 60]
CONFIRM_DAYS = 7  # the confirmation link works this long; unconfirmed sign-ups are deleted after it
CONFIRM_RESEND = timedelta(minutes=10)  # at most one confirmation email per sign-up in this time



class BadLink(ValueError):
    """A confirmation link that was tampered with or belongs to a deleted sign-up."""


class ExpiredLink(ValueError):
    """A confirmation link older than CONFIRM_DAYS."""


def scope_key(
    scope: Scope, case: Case | None = None, defendant: Defendant | None = None, hearing: Hearing | None = None,
) -> str:
    if scope is Scope.HEARING:
        return f"hearing:{hearing.id}"
    if scope is Scope.CASE:
        return f"case:{case.id}"
    if scope is Scope.DEFENDANT:
        return f"defendant:{defendant.id}"
    return "all"


def describe(subscription: Subscription, language: str | None = None) -> str:
    """What the subscription follows, in words for emails and the manage page (in the
    current language; a defendant's name in the script of `language` when given)."""
    if subscription.scope is Scope.CASE and subscription.case is not None:
        case, language = subscription.case, language or str(get_locale())
        return _("hearings in the case “%(title)s”", title=name_for(case.title, case.title_original, language))
    if subscription.scope is Scope.HEARING and subscription.hearing is not None:
        hearing, language = subscription.hearing, language or str(get_locale())
        names = ", ".join(compose.person_name(d, language)
                          for d in hearing.public_defendants(not reads_latin(language)))
        return _("the hearing of %(names)s on %(when)s", names=names, when=compose.local_when(hearing, language))
    if subscription.scope is Scope.DEFENDANT and subscription.defendant is not None:
        name = (compose.person_name(subscription.defendant, language) if language
                else first_script(subscription.defendant.name_latin, subscription.defendant.name_original))
        return _("hearings of %(name)s", name=name)
    return _("all public hearings")


def _serializer() -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.config["SECRET_KEY"], salt="reminders-confirm")


def _token_hash(subscription: Subscription) -> str:
    return hashlib.sha256(subscription.token.encode()).hexdigest()[:16]


# Which pages a subscription's links lead to, by scope. A feature that brings its own kind
# of subscription registers its pages when the app is created (attendance: a hearing's
# sign-up is confirmed and withdrawn on its own pages), so every link this package writes,
# in reminders and notices too, leads there without this package knowing that feature.
PAGES_KEY = "reminders.pages"


def register_pages(app: Flask, scope: Scope, *, confirm: str, manage: str, unsubscribe: str) -> None:
    """Send `scope`'s confirm, manage and unsubscribe links to these endpoints (each takes
    `signed` or `token` like the reminders' own)."""
    app.extensions.setdefault(PAGES_KEY, {})[scope] = {
        "confirm": confirm, "manage": manage, "unsubscribe": unsubscribe,
    }


def page_endpoint(subscription: Subscription, page: str) -> str:
    pages = current_app.extensions.get(PAGES_KEY, {}).get(subscription.scope, {})
    return pages.get(page, f"reminders.{page}")


def signed_link(subscription: Subscription) -> str:
    """The signed part of a confirmation link: which sign-up, and its token's hash (a new
    sign-up of the same address and scope after a deletion cannot be confirmed by an old link)."""
    return _serializer().dumps({"id": subscription.id, "h": _token_hash(subscription)})


def confirm_url(subscription: Subscription) -> str:
    return external_url(page_endpoint(subscription, "confirm"), signed=signed_link(subscription))


def manage_url(subscription: Subscription) -> str:
    return external_url(page_endpoint(subscription, "manage"), token=subscription.token)


def unsubscribe_url(subscription: Subscription) -> str:
    return external_url(page_endpoint(subscription, "unsubscribe"), token=subscription.token)


def _clean_leads(lead_minutes: list[int]) -> list[int]:
    return sorted({int(m) for m in lead_minutes if int(m) in LEAD_VALUES}, reverse=True)


def sign_up(
    session: Session,
    *,
    email: str,
    scope: Scope,
    case: Case | None = None,
    defendant: Defendant | None = None,
    lead_minutes: list[int],
    digest: bool,
    now: datetime,
    language: str | None = None,
) -> Subscription:
    """Record a sign-up and write the email that answers it.

    `language` is the page's (`flask_babel.get_locale()` of the sign-up request): the
    subscription keeps it, and every email to it is written in it. A confirmed
    subscription keeps the language it has (someone who merely knows the address
    cannot change it; the manage page can).

    Whatever the address's history, the caller shows the same answer ("check your
    inbox"); only the email differs: a confirmation link for a new or unconfirmed
    sign-up, a manage link for an address that already follows this (its choices are
    not changed by someone who merely knows the address).
    """
    address = normalise_email(email)
    key = scope_key(scope, case, defendant)
    subscription = session.scalar(  # lower(): sign-ups kept an address's case before the one rule
        sa.select(Subscription).where(sa.func.lower(Subscription.email) == address, Subscription.scope_key == key)
    )
    leads = _clean_leads(lead_minutes) or list(DEFAULT_LEADS)
    language = known_language(language)
    if subscription is None:
        subscription = Subscription(
            email=address, scope=scope, case=case, defendant=defendant, scope_key=key,
            lead_minutes=leads, digest=digest, created_at=now, language=language,
        )
        session.add(subscription)
        session.flush()
    elif not subscription.is_confirmed:
        subscription.lead_minutes = leads
        subscription.digest = digest
        subscription.language = language
    # One answer per sign-up per ten minutes: the form cannot be used to flood an inbox.
    bucket = int(now.timestamp() // CONFIRM_RESEND.total_seconds())
    language = subscription.language
    with in_language(language):
        what = describe(subscription, language)
    if subscription.is_confirmed:
        mail = compose.known_mail(manage_url=manage_url(subscription), what=what, language=language)
        kind, key_prefix = "subscription_known", "known"
    else:
        mail = compose.confirm_mail(
            confirm_url=confirm_url(subscription), what=what, valid_days=CONFIRM_DAYS, language=language
        )
        kind, key_prefix = "subscription_confirm", "confirm"
    mail_subscriber(session, subscription, mail, dedupe_key=f"{key_prefix}:{subscription.id}:{bucket}", kind=kind,
                    now=now, unsubscribe=False)
    return subscription


def check_confirm_link(session: Session, signed: str, now: datetime) -> Subscription:
    """The sign-up a confirmation link belongs to, if the link is genuine and fresh."""
    try:
        payload, signed_at = _serializer().loads(signed, return_timestamp=True)
        subscription_id, token_hash = int(payload["id"]), str(payload["h"])
    except (BadSignature, KeyError, TypeError, ValueError):
        raise BadLink(_("This confirmation link is not valid.")) from None
    if now - signed_at > timedelta(days=CONFIRM_DAYS):
        raise ExpiredLink(_("This confirmation link has expired. Please sign up again."))
    subscription = session.get(Subscription, subscription_id)
    if subscription is None or _token_hash(subscription) != token_hash:
        raise BadLink(_("This confirmation link is not valid any more. Please sign up again."))
    return subscription


def confirm(session: Session, signed: str, now: datetime) -> Subscription:
    """Confirm a sign-up from its emailed link; confirming twice is harmless."""
    subscription = check_confirm_link(session, signed, now)
    if subscription.confirmed_at is None:
        subscription.confirmed_at = now
    return subscription


def find_by_token(session: Session, token: str) -> Subscription | None:
    if not token or len(token) > 64:
        return None
    return session.scalar(sa.select(Subscription).where(Subscription.token == token))


def change_choices(
    subscription: Subscription, *, lead_minutes: list[int], digest: bool, language: str | None = None
) -> None:
    subscription.lead_minutes = _clean_leads(lead_minutes) or list(DEFAULT_LEADS)
    subscription.digest = digest
    if language is not None:
        subscription.language = known_language(language)


def _forget(session: Session, subscription_ids: list[int]) -> None:
    """Delete subscriptions with their deliveries and every email to them still on file."""
    if not subscription_ids:
        return
    outbox_ids = sa.select(OutboxMessage.id).where(OutboxMessage.subscription_id.in_(subscription_ids))
    session.execute(sa.delete(ReminderDelivery).where(
        sa.or_(ReminderDelivery.subscription_id.in_(subscription_ids), ReminderDelivery.outbox_id.in_(outbox_ids))
    ))
    session.execute(sa.delete(OutboxMessage).where(OutboxMessage.subscription_id.in_(subscription_ids)))
    session.execute(sa.delete(Subscription).where(Subscription.id.in_(subscription_ids)))


def unsubscribe(session: Session, subscription: Subscription) -> None:
    """Leave for good: the address and everything sent to it are deleted, nothing pending goes out."""
    if subscription.scope == Scope.HEARING and subscription.confirmed_at is not None:
        # one fewer in a hearing's public "N people are going": cached pages must notice
        # (subscriptions are otherwise a table no public page shows, tracker/caching.py)
        bump_generation(session)
    _forget(session, [subscription.id])


def purge_unconfirmed(session: Session, now: datetime) -> int:
    """Delete sign-ups nobody confirmed within CONFIRM_DAYS (their link has expired too)."""
    ids = list(session.scalars(
        sa.select(Subscription.id).where(
            Subscription.confirmed_at.is_(None),
            Subscription.created_at < now - timedelta(days=CONFIRM_DAYS),
        )
    ))
    _forget(session, ids)
    if ids:
        log.info("deleted %d unconfirmed sign-ups older than %d days", len(ids), CONFIRM_DAYS)
    return len(ids)


def mail_subscriber(
    session: Session, subscription: Subscription, mail: Mail, *, dedupe_key: str, kind: str, now: datetime,
    expires_at: datetime | None = None, ics: Sequence[tuple[str, bytes]] | None = None, unsubscribe: bool = True,
    check_existing: bool = True,
) -> OutboxMessage | None:
    """Put `mail` to a volunteer in the outbox; None when one with this key is already there.

    Tied to the subscription, so leaving deletes it while it is pending; with a one-click
    unsubscribe link (RFC 8058) unless `unsubscribe` is False (the confirmation of a sign-up).
    """
    return enqueue_email(
        session, dedupe_key=dedupe_key, kind=kind, recipient=subscription.email, subject=mail.subject,
        text_body=mail.text_body, html_body=mail.html_body, now=now, expires_at=expires_at,
        unsubscribe_url=unsubscribe_url(subscription) if unsubscribe else None, ics=ics,
        subscription_id=subscription.id, check_existing=check_existing,
    )
