"""GET and HEAD never change anything, on every route of the app.

Link scanners and mail security gateways fetch every link in a message, often with
HEAD and without cookies; link checkers do the same to pages. A route that acts on
anything but a POST confirms sign-ups, unsubscribes volunteers or saves forms behind
people's backs. This walk finds the routes in `app.url_map` itself, so a route added
later is covered without touching this file: it fills each path argument with every
matching thing seeded below (fresh sign-up, confirmed subscription, invitation and
reset links, private feed token, every record), sends HEAD and GET anonymously and as
an admin, and compares every row of every table before and after.
"""
from __future__ import annotations

import itertools
from datetime import date, timedelta

import pytest
import sqlalchemy as sa

from tests.auth.support import log_in, make_user, new_client  # noqa: F401  (make_user: a fixture)
from tracker.actions.models import Action, ActionStatus
from tracker.auth import logic as auth_logic
from tracker.auth.models import Role
from tracker.extensions import db, limiter, utcnow
from tracker.records.models import HearingStatus, SiteSetting
from tracker.attendance.logic import sign_up as attend
from tracker.reminders.subscriptions import confirm_url, sign_up
from tracker.mail.models import OutboxMessage, OutboxStatus
from tracker.reminders.models import Scope, Subscription


def dump() -> dict[str, list[tuple]]:
    """Every row of every table, in primary-key order, read on a fresh connection."""
    db.session.remove()
    rows = {}
    with db.engine.connect() as conn:
        for table in db.metadata.sorted_tables:
            order = list(table.primary_key.columns) or list(table.columns)
            rows[table.name] = [tuple(row) for row in conn.execute(sa.select(table).order_by(*order))]
    return rows


def changes(before: dict[str, list[tuple]], after: dict[str, list[tuple]]) -> dict[str, tuple]:
    return {name: (before[name], after[name]) for name in before if before[name] != after[name]}


@pytest.fixture
def seeded(now, make_case, make_defendant, make_measure, make_decision, make_hearing, make_user):
    """Something for every route to act on; returns the candidate values of each path argument."""
    case = make_case(slug="walk", title="Walk case")
    person = make_defendant(slug="walk", name_latin="Walk Person")  # the same slug as the case: one value fits both
    case.defendants.append(person)
    measure = make_measure(person, until=date(2026, 12, 31))
    decision = make_decision(person)
    hearing = make_hearing(defendants=[person], case=case, starts_at=utcnow() + timedelta(days=2))
    make_hearing(defendants=[person], status=HearingStatus.POSTPONED, starts_at=utcnow() + timedelta(days=5))
    db.session.add(SiteSetting(key="hearing_notes", value="Bring ID."))
    admin = make_user("admin@example.org", role=Role.ADMIN)
    invited = make_user("invited@example.org", password=None)
    editor = make_user("editor@example.org")
    fresh = sign_up(db.session, email="fresh@example.org", scope=Scope.DEFENDANT,
                    defendant=person, lead_minutes=[1440], digest=False, now=utcnow())
    confirmed = sign_up(db.session, email="confirmed@example.org", scope=Scope.ALL,
                        lead_minutes=[1440], digest=False, now=utcnow())
    confirmed.confirmed_at = utcnow()
    # "I'll be there": a fresh attendance (its confirmation link) and a confirmed one (its withdraw page)
    going = attend(db.session, hearing=hearing, email="going@example.org", first_name="Anna", now=utcnow())
    went = attend(db.session, hearing=hearing, email="went@example.org", first_name="", now=utcnow())
    went.confirmed_at = utcnow()
    failed = OutboxMessage(dedupe_key="walk:failed", kind="reminder", recipient="confirmed@example.org",
                           subject="Failed", message_id="<walk@tracker.test>", status=OutboxStatus.FAILED,
                           subscription_id=confirmed.id)
    db.session.add(failed)
    for status in (ActionStatus.PENDING, ActionStatus.APPROVED):  # the review page of each, the calendars
        db.session.add(Action(title=f"Walk {status.value}", city="Berlin", country="DE", timezone="Europe/Berlin",
                              starts_at=utcnow() + timedelta(days=3), ends_at=utcnow() + timedelta(days=3, hours=2),
                              status=status, case=case, defendants=[person], contact="organiser@example.org"))
    db.session.commit()
    tokens = [
        fresh.token, confirmed.token, going.token, went.token, admin.feed_token,
        auth_logic.make_token(invited, auth_logic.INVITATION, utcnow()),
        auth_logic.make_token(editor, auth_logic.PASSWORD_RESET, utcnow()),
    ]
    signed = [confirm_url(fresh).rsplit("/", 1)[1], confirm_url(going).rsplit("/", 1)[1]]
    return {"token": tokens, "signed": signed, "slug": ["walk"], "anything": ["no/such/thing"],
            "lang": ["ru"]}


