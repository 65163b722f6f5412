"""Every API listing sends the same number of SQL statements per page whatever the data size."""
from __future__ import annotations

import pytest
import time_machine

from tracker.extensions import db
from tracker.records.synthetic import seed_movement

URLS = [
    "/api/v1/hearings",
    "/api/v1/hearings?limit=200",
    "/api/v1/hearings?case=syn-case-1",
    "/api/v1/hearings?defendant=syn-defendant-1",
    "/api/v1/hearings?court={court}&status=scheduled&from=2026-03-01&to=2026-04-30",
    "/api/v1/defendants",
    "/api/v1/defendants?limit=200",
    "/api/v1/defendants?case=syn-case-1&status=pre_trial_detention",
    "/api/v1/defendants/syn-defendant-1",
    "/api/v1/cases",
    "/api/v1/cases/syn-case-1",
    "/api/v1/courts",
    "/api/v1/hearings/{hearing}",
]


def _counts(client, count_queries) -> dict[str, int]:
    from sqlalchemy import select

    from tracker.records.models import Court, Hearing

    ids = {"court": db.session.scalar(select(Court.id).order_by(Court.id)),
           "hearing": db.session.scalar(select(Hearing.id).order_by(Hearing.id))}
    db.session.remove()
    result = {}
    for template in URLS:
        url = template.format(**ids)
        with count_queries() as counter:
            response = client.get(url)
        assert response.status_code == 200, (url, response.get_data(as_text=True)[:200])
        result[template] = counter.count
        following = response.get_json().get("next")
        if following:  # the second page, reached through the cursor, costs the same
            with count_queries() as counter:
                assert client.get(following).status_code == 200
            result[template + " (page 2)"] = counter.count
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
    # pages that had no second page with little data are compared on their first page only
    assert {k: v for k, v in many.items() if k in few} == few
    assert any(k.endswith("(page 2)") for k in few)
    assert max(many.values()) <= 7, many
    hearings = {k: v for k, v in many.items() if k.startswith("/api/v1/hearings?") or k == "/api/v1/hearings"}
    assert max(hearings.values()) <= 5, hearings
