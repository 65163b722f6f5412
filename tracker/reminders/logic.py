"""Subscriptions and the reminder jobs: plain functions on a session, given `now`.

The web views and the scheduler call these same functions. Nothing here sends
mail: everything becomes outbox rows in the caller's transaction, and
`sending.send_pending` delivers them.

Exactly once, by construction:
- a reminder is recorded as a `ReminderDelivery` whose unique key is (subscription,
  hearing, lead time, hearing version), together with the outbox row that carries it;
- a hearing that moves or is cancelled makes its pending reminders stale
  (`supersede_stale_reminders`, which the sender runs too); new ones are recorded for the new time;
- an edit that does not move the hearing raises its version but does not repeat a
  reminder already recorded for the same start time.
"""
from __future__ import annotations

import hashlib
import logging
from collections import defaultdict
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from flask import current_app
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from itsdangerous import BadSignature, URLSafeTimedSerializer
from sqlalchemy.orm import Session, selectinload

from tracker.links import external_url
from tracker.mail.addresses import normalise_email
from tracker.mail.models import OutboxMessage, OutboxStatus
from tracker.mail.outbox import enqueue_email, new_message_id, skip_on_error
from tracker.records.logic import measure_in_force, public_hearing_clause
from tracker.records.models import (
    Case,
    Court,
    CustodyMeasure,
    Defendant,
    Hearing,
    HearingStatus,
    MeasureKind,
    case_defendants,
    hearing_defendants,
)
from tracker.reminders import compose
from tracker.reminders.models import HearingSnapshot, ReminderDelivery, Scope, Subscription

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
MISSED_LOOKBACK = timedelta(days=1)  # how far back a reminder nobody could send is recorded as missed
CHANGE_LOOKBACK = timedelta(days=1)  # changes to hearings older than this are not announced
# A move after which a reminder for the new time is due, or falls due within this, sends one
# message that is both the notice and that reminder (see `_reminder_with_notice`).
COMBINE_WITHIN = timedelta(minutes=30)


def _local_day(hearing: Hearing, known: dict[int, date | None]) -> date | None:
    """The hearing's day in its court's time zone (None if it cannot be known), computed once per hearing."""
    if hearing.id not in known:
        known[hearing.id] = None
        with skip_on_error("the reminders of hearing", hearing.id):
            known[hearing.id] = hearing.local_start.date()
    return known[hearing.id]


# --- signing up --------------------------------------------------------------------


class BadLink(ValueError):
    """A confirmation link that was tampered with or belongs to a deleted sign-up."""


class ExpiredLink(ValueError):
    """A confirmation link older than CONFIRM_DAYS."""


def scope_key(scope: Scope, case: Case | None = None, defendant: Defendant | None = None) -> str:
    if scope is Scope.CASE:
        return f"case:{case.id}"
    if scope is Scope.DEFENDANT:
        return f"defendant:{defendant.id}"
    return "all"


def describe(subscription: Subscription) -> str:
    """What the subscription follows, in words for emails and the manage page."""
    if subscription.scope is Scope.CASE and subscription.case is not None:
        return _("hearings in the case “%(title)s”", title=subscription.case.title)
    if subscription.scope is Scope.DEFENDANT and subscription.defendant is not None:
        return _("hearings of %(name)s", name=subscription.defendant.name_latin)
    return _("all public hearings")


def _serializer() -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.config["SECRET_KEY"], salt="reminders-confirm")


def _token_hash(subscription: Subscription) -> str:
    return hashlib.sha256(subscription.token.encode()).hexdigest()[:16]


def confirm_url(subscription: Subscription) -> str:
    signed = _serializer().dumps({"id": subscription.id, "h": _token_hash(subscription)})
    return external_url("reminders.confirm", signed=signed)


def manage_url(subscription: Subscription) -> str:
    return external_url("reminders.manage", token=subscription.token)


