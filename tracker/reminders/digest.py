"""The weekly digest: for volunteers who chose it, the coming week's hearings in one email."""
from __future__ import annotations

import logging
from collections import defaultdict
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from flask import current_app
from sqlalchemy.orm import Session

from tracker.mail.models import OutboxMessage
from tracker.mail.outbox import skip_on_error, weekly_slot
from tracker.records.enums import HearingStatus
from tracker.records.models import Hearing
from tracker.reminders import compose
from tracker.reminders.audience import following, load_public_hearings, subscriptions_by_scope
from tracker.reminders.models import Subscription
from tracker.reminders.notes import practical_notes
from tracker.reminders.subscriptions import mail_subscriber, manage_url

log = logging.getLogger(__name__)



def digest_week(now: datetime, tz: ZoneInfo) -> tuple[datetime, str] | None:
    """This week's digest moment (Monday at DIGEST_HOUR, local) and key, once it has come."""
    return weekly_slot(now, tz, current_app.config["DIGEST_HOUR"])


def enqueue_digests(session: Session, now: datetime) -> int:
    """Each digest subscriber's hearings of the coming week, once per week."""
    tz = ZoneInfo(current_app.config["DEFAULT_TIMEZONE"])
    week = digest_week(now, tz)
    if week is None:
        return 0
    start, week_key = week
    by_scope = subscriptions_by_scope(session, digest=True)
    if not by_scope:
        return 0
    done = set(session.scalars(
        sa.select(OutboxMessage.dedupe_key).where(OutboxMessage.dedupe_key.like(f"digest:%:{week_key}"))
    ))
    end = start + timedelta(days=7)
    hearings = load_public_hearings(
        session, Hearing.status == HearingStatus.SCHEDULED, Hearing.starts_at > now, Hearing.starts_at < end
    )
    per_subscription: dict[int, list[Hearing]] = defaultdict(list)
    subscriptions: dict[int, Subscription] = {}
    for hearing in hearings:
        for subscription in following(hearing, by_scope):
            per_subscription[subscription.id].append(hearing)
            subscriptions[subscription.id] = subscription
    notes = practical_notes(session)
    written = 0
    for subscription_id, followed in per_subscription.items():
        key = f"digest:{subscription_id}:{week_key}"
        if key in done:
            continue
        subscription = subscriptions[subscription_id]
        with skip_on_error("the weekly digest of subscription", subscription_id):
            mail = compose.digest_mail(
                followed, first_day=now.astimezone(tz).date(), last_day=(end - timedelta(days=1)).date(),
                notes=notes, manage_url=manage_url(subscription), language=subscription.language,
            )
            mail_subscriber(session, subscription, mail, dedupe_key=key, kind="digest", now=now, expires_at=end,
                            check_existing=False)
            written += 1
    if written:
        log.info("recorded %d weekly digest(s) for %s", written, week_key)
    return written
