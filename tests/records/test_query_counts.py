"""Public pages issue the same number of SQL statements whatever the data size."""
from __future__ import annotations

from datetime import timedelta

import pytest
import time_machine

from tracker.extensions import db
from tracker.records.synthetic import seed_movement

PAGES = [
    "/",
    "/?q=person+1",
    "/?q=1+Синтетическии+PERS",
    "/?case=syn-case-1",
    "/defendants/syn-defendant-1",
    "/cases/syn-case-1",
    "/hearings",
    "/dates",
    "/actions",
    "/actions/new",  # every public defendant offered: still three statements
]


def _seed_actions(count: int, now) -> None:  # noqa: ANN001
    """`count` approved actions in several countries, each for one to three defendants (the first
    defendant and case among them) or a case, so the defendant's and case's pages list some."""
    import sqlalchemy as sa

    from tracker.actions.models import Action, ActionStatus
    from tracker.records.models import Case, Defendant

    people = db.session.scalars(sa.select(Defendant).order_by(Defendant.id)).all()
    cases = db.session.scalars(sa.select(Case).order_by(Case.id)).all()
    places = [("Berlin", "DE", "Europe/Berlin"), ("Tbilisi", "GE", "Asia/Tbilisi"), ("Paris", "FR", "Europe/Paris")]
    for i in range(count):
        city, country, zone = places[i % len(places)]
        starts = now + timedelta(days=1 + i % 30, hours=i % 12)
        db.session.add(Action(title=f"Action {i}", city=city, country=country, timezone=zone, starts_at=starts,
                              ends_at=starts + timedelta(hours=2), status=ActionStatus.APPROVED,
                              contact="organiser@example.org", case=cases[i % len(cases)] if i % 2 else None,
                              defendants=[people[0]] + people[1 + i % 5: 2 + i % 7]))


def _counts(client, count_queries) -> dict[str, int]:
    result = {}
    for url in PAGES:
        with count_queries() as counter:
            response = client.get(url)
        assert response.status_code == 200, url
        result[url] = counter.count
    return result


@pytest.mark.parametrize("small, large", [(10, 500)])
def test_query_count_does_not_grow_with_data(client, count_queries, now, small, large):
    with time_machine.travel(now, tick=False):
        seed_movement(db.session, defendants=small, hearings=small * 10, now=now, prefix="syn")
        _seed_actions(small, now)
        db.session.commit()
        few = _counts(client, count_queries)
        seed_movement(db.session, defendants=large, hearings=large * 10, now=now, prefix="more")
        _seed_actions(large, now)
        db.session.commit()
        many = _counts(client, count_queries)
    assert few == many
    # 10 for the page, plus the data generation its ETag is made of (tracker/caching.py)
    assert max(many.values()) <= 11, many
