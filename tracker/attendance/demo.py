"""The demo's people going to a hearing: fictional names and example.org addresses only."""
from __future__ import annotations

from datetime import date, datetime, time, timedelta, timezone

import sqlalchemy as sa
from sqlalchemy.orm import Session

from tracker.records.enums import HearingKind, HearingStatus
from tracker.records.models import Hearing
from tracker.reminders.models import Scope, Subscription
from tracker.reminders.subscriptions import DEFAULT_LEADS

# (first name, address, confirmed): five going, one who has not confirmed yet
DEMO_ATTENDEES = [
    ("Olga", "olga.demo@example.org", True),
    ("Pavel", "pavel.demo@example.org", True),
    ("", "no-name.demo@example.org", True),
    ("Svetlana", "svetlana.demo@example.org", True),
    ("Timofei", "timofei.demo@example.org", True),
    ("Nina", "nina.demo@example.org", False),
]


def load_demo_attendees(session: Session, today: date) -> None:
    """People going to the next session of the demo's joint trial (the first one after today)."""
    start_of_day = datetime.combine(today + timedelta(days=1), time(0), tzinfo=timezone.utc)
    hearing = session.scalar(
        sa.select(Hearing).where(Hearing.kind == HearingKind.TRIAL, Hearing.status == HearingStatus.SCHEDULED,
                                 Hearing.starts_at >= start_of_day)
        .order_by(Hearing.starts_at, Hearing.id).limit(1)
    )
    if hearing is None:
        return
    signed_up = start_of_day - timedelta(days=2)
    for first_name, email, confirmed in DEMO_ATTENDEES:
        session.add(Subscription(
            email=email, first_name=first_name, scope=Scope.HEARING, hearing=hearing,
            scope_key=f"hearing:{hearing.id}", lead_minutes=list(DEFAULT_LEADS), digest=False,
            created_at=signed_up, confirmed_at=signed_up + timedelta(minutes=5) if confirmed else None,
        ))
