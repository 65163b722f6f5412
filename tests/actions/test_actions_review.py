"""Editors approve, edit, reject and call off actions, each change in the audit trail; an editor
limited to some cases reviews only the actions of those cases."""
from __future__ import annotations

import re
from datetime import datetime, timezone

import pytest
import sqlalchemy as sa
import time_machine

from tests.actions.conftest import post_form
from tests.auth.support import log_in, new_client
from tracker.actions.models import Action, ActionStatus
from tracker.editing.models import AuditEntry
from tracker.extensions import db


@pytest.fixture(autouse=True)
def _clock(now):
    with time_machine.travel(now, tick=False):
        yield


def _fields(action: Action, **change) -> dict:
    data = {"title": action.title, "description": action.description, "organiser": action.organiser,
            "city": action.city, "country": action.country, "address": action.address, "timezone": action.timezone,
            "starts": action.local_start.strftime("%Y-%m-%dT%H:%M"), "ends": action.local_end.strftime("%Y-%m-%dT%H:%M"),
            "case": str(action.case_id or ""), "defendants": [str(d.id) for d in action.defendants],
            "contact": action.contact, "version": str(action.version)}
    data.update(change)
    return data


def _reload(action_id: int) -> Action:
    db.session.expire_all()
    return db.session.get(Action, action_id)


def _entries(action_id: int) -> list[AuditEntry]:
    return list(db.session.scalars(sa.select(AuditEntry).where(AuditEntry.entity_type == "action",
                                                               AuditEntry.entity_id == action_id)
                                   .order_by(AuditEntry.id)))


def test_an_editor_corrects_and_approves_a_pending_action(editor_client, editor, anon_client, make_action):
    action = make_action(status=ActionStatus.PENDING, title="Vigl", starts_at=datetime(2026, 3, 9, 17, tzinfo=timezone.utc))
    db.session.commit()
    page = editor_client.get("/edit/")
    assert "1 action awaits review." in page.get_data(as_text=True)
    queue = editor_client.get("/edit/actions").get_data(as_text=True)
    assert f'href="/edit/actions/{action.id}"' in queue
    form = editor_client.get(f"/edit/actions/{action.id}").get_data(as_text=True)
    assert 'value="2026-03-09T18:00"' in form  # the local time in Berlin, not UTC
    assert action.contact in form  # editors see the contact

    response = post_form(editor_client, f"/edit/actions/{action.id}",
                         {**_fields(action, title="Vigil", starts="2026-03-09T19:00", ends="2026-03-09T21:00"),
                          "approve": "1"})

    assert response.status_code == 302
    action = _reload(action.id)
    assert action.status is ActionStatus.APPROVED and action.title == "Vigil" and action.version == 2
    assert action.starts_at == datetime(2026, 3, 9, 18, tzinfo=timezone.utc)
    [entry] = _entries(action.id)
    assert entry.action == "approve" and entry.user_id == editor.id
    assert entry.changes["title"] == ["Vigl", "Vigil"] and entry.changes["status"] == ["pending", "approved"]
    assert "Vigil" in anon_client.get("/actions").get_data(as_text=True)
    history = editor_client.get(f"/edit/actions/{action.id}").get_data(as_text=True)
    assert "Approved the action" in history


def test_an_edit_after_approval_keeps_it_public_and_raises_the_version(editor_client, make_action):
    action = make_action(title="Picket")
    db.session.commit()
    response = post_form(editor_client, f"/edit/actions/{action.id}", _fields(action, address="Square 2"))
    assert response.status_code == 302
    action = _reload(action.id)
    assert action.address == "Square 2" and action.status is ActionStatus.APPROVED and action.version == 2
    assert [e.action for e in _entries(action.id)] == ["update"]


def test_a_save_over_someone_elses_newer_change_is_refused_and_what_was_typed_kept(editor_client, make_action,
                                                                                   editor, now):
    from tracker.actions import logic

    action = make_action(title="Picket")
    db.session.commit()
    stale = _fields(action, title="My title")
    logic.update_action(db.session, action, {**_fields(action, city="Hamburg"), "starts": action.local_start
                        .replace(tzinfo=None), "ends": action.local_end.replace(tzinfo=None)},
                        expected_version=action.version, by=editor, now=now)
    db.session.commit()
    response = post_form(editor_client, f"/edit/actions/{action.id}", stale)
    assert response.status_code == 409
    assert 'value="My title"' in response.get_data(as_text=True)
    assert _reload(action.id).title == "Picket"


def test_bad_input_from_an_editor_is_shown_beside_the_field(editor_client, make_action):
    action = make_action()
    db.session.commit()
    response = post_form(editor_client, f"/edit/actions/{action.id}", _fields(action, ends=_fields(action)["starts"]))
    assert response.status_code == 422
    assert re.search(r'id="ends-error"[^>]*>The end must come after the start', response.get_data(as_text=True))


