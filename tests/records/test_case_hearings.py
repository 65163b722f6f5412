"""The hearings of a case are the same wherever the case is followed.

A hearing belongs to a case when its case is that case, or when it has no case and one
of its (public) defendants is in that case. The case page, /hearings?case=, the case's
calendar feed, the API's case filter and the volunteers who follow the case must all
list the same hearings: someone following a case must not be reminded of a hearing
that neither its page nor its feed shows.
"""
from __future__ import annotations

import re
from datetime import timedelta
from pathlib import Path

import pytest
import time_machine
from icalendar import Calendar

from tracker.extensions import db
from tracker.feeds.publish import build_feed, publish_feeds
from tracker.reminders.due import due_reminders
from tracker.reminders.models import Scope, Subscription

WEEK = 7 * 24 * 60


@pytest.fixture
def two_cases(now, make_case, make_defendant, make_hearing):
    x, y = make_case(slug="case-x"), make_case(slug="case-y")
    ann = make_defendant(slug="ann", name_latin="Ann Example", cases=[x])
    bob = make_defendant(slug="bob", name_latin="Bob Example", cases=[y])
    hidden = make_defendant(slug="hidden", name_latin="Hidden Example", cases=[x], is_public=False)
    day = timedelta(days=1)
    hearings = {
        "own": make_hearing(case=x, defendants=[ann], starts_at=now + day),
        # no case number: it belongs to the case of its defendant
        "no case": make_hearing(case=None, defendants=[ann], starts_at=now + 2 * day),
        # a joint hearing of two cases, held under case Y's number: Y's, not X's
        "joint": make_hearing(case=y, defendants=[ann, bob], starts_at=now + 3 * day),
        # nobody public: on no public page, feed or reminder
        "hidden only": make_hearing(case=x, defendants=[hidden], starts_at=now + 4 * day),
        "hidden, no case": make_hearing(case=None, defendants=[hidden], starts_at=now + 5 * day),
        # no case, a public defendant of Y and a hidden one of X: only Y's (X must not learn of it)
        "no case, hidden in x": make_hearing(case=None, defendants=[bob, hidden], starts_at=now + 6 * day),
    }
    for case in (x, y):
        db.session.add(Subscription(email=f"follows-{case.slug}@example.org", scope=Scope.CASE, case=case,
                                    scope_key=f"case:{case.id}", lead_minutes=[WEEK], digest=False,
                                    confirmed_at=now - day, created_at=now - day))
    db.session.commit()
    ids = {name: hearing.id for name, hearing in hearings.items()}
    return {"case-x": {ids["own"], ids["no case"]}, "case-y": {ids["joint"], ids["no case, hidden in x"]}}


def _linked_hearings(html: str) -> set[int]:
    return {int(i) for i in re.findall(r"/feeds/hearings/(\d+)\.ics", html)}


def _feed_hearings(body: bytes) -> set[int]:
    uids = [str(event["UID"]) for event in Calendar.from_ical(body).walk("VEVENT")]
    return {int(re.match(r"hearing-(\d+)@", uid).group(1)) for uid in uids}


def test_a_cases_page_feed_api_and_followers_list_the_same_hearings(app, client, now, two_cases):
    followed: dict[str, set[int]] = {slug: set() for slug in two_cases}
    for due in due_reminders(db.session, now):
        followed[due.subscription.email.removeprefix("follows-").removesuffix("@example.org")].add(due.hearing.id)
    for slug, expected in two_cases.items():
        with time_machine.travel(now, tick=False):
            page = client.get(f"/cases/{slug}").get_data(as_text=True)
            upcoming = client.get(f"/hearings?case={slug}").get_data(as_text=True)
            api = client.get(f"/api/v1/hearings?case={slug}").get_json()
        feed = build_feed(f"cases/{slug}.ics", now)  # on demand, before the first publishing
        assert _linked_hearings(page) == expected, slug
        assert _linked_hearings(upcoming) == expected, slug
        assert _feed_hearings(feed) == expected, slug
        assert {item["id"] for item in api["items"]} == expected, slug
        assert followed[slug] == expected, slug
    publish_feeds(now)
    for slug, expected in two_cases.items():
        published = (Path(app.config["FEEDS_DIR"]) / "cases" / f"{slug}.ics").read_bytes()
        assert _feed_hearings(published) == expected, slug
