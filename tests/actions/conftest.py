"""Fixtures for the solidarity actions: a factory, accounts, a fresh rate limit, a submit helper."""
from __future__ import annotations

from datetime import timedelta

import pytest

from tests.auth.support import (  # noqa: F401  (fixtures)
    admin, admin_client, anon_client, editor, editor_client, make_user, post_form,
)
from tests.actions.support import CONTACT_MARKER, local_input
from tracker.actions.models import Action, ActionStatus
from tracker.extensions import db, limiter



@pytest.fixture(autouse=True)
def _fresh_rate_limits(app):
    """Each test starts with empty rate-limit counters (the app lives for the whole session)."""
    limiter.reset()
    yield


@pytest.fixture
def make_action(now):
    """An action; approved unless told, in Berlin, starting in three days at 18:00 local time."""
    counter = iter(range(1, 10**6))

    def make(**kw) -> Action:
        n = next(counter)
        starts = kw.pop("starts_at", now + timedelta(days=3))
        kw.setdefault("title", f"Vigil {n}")
        kw.setdefault("city", "Berlin")
        kw.setdefault("country", "DE")
        kw.setdefault("timezone", "Europe/Berlin")
        kw.setdefault("status", ActionStatus.APPROVED)
        kw.setdefault("contact", f"{CONTACT_MARKER} organiser{n}@example.org")
        kw.setdefault("ends_at", starts + timedelta(hours=2))
        kw.setdefault("created_at", now - timedelta(days=1))
        kw.setdefault("updated_at", now - timedelta(days=1))
        action = Action(starts_at=starts, **kw)
        db.session.add(action)
        db.session.flush()
        return action

    return make


@pytest.fixture
def submission(now):
    """A good submission's fields, an action in Berlin in a week; override any."""
    def fields(**kw) -> dict:
        start = (now + timedelta(days=7)).replace(hour=18, minute=0, second=0, microsecond=0)
        data = {"title": "Letter-writing evening", "description": "Postcards provided.\n\nBring a pen.",
                "organiser": "Circle Berlin", "city": "Berlin", "country": "DE", "address": "Café X, Hauptstr. 1",
                "timezone": "Europe/Berlin", "starts": local_input(start),
                "ends": local_input(start + timedelta(hours=2)), "case": "", "contact": "me@example.org"}
        data.update(kw)
        return {k: v for k, v in data.items() if v is not None}

    return fields


@pytest.fixture(autouse=True)
def _cold_event_cache():
    """Each test starts with no serialized action event kept from another."""
    from tracker.actions.ical import EVENTS

    EVENTS.clear()
    yield
    EVENTS.clear()
