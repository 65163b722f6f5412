"""Public pages issue the same number of SQL statements whatever the data size."""
from __future__ import annotations

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
]


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
        db.session.commit()
        few = _counts(client, count_queries)
        seed_movement(db.session, defendants=large, hearings=large * 10, now=now, prefix="more")
        db.session.commit()
        many = _counts(client, count_queries)
    assert few == many
    # 10 for the page, plus the data generation its ETag is made of (tracker/caching.py)
    assert max(many.values()) <= 11, many
