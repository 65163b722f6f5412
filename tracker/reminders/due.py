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
from flask import current_app
from markupsafe import escape
from sqlalchemy.orm import Session, scoped_session

from tracker.feeds.calendars import hearing_ics
from tracker.links import external_url
from tracker.mail import arriving
from tracker.mail.message import MessageTemplate
from tracker.mail.message import compose as compose_message
from tracker.mail.models import OutboxMessage, OutboxStatus
from tracker.mail.outbox import new_message_id, skip_on_error
from tracker.records.enums import HearingStatus
from tracker.records.models import Hearing
from tracker.reminders import compose
from tracker.reminders.audience import followers, load_public_hearings, subscriptions_by_scope
from tracker.reminders.models import ReminderDelivery, Subscription
from tracker.reminders.notes import practical_notes
from tracker.reminders.subscriptions import LEAD_VALUES, page_endpoint

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


def hearing_calendars(hearings: list[Hearing]) -> list[tuple[str, bytes]]:
    """Each hearing as an .ics attachment, the same event (UID, SEQUENCE) as in the feeds."""
    base_url = current_app.config["BASE_URL"]
    return [
        (f"hearing-{h.id}.ics" if len(hearings) > 1 else "hearing.ics", hearing_ics(h, base_url))
        for h in hearings
    ]


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
    writer = _ReminderWriter(session, now, notes)
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


def _commit_chunk(session: Session, writer: _ReminderWriter, *, first: bool) -> int:
    """Record and commit what the writer holds, and tell a sender in this process it is there."""
    written = writer.write()
    session.commit()
    if written:
        arriving.grew(first=first)
    return written


# Stands for a volunteer's token in links of a message composed once for many volunteers: as
# long as the tokens `new_token` makes, of characters quoted-printable leaves alone.
TOKEN_SLOT = "~" * 32


