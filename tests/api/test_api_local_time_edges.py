"""A local date-time in the API's `from`/`to` (read in the site's zone) that the clocks skip or
repeat: a 400 naming the offsets, never a guess an hour off (tracker.records.wallclock).

Moscow kept summer time until 2010: on 31 October 2010 02:30 happened at +04:00, then at +03:00;
on 28 March 2010 02:30 did not happen."""
from __future__ import annotations

import pytest


@pytest.mark.parametrize("value, message", [
    ("2010-10-31T02:30", "'from': 2010-10-31T02:30:00 happens twice in Europe/Moscow (the clocks go back then): "
                         "give its offset, 2010-10-31T02:30:00+04:00 or 2010-10-31T02:30:00+03:00."),
    ("2010-03-28T02:30", "'from': 2010-03-28T02:30:00 does not exist in Europe/Moscow (the clocks go forward then)."),
])
def test_a_local_time_the_clocks_skip_or_repeat_is_a_400_saying_so(client, value, message):
    response = client.get(f"/api/v1/hearings?from={value}")
    assert response.status_code == 400
    assert response.get_json()["error"]["message"] == message


@pytest.mark.parametrize("value", ["2010-10-31T02:30:00+03:00", "2010-10-31T03:30", "2026-12-01T11:00", "2026-12-01"])
def test_an_offset_or_a_time_that_happens_once_is_read(client, value):
    assert client.get(f"/api/v1/hearings?from={value.replace('+', '%2B')}").status_code == 200