def unsubscribe_url(subscription: Subscription) -> str:
    return external_url("reminders.unsubscribe", token=subscription.token)


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
) -> Subscription:
    """Record a sign-up and write the email that answers it.

    Whatever the address's history, the caller shows the same answer ("check your
    inbox"); only the email differs: a confirmation link for a new or unconfirmed
    sign-up, a manage link for an address that already follows this (its choices are
    not changed by someone who merely knows the address).
    """
    address = normalise_email(email)
    key = scope_key(scope, case, defendant)
    subscription = session.scalar(
        sa.select(Subscription).where(Subscription.email == address, Subscription.scope_key == key)
    )
    leads = _clean_leads(lead_minutes) or list(DEFAULT_LEADS)
    if subscription is None:
        subscription = Subscription(
            email=address, scope=scope, case=case, defendant=defendant, scope_key=key,
            lead_minutes=leads, digest=digest, created_at=now,
        )
        session.add(subscription)
        session.flush()
    elif not subscription.is_confirmed:
        subscription.lead_minutes = leads
        subscription.digest = digest
    # One answer per sign-up per ten minutes: the form cannot be used to flood an inbox.
    bucket = int(now.timestamp() // CONFIRM_RESEND.total_seconds())
    if subscription.is_confirmed:
        mail = compose.known_mail(manage_url=manage_url(subscription), what=describe(subscription))
        kind, key_prefix = "subscription_known", "known"
    else:
        mail = compose.confirm_mail(
            confirm_url=confirm_url(subscription), what=describe(subscription), valid_days=CONFIRM_DAYS
        )
        kind, key_prefix = "subscription_confirm", "confirm"
    enqueue_email(
        session, dedupe_key=f"{key_prefix}:{subscription.id}:{bucket}", kind=kind, recipient=address,
        subject=mail.subject, text_body=mail.text_body, html_body=mail.html_body, now=now,
        subscription_id=subscription.id,
    )
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


def change_choices(subscription: Subscription, *, lead_minutes: list[int], digest: bool) -> None:
    subscription.lead_minutes = _clean_leads(lead_minutes) or list(DEFAULT_LEADS)
    subscription.digest = digest


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


# --- who follows which hearing -----------------------------------------------------


def _hearing_scope_keys(hearing: Hearing, cases_of: dict[int, set[int]]) -> list[str]:
    """Every scope key that follows this hearing (it must have a public defendant)."""
    public = hearing.public_defendants()
    if not public:
        return []
    case_ids = {c for d in public for c in cases_of.get(d.id, ())}
    if hearing.case_id is not None:
        case_ids.add(hearing.case_id)
    return ["all", *(f"case:{c}" for c in sorted(case_ids)), *(f"defendant:{d.id}" for d in public)]


def _cases_of(session: Session, hearings: list[Hearing]) -> dict[int, set[int]]:
    defendant_ids = {d.id for h in hearings for d in h.defendants}
    result: dict[int, set[int]] = defaultdict(set)
    if defendant_ids:
        for defendant_id, case_id in session.execute(
            sa.select(case_defendants.c.defendant_id, case_defendants.c.case_id)
            .where(case_defendants.c.defendant_id.in_(defendant_ids))
        ):
            result[defendant_id].add(case_id)
    return result


def _subscriptions_by_scope(session: Session, *, digest: bool | None) -> dict[str, list[Subscription]]:
    query = sa.select(Subscription).where(Subscription.confirmed_at.is_not(None)).order_by(Subscription.id)
    if digest is not None:
        query = query.where(Subscription.digest.is_(digest))
    by_scope: dict[str, list[Subscription]] = defaultdict(list)
    for subscription in session.scalars(query):
        by_scope[subscription.scope_key].append(subscription)
    return by_scope


def _followers(
    hearing: Hearing, by_scope: dict[str, list[Subscription]], cases_of: dict[int, set[int]]
) -> dict[str, list[Subscription]]:
    """Subscriptions following the hearing, by address (one address may follow it twice)."""
    by_email: dict[str, list[Subscription]] = {}
    for key in _hearing_scope_keys(hearing, cases_of):
        for subscription in by_scope.get(key, ()):
            by_email.setdefault(subscription.email, []).append(subscription)
    return by_email


def _load_hearings(session: Session, *conditions) -> list[Hearing]:  # noqa: ANN002
    return list(session.scalars(
        sa.select(Hearing)
        .where(public_hearing_clause(), *conditions)
        .options(selectinload(Hearing.defendants))
        .order_by(Hearing.starts_at, Hearing.id)
    ))


# --- reminders ---------------------------------------------------------------------


@dataclass
class DueReminder:
    subscription: Subscription
    hearing: Hearing
    lead_minutes: int


@dataclass
class _Plan:
    due: list[DueReminder]
    # address -> hearings it follows in the window, with the subscription that follows each
    followed: dict[str, list[tuple[Subscription, Hearing]]]
    # (address, hearing id, announced start) -> the closest lead already recorded
    recorded: dict[tuple[str, int, datetime], int]


def _recorded(session: Session, hearing_ids: list[int]) -> dict[tuple[str, int, datetime], int]:
    recorded: dict[tuple[str, int, datetime], int] = {}
    if not hearing_ids:
        return recorded
    rows = session.execute(
        sa.select(Subscription.email, ReminderDelivery.hearing_id, ReminderDelivery.hearing_starts_at,
                  sa.func.min(ReminderDelivery.lead_minutes))
        .join(Subscription, Subscription.id == ReminderDelivery.subscription_id)
        .join(OutboxMessage, OutboxMessage.id == ReminderDelivery.outbox_id)
        .where(ReminderDelivery.hearing_id.in_(hearing_ids), OutboxMessage.status != OutboxStatus.SUPERSEDED)
        .group_by(Subscription.email, ReminderDelivery.hearing_id, ReminderDelivery.hearing_starts_at)
    )
    for email, hearing_id, starts_at, lead in rows:
        starts_at = _aware_utc(starts_at)
        recorded[(email, hearing_id, starts_at)] = lead
    return recorded


def _aware_utc(value: datetime) -> datetime:
    """Guard against a driver returning the grouped timestamp untyped (naive or text)."""
    from datetime import timezone

    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    return value.replace(tzinfo=timezone.utc) if value.tzinfo is None else value.astimezone(timezone.utc)


def _plan(session: Session, now: datetime) -> _Plan:
    longest = timedelta(minutes=max(LEAD_VALUES))
    hearings = _load_hearings(
        session,
        Hearing.status == HearingStatus.SCHEDULED,
        Hearing.starts_at > now,
        Hearing.starts_at <= now + longest + timedelta(days=1),  # +1 day: same-day companions
    )
    by_scope = _subscriptions_by_scope(session, digest=False)
    cases_of = _cases_of(session, hearings)
    recorded = _recorded(session, [h.id for h in hearings])
    due: list[DueReminder] = []
    followed: dict[str, list[tuple[Subscription, Hearing]]] = defaultdict(list)
    for hearing in hearings:
        for email, subscriptions in _followers(hearing, by_scope, cases_of).items():
            followed[email].append((subscriptions[0], hearing))
            leads = {lead for s in subscriptions for lead in s.lead_minutes}
            passed = [lead for lead in leads if hearing.starts_at - timedelta(minutes=lead) <= now]
            if not passed:
                continue
            # Only the closest lead that has passed: a volunteer who signs up (or a scheduler
            # that comes back) an hour before a hearing gets one reminder, not three.
            lead = min(passed)
            already = recorded.get((email, hearing.id, hearing.starts_at))
            if already is not None and already <= lead:
                continue
            subscription = next(s for s in subscriptions if lead in s.lead_minutes)
            due.append(DueReminder(subscription, hearing, lead))
    return _Plan(due, followed, recorded)


def due_reminders(session: Session, now: datetime) -> list[DueReminder]:
    """Reminders whose moment has come and that are not recorded yet."""
    return _plan(session, now).due


def _ics(hearings: list[Hearing]) -> list[tuple[str, bytes]]:
    from tracker.feeds.ical import hearing_ics

    base_url = current_app.config["BASE_URL"]
    return [
        (f"hearing-{h.id}.ics" if len(hearings) > 1 else "hearing.ics", hearing_ics(h, base_url))
        for h in hearings
    ]


def enqueue_due(session: Session, now: datetime) -> int:
    """Record every due reminder in the outbox; returns the number of messages written.

    Hearings followed by one subscription on the same day at the same court travel
    together, in the message of the first one that falls due.
    """
    plan = _plan(session, now)
    days: dict[int, date | None] = {}
    groups: dict[tuple, list[Hearing]] = {}
    subscriptions: dict[tuple, Subscription] = {}
    taken: set[tuple[str, int]] = set()
    for item in plan.due:
        hearing = item.hearing
        day = _local_day(hearing, days)
        if day is None:  # logged; the others go on
            continue
        key = (item.subscription.id, item.lead_minutes, hearing.court_id, day)
        groups.setdefault(key, []).append(hearing)
        subscriptions[key] = item.subscription
        taken.add((item.subscription.email, hearing.id))
    for key, hearings in groups.items():
        subscription = subscriptions[key]
        _sid, lead, court_id, day = key
        for companion_subscription, companion in plan.followed.get(subscription.email, ()):
            if (subscription.email, companion.id) in taken or companion_subscription.id != subscription.id:
                continue
            if companion.court_id != court_id or _local_day(companion, days) != day:
                continue
            already = plan.recorded.get((subscription.email, companion.id, companion.starts_at))
            if already is not None and already <= lead:
                continue
            hearings.append(companion)
            taken.add((subscription.email, companion.id))
        hearings.sort(key=lambda h: (h.starts_at, h.id))

    if not groups:
        return 0
    notes = compose.practical_notes(session)
    # Many volunteers follow the same hearings: render each group's text and calendar
    # once, and put each volunteer's own link in (a mail merge). A group that cannot be
    # rendered is logged once and left out (None).
    rendered: dict[tuple[int, ...], tuple[compose.Mail, list[tuple[str, bytes]]] | None] = {}
    written = 0
    # The dedupe check inside enqueue_email needs no flush: this run's own messages are
    # distinct by construction (one per group); everything is flushed once at the end.
    with session.no_autoflush:
        for (subscription_id, lead, court_id, day), hearings in groups.items():
            ids = tuple(h.id for h in hearings)
            if ids not in rendered:
                rendered[ids] = None
                with skip_on_error("the reminders of hearing(s)", *ids):
                    rendered[ids] = (
                        compose.reminder_mail(hearings, now=now, notes=notes, manage_url=compose.MANAGE_URL_SLOT),
                        _ics(hearings),
                    )
            if rendered[ids] is None:
                continue
            with skip_on_error("the reminder of hearing(s)", *ids, "to subscription", subscription_id):
                subscription = subscriptions[(subscription_id, lead, court_id, day)]
                _enqueue_reminder(session, subscription, lead, hearings, *rendered[ids], now=now)
                written += 1
    session.flush()
    log.info("recorded %d reminder message(s)", written)
    return written


def _enqueue_reminder(
    session: Session, subscription: Subscription, lead: int, hearings: list[Hearing], template: compose.Mail,
    calendars: list[tuple[str, bytes]], *, now: datetime,
) -> None:
    """One volunteer's reminder of a group of hearings, with the delivery rows that make it exactly-once."""
    mail = compose.personalised(template, manage_url=manage_url(subscription))
    versions = ",".join(f"{h.id}v{h.version}" for h in hearings)
    message = enqueue_email(
        session, dedupe_key=f"reminder:{subscription.id}:{lead}:{versions}", kind="reminder",
        recipient=subscription.email, subject=mail.subject, text_body=mail.text_body,
        html_body=mail.html_body, now=now, expires_at=max(h.starts_at for h in hearings),
        unsubscribe_url=unsubscribe_url(subscription), ics=calendars,
        subscription_id=subscription.id,
    )
    if message is None:
        return
    for hearing in hearings:
        session.add(ReminderDelivery(
            subscription_id=subscription.id, hearing_id=hearing.id, lead_minutes=lead,
            hearing_version=hearing.version, hearing_starts_at=hearing.starts_at,
            outbox=message, created_at=now,
        ))


def record_missed(session: Session, now: datetime) -> int:
    """Reminders nobody could send before their hearing started (the scheduler was down).

    They are recorded, as missed, so the admins' page and the logs tell the truth.
    """
    hearings = _load_hearings(
        session,
        Hearing.status.in_((HearingStatus.SCHEDULED, HearingStatus.HELD)),
        Hearing.starts_at <= now,
        Hearing.starts_at > now - MISSED_LOOKBACK,
    )
    if not hearings:
        return 0
    by_scope = _subscriptions_by_scope(session, digest=False)
    cases_of = _cases_of(session, hearings)
    recorded = _recorded(session, [h.id for h in hearings])
    count = 0
    for hearing in hearings:
        for email, subscriptions in _followers(hearing, by_scope, cases_of).items():
            if (email, hearing.id, hearing.starts_at) in recorded:
                continue
            subscription = subscriptions[0]
            if not subscription.lead_minutes:
                continue
            lead = min(subscription.lead_minutes)
            if subscription.confirmed_at > hearing.starts_at - timedelta(minutes=lead):
                continue  # signed up too late for any reminder: nothing was missed
            message = OutboxMessage(
                dedupe_key=f"missed:{subscription.id}:{hearing.id}v{hearing.version}", kind="reminder",
                recipient=email, subject=f"(missed) reminder of hearing {hearing.id}", message_id=new_message_id(),
                status=OutboxStatus.MISSED, created_at=now, next_attempt_at=now,
                last_error="the hearing started before the reminder could be recorded",
                subscription_id=subscription.id,
            )
            session.add(message)
            session.flush()
            session.add(ReminderDelivery(
                subscription_id=subscription.id, hearing_id=hearing.id, lead_minutes=lead,
                hearing_version=hearing.version, hearing_starts_at=hearing.starts_at,
                outbox_id=message.id, created_at=now,
            ))
            recorded[(email, hearing.id, hearing.starts_at)] = lead
            count += 1
    if count:
        log.warning("%d reminder(s) missed: their hearing started before they could be sent", count)
    return count


# --- change notices ------------------------------------------------------------------


def supersede_stale_reminders(session: Session | sa.Connection) -> int:
    """Cancel pending reminders whose hearing moved, was postponed or cancelled.

    Run after every change-notice run and, as the sender's hook (reminders/__init__.py),
    before every batch of mail, so no reminder for an old time goes out even if the
    change-notice job has not run yet.
    """
    stale = (
        sa.select(ReminderDelivery.outbox_id)
        .join(Hearing, Hearing.id == ReminderDelivery.hearing_id)
        .where(
            sa.or_(
                Hearing.starts_at != ReminderDelivery.hearing_starts_at,
                Hearing.status != HearingStatus.SCHEDULED,
            )
        )
    )
    result = session.execute(
        sa.update(OutboxMessage)
        .where(
            OutboxMessage.kind == "reminder",
            OutboxMessage.status == OutboxStatus.PENDING,
            OutboxMessage.id.in_(stale),
        )
        .values(status=OutboxStatus.SUPERSEDED, last_error="the hearing changed before this went out")
        .execution_options(synchronize_session=False)
    )
    return result.rowcount or 0


def _change_kind(hearing: Hearing, snapshot: HearingSnapshot) -> str | None:
    was_active = snapshot.status in (HearingStatus.SCHEDULED, HearingStatus.POSTPONED)
    if not was_active:
        return None
    if hearing.status is HearingStatus.CANCELLED:
        return "cancelled"
    if hearing.status is HearingStatus.POSTPONED and snapshot.status is not HearingStatus.POSTPONED:
        return "postponed"
    if hearing.status is HearingStatus.SCHEDULED and (
        hearing.starts_at != snapshot.starts_at
        or hearing.court_id != snapshot.court_id
        or hearing.courtroom != snapshot.courtroom
        or snapshot.status is HearingStatus.POSTPONED
    ):
        return "moved"
    return None


def _take_snapshot(session: Session, hearing: Hearing, snapshot: HearingSnapshot | None) -> None:
    if snapshot is None:
        snapshot = HearingSnapshot(hearing_id=hearing.id)
        session.add(snapshot)
    snapshot.version = hearing.version
    snapshot.starts_at = hearing.starts_at
    snapshot.status = hearing.status
    snapshot.court_id = hearing.court_id
    snapshot.courtroom = hearing.courtroom


def _reminder_with_notice(
    hearing: Hearing, kind: str, email: str, subscriptions: list[Subscription],
    recorded: dict[tuple[str, int, datetime], int], now: datetime,
) -> DueReminder | None:
    """The reminder a move notice also carries, if one is due for the new time.

    A hearing moved close to a reminder time (one of the address's lead times for the
    new start has passed, or passes within COMBINE_WITHIN) would otherwise get a notice
    and, in the same minute, a reminder saying nearly the same. Then the notice is the
    reminder: recorded as the delivery for the closest such lead, so `enqueue_due`
    does not send it again. Later leads still come at their time.
    """
    if kind != "moved" or hearing.status is not HearingStatus.SCHEDULED or hearing.starts_at <= now:
        return None
    leads = {lead for s in subscriptions if not s.digest for lead in s.lead_minutes}
    soon = [lead for lead in leads if hearing.starts_at - timedelta(minutes=lead) <= now + COMBINE_WITHIN]
    if not soon:
        return None
    lead = min(soon)
    already = recorded.get((email, hearing.id, hearing.starts_at))
    if already is not None and already <= lead:
        return None  # sent for this very start already (a move of courtroom only)
    subscription = next(s for s in subscriptions if not s.digest and lead in s.lead_minutes)
    return DueReminder(subscription, hearing, lead)


def notify_hearing_changes(session: Session, now: datetime) -> int:
    """Tell followers that a hearing moved, was postponed or cancelled; returns emails written.

    Finds changes by comparing each hearing with the snapshot taken when it was last
    seen (the ORM raises `Hearing.version` on every change), so it catches every
    change however it was made and is idempotent: the snapshot is updated in the
    same transaction as the notices, whose dedupe keys name the hearing version.
    """
    rows = session.execute(
        sa.select(Hearing, HearingSnapshot)
        .outerjoin(HearingSnapshot, HearingSnapshot.hearing_id == Hearing.id)
        .where(sa.or_(HearingSnapshot.hearing_id.is_(None), HearingSnapshot.version != Hearing.version))
        .where(sa.or_(Hearing.starts_at >= now - CHANGE_LOOKBACK, HearingSnapshot.starts_at >= now - CHANGE_LOOKBACK))
        .options(selectinload(Hearing.defendants))
        .order_by(Hearing.id)
    ).all()
    if not rows:
        return 0
    changed = [(h, s, _change_kind(h, s)) for h, s in rows if s is not None]
    changed = [
        (h, s, kind) for h, s, kind in changed
        if kind is not None and max(h.starts_at, s.starts_at) > now
    ]
    written = 0
    unsent: set[int] = set()
    if changed:
        by_scope = _subscriptions_by_scope(session, digest=None)
        cases_of = _cases_of(session, [h for h, _s, _k in changed])
        courts = dict(session.execute(
            sa.select(Court.id, Court.name).where(Court.id.in_({s.court_id for _h, s, _k in changed}))
        ).all())
        recorded = _recorded(session, [h.id for h, _s, kind in changed if kind == "moved"])
        notes = compose.practical_notes(session)
        for hearing, snapshot, kind in changed:
            followers = _followers(hearing, by_scope, cases_of)
            unsent.add(hearing.id)
            with skip_on_error("the change notices of hearing", hearing.id, f"v{hearing.version}"):
                combined = 0
                for email, subscriptions in followers.items():
                    due = _reminder_with_notice(hearing, kind, email, subscriptions, recorded, now)
                    subscription = due.subscription if due else subscriptions[0]
                    mail = compose.change_mail(
                        hearing, kind, old_starts_at=snapshot.starts_at,
                        old_court_name=courts.get(snapshot.court_id, hearing.court.name), now=now,
                        manage_url=manage_url(subscription), reminder=due is not None, notes=notes,
                    )
                    message = enqueue_email(
                        session, dedupe_key=f"change:{hearing.id}:v{hearing.version}:s{subscription.id}",
                        # A combined message is a reminder: superseded if the hearing moves again
                        # before it goes out, missed once the hearing has started.
                        kind="reminder" if due else "hearing_change", recipient=email, subject=mail.subject,
                        text_body=mail.text_body, html_body=mail.html_body, now=now,
                        expires_at=hearing.starts_at if due else None,
                        unsubscribe_url=unsubscribe_url(subscription), ics=_ics([hearing]),
                        subscription_id=subscription.id,
                    )
                    if message is None:
                        continue
                    written += 1
                    if due is not None:
                        combined += 1
                        session.add(ReminderDelivery(
                            subscription_id=subscription.id, hearing_id=hearing.id, lead_minutes=due.lead_minutes,
                            hearing_version=hearing.version, hearing_starts_at=hearing.starts_at,
                            outbox=message, created_at=now,
                        ))
                unsent.discard(hearing.id)
                log.info("hearing %s %s (v%s): %d notice(s), %d of them with the reminder",
                         hearing.id, kind, hearing.version, len(followers), combined)
    for hearing, snapshot in rows:
        if hearing.id not in unsent:  # a notice that could not be written is tried again next run
            _take_snapshot(session, hearing, snapshot)
    supersede_stale_reminders(session)
    session.flush()
    return written


# --- weekly digest -------------------------------------------------------------------


def digest_week(now: datetime, tz: ZoneInfo) -> tuple[datetime, str] | None:
    """This week's digest moment (Monday at DIGEST_HOUR, local) and key, once it has come."""
    local = now.astimezone(tz)
    monday = local.date() - timedelta(days=local.weekday())
    start = datetime.combine(monday, time(current_app.config["DIGEST_HOUR"]), tzinfo=tz)
    if local < start:
        return None
    year, week, _day = monday.isocalendar()
    return start, f"{year}-W{week:02d}"


def enqueue_digests(session: Session, now: datetime) -> int:
    """Each digest subscriber's hearings of the coming week, once per week."""
    tz = ZoneInfo(current_app.config["DEFAULT_TIMEZONE"])
    week = digest_week(now, tz)
    if week is None:
        return 0
    start, week_key = week
    by_scope = _subscriptions_by_scope(session, digest=True)
    if not by_scope:
        return 0
    done = set(session.scalars(
        sa.select(OutboxMessage.dedupe_key).where(OutboxMessage.dedupe_key.like(f"digest:%:{week_key}"))
    ))
    end = start + timedelta(days=7)
    hearings = _load_hearings(
        session, Hearing.status == HearingStatus.SCHEDULED, Hearing.starts_at > now, Hearing.starts_at < end
    )
    cases_of = _cases_of(session, hearings)
    per_subscription: dict[int, list[Hearing]] = defaultdict(list)
    subscriptions: dict[int, Subscription] = {}
    for hearing in hearings:
        for subscription in {s.id: s for key in _hearing_scope_keys(hearing, cases_of)
                             for s in by_scope.get(key, ())}.values():
            per_subscription[subscription.id].append(hearing)
            subscriptions[subscription.id] = subscription
    notes = compose.practical_notes(session)
    written = 0
    for subscription_id, followed in per_subscription.items():
        key = f"digest:{subscription_id}:{week_key}"
        if key in done:
            continue
        subscription = subscriptions[subscription_id]
        with skip_on_error("the weekly digest of subscription", subscription_id):
            mail = compose.digest_mail(
                followed, first_day=now.astimezone(tz).date(), last_day=(end - timedelta(days=1)).date(),
                notes=notes, manage_url=manage_url(subscription),
            )
            enqueue_email(
                session, dedupe_key=key, kind="digest", recipient=subscription.email, subject=mail.subject,
                text_body=mail.text_body, html_body=mail.html_body, now=now, expires_at=end,
                unsubscribe_url=unsubscribe_url(subscription), subscription_id=subscription.id,
                check_existing=False,
            )
            written += 1
    if written:
        log.info("recorded %d weekly digest(s) for %s", written, week_key)
    return written


# --- lawyers' deadline alerts ----------------------------------------------------------


def enqueue_deadline_alerts(session: Session, now: datetime) -> int:
    """Warn editors DEADLINE_ALERT_DAYS before a custody measure lapses with no hearing set."""
    from tracker.auth.models import User

    days = sorted(set(current_app.config["DEADLINE_ALERT_DAYS"]))
    if not days:
        return 0
    today = now.astimezone(ZoneInfo(current_app.config["DEFAULT_TIMEZONE"])).date()
    horizon = today + timedelta(days=max(days))
    ends_on = sa.func.coalesce(CustodyMeasure.until, CustodyMeasure.next_review_on)
    candidates = sa.select(CustodyMeasure.defendant_id).where(
        CustodyMeasure.kind != MeasureKind.RELEASED, ends_on >= today, ends_on <= horizon
    )
    defendants = list(session.scalars(
        sa.select(Defendant).where(Defendant.id.in_(candidates))
        .options(selectinload(Defendant.measures), selectinload(Defendant.decisions),
                 selectinload(Defendant.cases))
    ))
    lapsing: list[tuple[CustodyMeasure, int]] = []
    for defendant in defendants:
        measure = measure_in_force(defendant)  # not one a sentence replaced
        if measure is None or measure.ends_on is None:
            continue
        if not today <= measure.ends_on <= horizon:
            continue
        passed = [d for d in days if measure.ends_on - timedelta(days=d) <= today]
        if passed:
            lapsing.append((measure, min(passed)))
    if not lapsing:
        return 0
    # a hearing counts only if it comes before the measure lapses (checked per measure below)
    hearings_by_defendant: dict[int, list[Hearing]] = defaultdict(list)
    for defendant_id, hearing in session.execute(
        sa.select(hearing_defendants.c.defendant_id, Hearing)
        .join(Hearing, Hearing.id == hearing_defendants.c.hearing_id)
        .where(
            hearing_defendants.c.defendant_id.in_([m.defendant_id for m, _d in lapsing]),
            Hearing.status == HearingStatus.SCHEDULED,
            Hearing.starts_at >= now,
        )
    ):
        hearings_by_defendant[defendant_id].append(hearing)
    users = list(session.scalars(
        sa.select(User).where(User.active.is_(True)).options(selectinload(User.cases)).order_by(User.id)
    ))
    done = set(session.scalars(
        sa.select(OutboxMessage.dedupe_key).where(OutboxMessage.dedupe_key.like("deadline:%"))
    ))
    written = 0
    for measure, days_before in lapsing:
        with skip_on_error("the deadline alerts of custody measure", measure.id):
            written += _alert_editors(session, measure, days_before, users, done,
                                      hearings_by_defendant.get(measure.defendant_id, ()), today=today, now=now)
    if written:
        log.info("recorded %d deadline alert(s)", written)
    return written


def _alert_editors(
    session: Session, measure: CustodyMeasure, days_before: int, users: list, done: set[str],
    hearings: Iterable[Hearing], *, today: date, now: datetime,
) -> int:
    """The alerts of one lapsing measure to each editor who may edit its defendant (none if a hearing comes first)."""
    from tracker.access import can_edit

    defendant = measure.defendant
    if any(h.local_start.date() <= measure.ends_on for h in hearings):
        return 0
    written = 0
    for user in users:
        key = f"deadline:m{measure.id}:{days_before}d:u{user.id}"
        if key in done or not can_edit(user, defendant):
            continue
        mail = compose.deadline_mail(
            measure, days_left=(measure.ends_on - today).days,
            defendant_url=external_url("records.defendant", slug=defendant.slug),
        )
        enqueue_email(
            session, dedupe_key=key, kind="deadline_alert", recipient=user.email, subject=mail.subject,
            text_body=mail.text_body, html_body=mail.html_body, now=now, check_existing=False,
        )
        written += 1
    return written


# --- admins --------------------------------------------------------------------------


def save_practical_notes(session: Session, text: str) -> None:
    from tracker.records.models import SiteSetting

    setting = session.get(SiteSetting, compose.NOTES_KEY)
    if setting is None:
        setting = SiteSetting(key=compose.NOTES_KEY, value="")
        session.add(setting)
    setting.value = text.strip()