class _ReminderWriter:
    """Composes due reminders once per (hearing group, language) and records them in bulk.

    Many volunteers follow the same hearings: each group's text, calendar and MIME message
    are made once per language (`MessageTemplate`), and each volunteer's copy is those
    bytes with their address, Message-ID and links put in. The outbox rows and the
    deliveries that make each reminder exactly-once are inserted a few statements at a
    time, in the caller's transaction, as before.
    """

    def __init__(self, session: Session, now: datetime, notes: str) -> None:
        self.session, self.now, self.notes = session, now, notes
        self.sender = current_app.config["MAIL_FROM"]
        self.manage_prefix, self.manage_suffix = external_url("reminders.manage", token=TOKEN_SLOT).split(TOKEN_SLOT)
        self.link_parts: dict[str, list[str]] = {}
        self.templates: dict[tuple[tuple[int, ...], str], tuple[compose.Mail, list, MessageTemplate] | None] = {}
        self.calendars: dict[tuple[int, ...], list[tuple[str, bytes]]] = {}
        self.messages: list[dict[str, object]] = []
        self.deliveries: list[list[dict[str, object]]] = []

    def _template(self, hearings: list[Hearing], language: str):  # noqa: ANN202
        ids = tuple(h.id for h in hearings)
        key = (ids, language)
        if key not in self.templates:
            self.templates[key] = None  # a group that cannot be rendered is logged once and left out
            with skip_on_error("the reminders of hearing(s)", *ids):
                if ids not in self.calendars:
                    self.calendars[ids] = hearing_calendars(hearings)
                slot_url = self.manage_prefix + TOKEN_SLOT + self.manage_suffix
                mail = compose.reminder_mail(hearings, now=self.now, notes=self.notes, manage_url=slot_url,
                                             language=language)
                template = MessageTemplate(
                    sender=self.sender, subject=mail.subject, text_body=mail.text_body, html_body=mail.html_body,
                    date=self.now, body_slots=[slot_url], unsubscribe_slot="https://unsubscribe-slot.invalid/",
                    ics=self.calendars[ids],
                )
                self.templates[key] = (mail, self.calendars[ids], template)
        return self.templates[key]

    def _link(self, subscription: Subscription, page: str) -> str:
        """The volunteer's own link to `page`, at the endpoint its scope registered (those going
        to a hearing manage and withdraw on attendance's pages): url_for once per endpoint."""
        endpoint = page_endpoint(subscription, page)
        if endpoint not in self.link_parts:
            self.link_parts[endpoint] = external_url(endpoint, token=TOKEN_SLOT).split(TOKEN_SLOT)
        prefix, suffix = self.link_parts[endpoint]
        return prefix + subscription.token + suffix

    def add(self, subscription: Subscription, lead: int, hearings: list[Hearing]) -> None:
        """One volunteer's reminder of a group of hearings, with the deliveries that make it exactly-once."""
        made = self._template(hearings, subscription.language)
        if made is None:
            return
        mail, calendars, template = made
        ids = [h.id for h in hearings]
        with skip_on_error("the reminder of hearing(s)", *ids, "to subscription", subscription.id):
            manage, unsubscribe = self._link(subscription, "manage"), self._link(subscription, "unsubscribe")
            slot = self.manage_prefix + TOKEN_SLOT + self.manage_suffix
            message_id = new_message_id()
            raw = template.personalise(recipient=subscription.email, message_id=message_id, values=[manage],
                                       unsubscribe_url=unsubscribe)
            text_body = mail.text_body.replace(slot, manage)
            html_body = mail.html_body.replace(slot, str(escape(manage)))
            if raw is None:  # a token of another shape: this one composed in full
                raw = compose_message(
                    message_id=message_id, sender=self.sender, recipient=subscription.email, subject=mail.subject,
                    text_body=text_body, html_body=html_body, date=self.now, unsubscribe_url=unsubscribe,
                    ics=calendars,
                )
            versions = ",".join(f"{h.id}v{h.version}" for h in hearings)
            self.messages.append({
                "dedupe_key": f"reminder:{subscription.id}:{lead}:{versions}", "kind": "reminder",
                "recipient": subscription.email, "subject": mail.subject, "text_body": text_body,
                "html_body": html_body, "message_id": message_id, "status": OutboxStatus.PENDING,
                "attempts": 0, "next_attempt_at": self.now, "created_at": self.now, "last_error": "",
                "expires_at": max(h.starts_at for h in hearings), "raw": raw, "subscription_id": subscription.id,
            })
            self.deliveries.append([{
                "subscription_id": subscription.id, "hearing_id": h.id, "lead_minutes": lead,
                "hearing_version": h.version, "hearing_starts_at": h.starts_at, "created_at": self.now,
            } for h in hearings])

    def write(self, chunk: int = 1000) -> int:
        """Insert what was added (but keys already recorded), a chunk per statement; returns messages written."""
        session = self.session
        session.flush()  # anything the caller added before, in order
        outbox = OutboxMessage.__table__
        written = 0
        for start in range(0, len(self.messages), chunk):
            messages = self.messages[start:start + chunk]
            deliveries = self.deliveries[start:start + chunk]
            recorded = set(session.scalars(
                sa.select(OutboxMessage.dedupe_key).where(OutboxMessage.dedupe_key.in_([m["dedupe_key"] for m in messages]))
            ))
            keep = [i for i, m in enumerate(messages) if m["dedupe_key"] not in recorded]
            if not keep:
                continue
            ids = session.execute(
                sa.insert(outbox).returning(outbox.c.id, sort_by_parameter_order=True), [messages[i] for i in keep]
            ).scalars().all()
            rows = [dict(d, outbox_id=outbox_id) for i, outbox_id in zip(keep, ids) for d in deliveries[i]]
            session.execute(sa.insert(ReminderDelivery.__table__), rows)
            written += len(keep)
        self.messages, self.deliveries = [], []
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
