"""Change notices: followers learn that a hearing moved, was postponed or cancelled, and no
reminder for the old time goes out.

The notice of a move close to a reminder time is also that reminder (`COMBINE_WITHIN`).
`supersede_stale_reminders` is handed to the mail sender as a hook (reminders/__init__.py),
so a reminder of a hearing that moved is left out even before this job has run.
"""
from __future__ import annotations

import logging
from datetime import datetime, timedelta

import sqlalchemy as sa
from sqlalchemy.orm import Session

from tracker.mail.models import OutboxMessage, OutboxStatus
from tracker.mail.outbox import skip_on_error
from tracker.records.enums import HearingStatus
from tracker.records.models import Court, Hearing
from tracker.reminders import compose
from tracker.reminders.audience import FOLLOWED_BY, followers, subscriptions_by_scope
from tracker.reminders.due import DueReminder, hearing_calendars, record_delivery, recorded_leads
from tracker.reminders.models import HearingSnapshot, ReminderDelivery, Subscription
from tracker.reminders.notes import practical_notes
from tracker.reminders.subscriptions import mail_subscriber, manage_url

log = logging.getLogger(__name__)

CHANGE_LOOKBACK = timedelta(days=1)  # changes to hearings older than this are not announced
# A move after which a reminder for the new time is due, or falls due within this, sends one
# message that is both the notice and that reminder (see `_reminder_with_notice`).
COMBINE_WITHIN = timedelta(minutes=30)



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
        .options(FOLLOWED_BY)
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
        by_scope = subscriptions_by_scope(session, digest=None)
        courts = {court.id: court for court in session.scalars(
            sa.select(Court).where(Court.id.in_({s.court_id for _h, s, _k in changed}))
        )}
        recorded = recorded_leads(session, [h.id for h, _s, kind in changed if kind == "moved"])
        notes = practical_notes(session)
        for hearing, snapshot, kind in changed:
            following = followers(hearing, by_scope)
            unsent.add(hearing.id)
            with skip_on_error("the change notices of hearing", hearing.id, f"v{hearing.version}"):
                combined = 0
                for email, subscriptions in following.items():
                    due = _reminder_with_notice(hearing, kind, email, subscriptions, recorded, now)
                    subscription = due.subscription if due else subscriptions[0]
                    language = subscription.language
                    old_court = courts.get(snapshot.court_id, hearing.court)
                    mail = compose.change_mail(
                        hearing, kind, old_starts_at=snapshot.starts_at,
                        old_court_name=compose.court_name(old_court, language), now=now,
                        manage_url=manage_url(subscription), reminder=due is not None, notes=notes,
                        language=language,
                    )
                    message = mail_subscriber(
                        session, subscription, mail,
                        dedupe_key=f"change:{hearing.id}:v{hearing.version}:s{subscription.id}",
                        # A combined message is a reminder: superseded if the hearing moves again
                        # before it goes out, missed once the hearing has started.
                        kind="reminder" if due else "hearing_change", now=now,
                        expires_at=hearing.starts_at if due else None, ics=hearing_calendars([hearing]),
                    )
                    if message is None:
                        continue
                    written += 1
                    if due is not None:
                        combined += 1
                        record_delivery(session, subscription, hearing, due.lead_minutes, message, now)
                unsent.discard(hearing.id)
                log.info("hearing %s %s (v%s): %d notice(s), %d of them with the reminder",
                         hearing.id, kind, hearing.version, len(following), combined)
    for hearing, snapshot in rows:
        if hearing.id not in unsent:  # a notice that could not be written is tried again next run
            _take_snapshot(session, hearing, snapshot)
    supersede_stale_reminders(session)
    session.flush()
    return written
