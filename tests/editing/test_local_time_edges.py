"""A hearing's time typed in its court's repeated autumn hour or skipped spring hour: a message
beside the field and, for the repeated hour, a choice of the two offsets; never a silent shift
by an hour nor a 500 (tracker.records.wallclock). Editing a hearing at the second 02:30 and
saving it unchanged used to move it to the first."""
from __future__ import annotations

import html
from datetime import datetime, timezone

import pytest
import time_machine

from tests.auth.support import post_form
from tracker.extensions import db
from tracker.records.models import Hearing

FIRST = datetime(2026, 10, 25, 0, 30, tzinfo=timezone.utc)  # 02:30 CEST in Berlin
SECOND = datetime(2026, 10, 25, 1, 30, tzinfo=timezone.utc)  # 02:30 CET, an hour later
TWICE = ("2026-10-25 02:30 happens twice in Europe/Berlin (the clocks go back then): choose UTC+02:00 for the "
         "first time or UTC+01:00 for the second.")
SKIPPED = "This time does not exist in Europe/Berlin: the clocks go forward then."


@pytest.fixture(autouse=True)
def _fixed_clock(now):
    with time_machine.travel(now, tick=False):
        yield


@pytest.fixture
def berlin(make_court, make_defendant):
    court = make_court(name="Amtsgericht Tiergarten", timezone="Europe/Berlin")
    anna = make_defendant(slug="anna")
    db.session.commit()
    return court, anna


def _new(client, court, anna, when: str, **extra):  # noqa: ANN001, ANN202
    return post_form(client, "/edit/hearings/new", {
        "kind": "trial", "starts_at": when, "court": str(court.id), "duration_minutes": "60",
        "defendants": [str(anna.id)], "case": "0", **extra})


def test_a_new_hearing_in_the_repeated_hour_asks_which_one(admin_client, berlin):
    court, anna = berlin
    asked = _new(admin_client, court, anna, "2026-10-25T02:30")
    assert asked.status_code == 422
    page = html.unescape(asked.get_data(as_text=True))
    assert TWICE in page
    assert '<option value="+02:00">02:30 UTC+02:00, the first time</option>' in page
    assert '<option value="+01:00">02:30 UTC+01:00, the second time, an hour later</option>' in page
    assert db.session.query(Hearing).count() == 0

    saved = _new(admin_client, court, anna, "2026-10-25T02:30", starts_at_offset="+01:00")
    assert saved.status_code == 302
    assert db.session.query(Hearing).one().starts_at == SECOND


@pytest.mark.parametrize("when", ["2026-03-29T02:30", "2026-03-29T02:00"])
def test_a_time_the_clocks_skip_is_refused_beside_the_field(admin_client, berlin, when):
    court, anna = berlin
    refused = _new(admin_client, court, anna, when)
    assert refused.status_code == 422
    assert SKIPPED in html.unescape(refused.get_data(as_text=True))
    assert db.session.query(Hearing).count() == 0


def test_an_ordinary_time_shows_no_choice_and_a_left_over_choice_is_ignored(admin_client, berlin):
    court, anna = berlin
    form = admin_client.get("/edit/hearings/new").get_data(as_text=True)
    assert "starts_at_offset" not in form
    saved = _new(admin_client, court, anna, "2026-12-01T11:00", starts_at_offset="+02:00")
    assert saved.status_code == 302
    assert db.session.query(Hearing).one().starts_at == datetime(2026, 12, 1, 10, 0, tzinfo=timezone.utc)


def test_a_hearing_at_the_second_0230_saved_unchanged_stays_there(admin_client, berlin, make_hearing):
    court, anna = berlin
    hearing = make_hearing(court=court, defendants=[anna], starts_at=SECOND)
    db.session.commit()
    page = f"/edit/hearings/{hearing.id}"
    form = admin_client.get(page).get_data(as_text=True)
    assert '<option selected value="+01:00">' in form
    saved = post_form(admin_client, page, {
        "kind": hearing.kind.value, "starts_at": "2026-10-25T02:30", "starts_at_offset": "+01:00",
        "court": str(court.id), "duration_minutes": str(hearing.duration_minutes), "defendants": [str(anna.id)],
        "case": "0", "is_open": "y", "version": str(hearing.version)})
    assert saved.status_code == 302
    db.session.expire_all()
    assert db.session.get(Hearing, hearing.id).starts_at == SECOND


def test_postponing_into_the_repeated_hour_asks_which_one(admin_client, berlin, make_hearing):
    court, anna = berlin
    hearing = make_hearing(court=court, defendants=[anna], starts_at=datetime(2026, 10, 20, 8, 0, tzinfo=timezone.utc))
    db.session.commit()
    url = f"/edit/hearings/{hearing.id}/postpone"
    asked = post_form(admin_client, url, {"postpone-to": "2026-10-25T02:30", "postpone-version": "1"})
    assert asked.status_code == 422 and TWICE in html.unescape(asked.get_data(as_text=True))
    moved = post_form(admin_client, url, {"postpone-to": "2026-10-25T02:30", "postpone-to_offset": "+02:00",
                                          "postpone-version": "1"})
    assert moved.status_code == 302
    db.session.expire_all()
    assert db.session.get(Hearing, hearing.id).starts_at == FIRST