def test_reject_and_call_off(editor_client, anon_client, make_action):
    pending = make_action(status=ActionStatus.PENDING, title="Pending one")
    approved = make_action(title="Approved one")
    db.session.commit()

    response = post_form(editor_client, f"/edit/actions/{pending.id}/reject",
                         {"review-version": str(pending.version), "review-reason": "Not an action for our prisoners"},
                         token_from=f"/edit/actions/{pending.id}")
    assert response.status_code == 302
    assert _reload(pending.id).status is ActionStatus.REJECTED
    [entry] = _entries(pending.id)
    assert entry.action == "reject" and entry.note == "Not an action for our prisoners"

    response = post_form(editor_client, f"/edit/actions/{approved.id}/cancel", {"review-version": str(approved.version)},
                         token_from=f"/edit/actions/{approved.id}")
    assert response.status_code == 302
    assert _reload(approved.id).status is ActionStatus.CANCELLED
    page = anon_client.get("/actions").get_data(as_text=True)
    assert "Called off: Approved one" in page and "Pending one" not in page

    # a pending action cannot be "called off"; a stale version decides nothing
    other = make_action(status=ActionStatus.PENDING)
    db.session.commit()
    assert post_form(editor_client, f"/edit/actions/{other.id}/cancel", {"review-version": str(other.version)},
                     token_from=f"/edit/actions/{other.id}").status_code == 409
    response = post_form(editor_client, f"/edit/actions/{other.id}/reject", {"review-version": "0"},
                         token_from=f"/edit/actions/{other.id}")
    assert response.status_code == 302 and _reload(other.id).status is ActionStatus.PENDING


def test_a_limited_editor_reviews_only_actions_of_their_cases(app, make_user, make_case, make_defendant, make_action,
                                                              now):
    mine, theirs = make_case(slug="mine", title="Mine"), make_case(slug="theirs", title="Theirs")
    own = make_defendant(slug="own", cases=[mine])
    other = make_defendant(slug="other", cases=[theirs])
    by_case = make_action(status=ActionStatus.PENDING, case=mine, title="By case")
    by_defendant = make_action(status=ActionStatus.PENDING, defendants=[own], title="By defendant")
    foreign = make_action(status=ActionStatus.PENDING, defendants=[other], case=theirs, title="Foreign")
    unlinked = make_action(status=ActionStatus.PENDING, title="Linked to nothing")
    db.session.commit()
    limited = make_user("limited@example.org", cases=[mine])
    client = new_client(app)
    assert log_in(client, limited.email).status_code == 302

    queue = client.get("/edit/actions").get_data(as_text=True)
    assert "By case" in queue and "By defendant" in queue
    assert "Foreign" not in queue and "Linked to nothing" not in queue
    assert "2 actions await review." in client.get("/edit/").get_data(as_text=True)
    assert client.get(f"/edit/actions/{by_defendant.id}").status_code == 200
    for action in (foreign, unlinked):
        assert client.get(f"/edit/actions/{action.id}").status_code == 403
        token_page = f"/edit/actions/{by_case.id}"
        assert post_form(client, f"/edit/actions/{action.id}", _fields(action), token_from=token_page).status_code == 403
        assert post_form(client, f"/edit/actions/{action.id}/reject", {"review-version": "1"},
                         token_from=token_page).status_code == 403
        assert _reload(action.id).status is ActionStatus.PENDING


def test_visitors_cannot_reach_the_review_pages(anon_client, make_action):
    action = make_action(status=ActionStatus.PENDING)
    db.session.commit()
    for url in ("/edit/actions", f"/edit/actions/{action.id}"):
        response = anon_client.get(url)
        assert response.status_code == 302 and "/login" in response.headers["Location"]
    assert anon_client.post(f"/edit/actions/{action.id}/reject").status_code in (302, 400)
    assert _reload(action.id).status is ActionStatus.PENDING


def test_an_action_edited_to_link_a_hidden_defendant_only_is_not_public(editor_client, anon_client, make_action,
                                                                        make_defendant):
    hidden = make_defendant(slug="hidden", name_latin="Hidden 7c1", is_public=False)
    action = make_action(title="Quiet vigil", defendants=[hidden])
    db.session.commit()
    assert "Quiet vigil" not in anon_client.get("/actions").get_data(as_text=True)
    page = editor_client.get(f"/edit/actions/{action.id}").get_data(as_text=True)
    assert "not public: every defendant it names is hidden" in page
    # an editor's save keeps the hidden defendant it already names
    assert post_form(editor_client, f"/edit/actions/{action.id}", _fields(action)).status_code == 302
    assert [d.slug for d in _reload(action.id).defendants] == ["hidden"]


@pytest.mark.parametrize("left_out", ["description", "organiser", "address"])
def test_an_edit_posted_without_an_optional_field_stores_it_empty_not_a_500(editor_client, make_action, left_out):
    """Browsers always send every field; a script may not. An optional text left out is empty."""
    action = make_action(title="Picket", description="Bring candles", organiser="Group", address="Square 1")
    db.session.commit()
    data = _fields(action)
    del data[left_out]
    response = post_form(editor_client, f"/edit/actions/{action.id}", data)
    assert response.status_code == 302
    assert getattr(_reload(action.id), left_out) == ""
