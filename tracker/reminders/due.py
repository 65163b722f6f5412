"""Reminders before hearings: which are due, writing them to the outbox, and the missed ones.

Exactly once, by construction:
- a reminder is recorded as a `ReminderDelivery` whose unique key is (subscription,
  hearing, lead time, hearing version), together with the outbox row that carries it;
- a hearing that moves or is cancelled makes its pending reminders stale
  (changes.supersede_stale_reminders, which the sender runs too); new ones are
  recorded for the new time;
- an edit that does not move the hearing raises its version but does not repeat a
  reminder already recorded for the same start time.
"""
from __future__ import annotations

import logging
from collections import defaultdict
from dataclasses import dataclass
from datetime import date, datetime, timedelta, timezone

import sqlalchemy as sa
from sqlalchemy.orm import Session, scoped_session

from tracker.mail import arriving
from tracker.mail.models import OutboxMessage, OutboxStatus
from tracker.mail.outbox import new_message_id, skip_on_error
from tracker.records.enums import HearingStatus
from tracker.records.models import Hearing
from tracker.reminders.audience import followers, load_public_hearings, subscriptions_by_scope
from tracker.reminders.models import ReminderDelivery, Subscription
from tracker.reminders.notes import practical_notes
from tracker.reminders.subscriptions import LEAD_VALUES
from tracker.reminders.writer import ReminderWriter, hearing_calendars  # noqa: F401  (changes.py's too)

log = logging.getLogger(__name__)

MISSED_LOOKBACK = timedelta(days=1)  # how far back a reminder nobody could send is recorded as missed


def local_day(hearing: Hearing, known: dict[int, date | None]) -> date | None:
    """The hearing's day in its court's time zone (None if it cannot be known), computed once per hearing."""
    if hearing.id not in known:
        known[hearing.id] = None
        with skip_on_error("the reminders of hearing", hearing.id):
            known[hearing.id] = hearing.local_start.date()
    return known[hearing.id]


def record_delivery(
    session: Session, subscription: Subscription, hearing: Hearing, lead: int, message: OutboxMessage,
    now: datetime,
) -> None:
    """That `message` carries the reminder of `hearing` at `lead` minutes for `subscription`
    (its unique key makes recording it twice fail)."""
    session.add(ReminderDelivery(
        subscription_id=subscription.id, hearing_id=hearing.id, lead_minutes=lead,
        hearing_version=hearing.version, hearing_starts_at=hearing.starts_at,
        outbox=message, created_at=now,
    ))



@dataclass
class DueReminder:
    """A reminder whose moment has come: this subscription, this hearing, this lead time."""

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


def recorded_leads(session: Session, hearing_ids: list[int]) -> dict[tuple[str, int, datetime], int]:
    """(address, hearing id, announced start) -> the closest lead already recorded (not superseded)."""
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
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    return value.replace(tzinfo=timezone.utc) if value.tzinfo is None else value.astimezone(timezone.utc)


def _plan(session: Session, now: datetime) -> _Plan:
    longest = timedelta(minutes=max(LEAD_VALUES))
    hearings = load_public_hearings(
        session,
        Hearing.status == HearingStatus.SCHEDULED,
        Hearing.starts_at > now,
        Hearing.starts_at <= now + longest + timedelta(days=1),  # +1 day: same-day companions
    )
    by_scope = subscriptions_by_scope(session, digest=False)
    recorded = recorded_leads(session, [h.id for h in hearings])
    due: list[DueReminder] = []
    followed: dict[str, list[tuple[Subscription, Hearing]]] = defaultdict(list)
    for hearing in hearings:
        for email, subscriptions in followers(hearing, by_scope).items():
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


def enqueue_due(session: Session, now: datetime, *, commit_every: int | None = None) -> int:
    """Record every due reminder in the outbox; returns the number of messages written.

    Hearings followed by one subscription on the same day at the same court travel
    together, in the message of the first one that falls due.

    By default everything is written in the caller's transaction. With `commit_every`
    (the scheduler), every chunk of that many messages is committed as soon as it is
    composed, each message with the deliveries that make it exactly-once, and a sender
    in this process starts on it while the rest is composed (`tracker.mail.arriving`).
    A failure then keeps the chunks already committed; the next run records the rest
    (the dedupe keys skip what is there).
    """
    plan = _plan(session, now)
    days: dict[int, date | None] = {}
    groups: dict[tuple, list[Hearing]] = {}
    subscriptions: dict[tuple, Subscription] = {}
    taken: set[tuple[str, int]] = set()
    for item in plan.due:
        hearing = item.hearing
        day = local_day(hearing, days)
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
            if companion.court_id != court_id or local_day(companion, days) != day:
                continue
            already = plan.recorded.get((subscription.email, companion.id, companion.starts_at))
            if already is not None and already <= lead:
                continue
            hearings.append(companion)
            taken.add((subscription.email, companion.id))
        hearings.sort(key=lambda h: (h.starts_at, h.id))

    if not groups:
        return 0
    notes = practical_notes(session)
    writer = ReminderWriter(session, now, notes)
    if commit_every is None:
        for (subscription_id, lead, court_id, day), hearings in groups.items():
            writer.add(subscriptions[(subscription_id, lead, court_id, day)], lead, hearings)
        written = writer.write()
    else:
        written = 0
        # What the plan loaded stays loaded across the chunks' commits (not a SELECT per object).
        own = session() if isinstance(session, scoped_session) else session
        expire_on_commit, own.expire_on_commit = own.expire_on_commit, False
        try:
            with arriving.writing():
                for (subscription_id, lead, court_id, day), hearings in groups.items():
                    writer.add(subscriptions[(subscription_id, lead, court_id, day)], lead, hearings)
                    if len(writer.messages) >= commit_every:
                        written += _commit_chunk(session, writer, first=not written)
                written += _commit_chunk(session, writer, first=not written)
        finally:
            own.expire_on_commit = expire_on_commit
    log.info("recorded %d reminder message(s)", written)
    return written


def _commit_chunk(session: Session, writer: ReminderWriter, *, first: bool) -> int:
    """Record and commit what the writer holds, and tell a sender in this process it is there."""
    written = writer.write()
    session.commit()
    if written:
        arriving.grew(first=first)
    return written


def record_missed(session: Session, now: datetime) -> int:
    """Reminders nobody could send before their hearing started (the scheduler was down).

    They are recorded, as missed, so the admins' page and the logs tell the truth.
    """
    hearings = load_public_hearings(
        session,
        Hearing.status.in_((HearingStatus.SCHEDULED, HearingStatus.HELD)),
        Hearing.starts_at <= now,
        Hearing.starts_at > now - MISSED_LOOKBACK,
    )
    if not hearings:
        return 0
    by_scope = subscriptions_by_scope(session, digest=False)
    recorded = recorded_leads(session, [h.id for h in hearings])
    count = 0
    for hearing in hearings:
        for email, subscriptions in followers(hearing, by_scope).items():
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
            record_delivery(session, subscription, hearing, lead, message, now)
            recorded[(email, hearing.id, hearing.starts_at)] = lead
            count += 1
    if count:
        log.warning("%d reminder(s) missed: their hearing started before they could be sent", count)
    return count
