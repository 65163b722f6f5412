"""An action's start or end typed in the place's repeated autumn hour: refused with both offsets
named and a choice offered; with the choice, stored at that instant; an editor saving an
action at the second 02:30 unchanged keeps it (tracker.records.wallclock)."""
from __future__ import annotations

import html
import re
from datetime import datetime, timezone

import pytest
import sqlalchemy as sa
import time_machine

from tests.auth.support import post_form
from tracker.actions.models import Action
from tracker.extensions import db

SECOND = datetime(2026, 10, 25, 1, 30, tzinfo=timezone.utc)  # 02:30 CET in Berlin, the second time
TWICE = ("2026-10-25 02:30 happens twice in Europe/Berlin (the clocks go back then): choose UTC+02:00 for the "
         "first time or UTC+01:00 for the second.")


@pytest.fixture(autouse=True)
def _clock(now):
    with time_machine.travel(now, tick=False):
        yield


def test_an_organiser_is_asked_which_0230_and_the_choice_is_kept(anon_client, submission):
    data = submission(starts="2026-10-25T02:30", ends="2026-10-25T04:00")
    asked = post_form(anon_client, "/actions/new", data)
    assert asked.status_code == 422
    page = html.unescape(asked.get_data(as_text=True))
    assert re.search(r'id="starts-error"[^>]*>' + re.escape(TWICE), page)
    assert '<option value="+01:00">02:30 UTC+01:00, the second time, an hour later</option>' in page
    assert "ends_offset" not in page  # 04:00 happens once
    assert db.session.scalar(sa.select(sa.func.count(Action.id))) == 0

    stored = post_form(anon_client, "/actions/new", {**data, "starts_offset": "+01:00"})
    assert stored.status_code == 302
    assert db.session.scalar(sa.select(Action.starts_at)) == SECOND


def test_a_skipped_time_is_refused_beside_its_field(anon_client, submission):
    refused = post_form(anon_client, "/actions/new", submission(starts="2026-03-29T02:30", ends="2026-03-29T04:00"))
    assert refused.status_code == 422
    assert "This time does not exist in Europe/Berlin: the clocks go forward then." in refused.get_data(as_text=True)


def test_an_editor_saving_an_action_at_the_second_0230_unchanged_keeps_it(editor_client, make_action):
    action = make_action(starts_at=SECOND, ends_at=datetime(2026, 10, 25, 3, 0, tzinfo=timezone.utc))
    db.session.commit()
    url = f"/edit/actions/{action.id}"
    form = editor_client.get(url).get_data(as_text=True)
    assert '<option selected value="+01:00">' in form
    saved = post_form(editor_client, url, {
        "title": action.title, "description": "", "organiser": "", "address": "", "city": "Berlin", "country": "DE", "timezone": "Europe/Berlin",
        "starts": "2026-10-25T02:30", "starts_offset": "+01:00", "ends": "2026-10-25T04:00",
        "contact": action.contact, "version": str(action.version)})
    assert saved.status_code == 302
    db.session.expire_all()
    assert db.session.get(Action, action.id).starts_at == SECOND
