"""Fixtures for the reminders: confirmed subscriptions, an editor, SMTP helpers, hearing changes."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest
import sqlalchemy as sa

from tests.auth.support import admin, admin_client, editor, editor_client, make_user  # noqa: F401
from tracker.extensions import db, limiter
from tracker.reminders.models import Scope, Subscription


@pytest.fixture(autouse=True)
def _fresh_rate_limits(app):
    """Each test starts with empty rate-limit counters (the app lives for the whole session)."""
    limiter.reset()
    yield


@pytest.fixture
def make_subscription():
    counter = iter(range(1, 10**6))

    def make(*, scope: Scope = Scope.ALL, case=None, defendant=None, leads=(1440, 180), digest=False,
             confirmed: bool = True, email: str | None = None, created_at: datetime | None = None,
             language: str = "en") -> Subscription:
        key = "all" if scope is Scope.ALL else f"case:{case.id}" if scope is Scope.CASE else f"defendant:{defendant.id}"
        stamp = datetime(2026, 1, 1, tzinfo=timezone.utc)
        subscription = Subscription(
            email=email or f"volunteer{next(counter)}@example.org", scope=scope, case=case,
            defendant=defendant, scope_key=key, lead_minutes=list(leads), digest=digest,
            confirmed_at=stamp if confirmed else None, created_at=created_at or stamp, language=language,
        )
        db.session.add(subscription)
        db.session.flush()
        return subscription

    return make
