"""/api/v1/actions: approved actions only, in start order, times in the place's zone, never a contact."""
from __future__ import annotations

import time_machine

from tests.api.conftest import MARKER


def test_actions_list_public_ones_in_start_order_with_local_times(client, public_records, conforms, now):
    with time_machine.travel(now, tick=False):
        body = client.get("/api/v1/actions").get_json()
    conforms(body, "ActionList")
    titles = [item["title"] for item in body["items"]]
    assert titles == ["Vigil for Anna", "Letters evening"]
    vigil = body["items"][0]
    assert vigil["id"] == public_records.ids["vigil"]
    assert vigil["timezone"] == "Europe/Berlin" and vigil["starts_at"].endswith("+01:00")
    assert vigil["country"] == {"code": "DE", "name": "Germany"}
    assert vigil["status"] == {"value": "approved", "label": "approved"}
    assert [d["slug"] for d in vigil["defendants"]] == ["anna"]  # the hidden one is not named
    assert vigil["case"]["slug"] == "bolotnaya" and vigil["version"] == 1
    assert vigil["page_url"].endswith(f"/actions#action-{vigil['id']}")
    assert "contact" not in vigil and MARKER not in str(body)
    assert body["items"][1]["starts_at"].endswith("+04:00")


def test_actions_filters_and_paging(client, public_records, now):
    with time_machine.travel(now, tick=False):
        def titles(query: str) -> list[str]:
            return [item["title"] for item in client.get(f"/api/v1/actions?{query}").get_json()["items"]]

        assert titles("case=bolotnaya") == ["Vigil for Anna"]
        assert titles("case=other") == ["Letters evening"]
        assert titles("defendant=anna") == ["Vigil for Anna"]
        assert titles("defendant=boris") == []
        first = client.get("/api/v1/actions?limit=1").get_json()
        assert [i["title"] for i in first["items"]] == ["Vigil for Anna"] and first["next"]
        second = client.get(first["next"].replace("http://localhost", "")).get_json()
        assert [i["title"] for i in second["items"]] == ["Letters evening"] and second["next"] is None
        assert client.get(f"/api/v1/actions?defendant={public_records.slugs['hidden']}").status_code == 400
        bad = client.get("/api/v1/actions?city=Berlin")
        assert bad.status_code == 400 and "Unknown parameter" in bad.get_json()["error"]["message"]


def test_the_index_links_the_actions(client, public_records):
    assert client.get("/api/v1/").get_json()["actions"].endswith("/api/v1/actions")