def ids_for(argument: str) -> list[int]:
    """`hearing_id` -> the id of every Hearing; `measure_id` -> every CustodyMeasure; ..."""
    stem = argument.removesuffix("_id")
    ids: list[int] = []
    for mapper in db.Model.registry.mappers:
        model = mapper.class_
        if argument.endswith("_id") and model.__name__.lower().endswith(stem):
            ids += db.session.scalars(sa.select(model.id).order_by(model.id))
    db.session.rollback()
    return ids


def candidates(rule, seeded: dict[str, list]) -> list[dict[str, object]]:
    values = {}
    for argument in sorted(rule.arguments - set(rule.defaults or ())):  # a default is fixed by the rule
        found = seeded.get(argument) or ids_for(argument)
        assert found, (f"{rule.rule}: the walk does not know what to put in <{argument}>; "
                       "teach `seeded` or `ids_for` in tests/app/test_safe_methods.py")
        values[argument] = found
    return [dict(zip(values, combination)) for combination in itertools.product(*values.values())]


def test_get_and_head_change_nothing_on_any_route(app, seeded):
    anonymous = new_client(app)
    admin = new_client(app)
    assert log_in(admin, "admin@example.org").status_code == 302  # logging in writes; before the first dump
    limiter.reset()
    walked = 0
    with app.test_request_context():
        rules = [rule for rule in app.url_map.iter_rules() if "GET" in rule.methods and rule.endpoint != "static"]
        urls = [(rule, app.url_map.bind("tracker.test").build(rule.endpoint, values))
                for rule in rules for values in candidates(rule, seeded)]
    for rule, url in urls:
        for who, client in (("anonymous", anonymous), ("admin", admin)):
            before = dump()
            head = client.head(url)
            assert not changes(before, dump()), f"HEAD {url} ({who}) changed the database: {changes(before, dump())}"
            get = client.get(url)
            assert not changes(before, dump()), f"GET {url} ({who}) changed the database: {changes(before, dump())}"
            assert head.status_code == get.status_code, f"HEAD {url} ({who}): {head.status_code}, GET: {get.status_code}"
            assert head.status_code < 500, f"{url} ({who}): {head.status_code}"
            walked += 1
    assert walked > 100  # every route, with every token and record


def test_head_on_a_fresh_confirmation_link_confirms_nothing(app, seeded):
    """The issue's case: a cookie-less `curl -I` on the link in the email."""
    curl = app.test_client(use_cookies=False)
    fresh = db.session.scalar(sa.select(Subscription).where(Subscription.email == "fresh@example.org"))
    response = curl.head(f"/reminders/confirm/{seeded['signed'][0]}")
    assert response.status_code == 200
    db.session.expire_all()
    assert db.session.get(Subscription, fresh.id).confirmed_at is None


def test_head_on_the_unsubscribe_link_keeps_the_subscription(app, seeded):
    curl = app.test_client(use_cookies=False)
    confirmed = db.session.scalar(sa.select(Subscription).where(Subscription.email == "confirmed@example.org"))
    curl.head(f"/reminders/unsubscribe/{confirmed.token}")
    db.session.expire_all()
    assert db.session.get(Subscription, confirmed.id) is not None
    assert curl.head(f"/reminders/manage/{confirmed.token}").status_code == 200  # not 400: link checkers call that broken


def test_head_and_get_on_an_attendance_confirmation_and_withdraw_link_change_nothing(app, seeded):
    """The attendance's links, as a mail scanner fetches them: counted only after a POST."""
    curl = app.test_client(use_cookies=False)
    going = db.session.scalar(sa.select(Subscription).where(Subscription.email == "going@example.org"))
    went = db.session.scalar(sa.select(Subscription).where(Subscription.email == "went@example.org"))
    signed = seeded["signed"][1]
    for method in (curl.head, curl.get):
        assert method(f"/attend/confirm/{signed}").status_code == 200
        assert method(f"/attend/withdraw/{went.token}").status_code == 200
    db.session.expire_all()
    assert db.session.get(Subscription, going.id).confirmed_at is None
    assert db.session.get(Subscription, went.id) is not None
