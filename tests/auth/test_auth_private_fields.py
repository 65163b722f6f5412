"""Lawyers' contacts, internal notes and organisers' contacts never reach a public page, feed or API answer, nor an
editor who may not edit that defendant; hidden defendants are named only to those who may."""
from __future__ import annotations

import io
import re
import zipfile
from datetime import date, timedelta

import pytest
import time_machine
from werkzeug.routing import IntegerConverter

from tests.auth.support import log_in, new_client, post_form
from tracker.access import PUBLIC, TOKEN
from tracker.actions.models import Action, ActionStatus
from tracker.editing import services
from tracker.extensions import db
from tracker.records.models import Hearing
from tracker.reminders.models import Scope, Subscription

MARKER = "PRIVATE-MARKER-7f3a"


def going_to(hearing: Hearing, now) -> None:  # noqa: ANN001
    """Attendees of the hearing whose address and first name carry the marker: only its
    editors may see them, never the public (the count only), a feed or the API."""
    for confirmed in (True, False):
        db.session.add(Subscription(
            email=f"{MARKER}-{confirmed}@example.org", first_name=f"{MARKER}", scope=Scope.HEARING, hearing=hearing,
            scope_key=f"hearing:{hearing.id}", lead_minutes=[1440], created_at=now,
            confirmed_at=now if confirmed else None,
        ))


def readable(response) -> str:  # noqa: ANN001
    """The text a response carries; a workbook (xlsx) is a zip of XML, read member by member."""
    data = response.get_data()
    if data[:2] == b"PK":
        with zipfile.ZipFile(io.BytesIO(data)) as book:
            return "".join(book.read(name).decode("utf-8", "replace") for name in book.namelist())
    return data.decode("utf-8")



def test_private_fields_appear_in_no_public_page_or_feed(
    app, anon_client, editor, make_case, make_defendant, make_measure, make_decision, make_hearing, now
):
    case = make_case(slug="shared")
    person = make_defendant(slug="shared", cases=[case], lawyer_contacts=f"{MARKER} lawyer +7 900",
                            internal_notes=f"{MARKER} family asked", birth_date=date(1990, 3, 5))  # a birthday soon: on /dates
    make_measure(person, starts_on=date(2025, 6, 8), until=date(2026, 6, 8))
    make_decision(person, under_appeal=True)
    hearing = make_hearing(defendants=[person], case=case, starts_at=now + timedelta(days=2))
    going_to(hearing, now)
    # organisers' contacts, and actions not (or no longer) public
    for title, status in (("Vigil", ActionStatus.APPROVED), (f"{MARKER} pending", ActionStatus.PENDING),
                          (f"{MARKER} rejected", ActionStatus.REJECTED)):
        db.session.add(Action(title=title, city="Berlin", country="DE", timezone="Europe/Berlin", status=status,
                              starts_at=now + timedelta(days=3), ends_at=now + timedelta(days=3, hours=2),
                              case=case, defendants=[person], contact=f"{MARKER} organiser@example.org"))
    db.session.commit()
    # an editor's change puts the marker into the audit trail too
    services.update_defendant(db.session, person, {"internal_notes": f"{MARKER} updated"},
                              expected_version=person.version, by=editor, now=now)
    db.session.commit()

    try:
        from tracker.feeds.publish import publish_feeds
    except ImportError:  # the feeds feature is not there yet: its routes are still walked below
        publish_feeds = None

    # Token routes are walked with a token nobody holds: an editor's own private feed (for
    # logged-in editors' calendars) is not public output and is the feeds feature's to judge.
    values = {"slug": "shared", "hearing_id": hearing.id, "case_id": case.id, "defendant_id": person.id,
              "lang": "ru"}  # the feeds of the other language too
    checked: list[str] = []
    with time_machine.travel(now, tick=False):
        if publish_feeds is not None:
            publish_feeds(now)
        for rule in app.url_map.iter_rules():
            view = app.view_functions[rule.endpoint]
            if rule.endpoint == "static" or "GET" not in rule.methods:
                continue
            if getattr(view, "access", None) not in (PUBLIC, TOKEN):
                continue
            args = {}
            for name in rule.arguments - set(rule.defaults or {}):
                if name in values:
                    args[name] = values[name]
                elif isinstance(rule._converters[name], IntegerConverter):
                    args[name] = 1
                else:
                    args[name] = "unknown"
            with app.test_request_context():
                from flask import url_for

                url = url_for(rule.endpoint, **args, **(rule.defaults or {}))
            response = anon_client.get(url, query_string={"q": "shared"} if url == "/" else None)
            body = response.get_data(as_text=True)
            assert MARKER not in body, f"{url} shows a private field"
            checked.append(f"{url} {response.status_code}")

    # the pages that show this defendant were really rendered, not 404s
    for url in ("/ 200", "/defendants/shared 200", "/cases/shared 200", "/hearings 200", "/dates 200",
                f"/attend/{hearing.id} 200", "/actions 200", "/actions.ics 200", "/actions/defendants/shared.ics 200",
                "/actions/cases/shared.ics 200"):
        assert url in checked
    with time_machine.travel(now, tick=False):  # the public sees the count of the confirmed, nothing else
        assert "1 person is going" in anon_client.get("/defendants/shared").get_data(as_text=True)
    if publish_feeds is not None:
        assert any(c.endswith("/defendants/shared.ics 200") for c in checked), checked
        assert any(c.endswith("/feeds/ru/defendants/shared.ics 200") for c in checked), checked


# --- an editor limited to some cases ------------------------------------------------------------

HIDDEN = "5c1e"  # in every name and the slug of a hidden defendant of another case
OWN_NOTE = "OWN-NOTE-2b9d"  # the limited editor's own defendant: they may read it


def _checked(body: str, name: str) -> list[str]:
    """The values of the ticked checkboxes called `name` in a rendered form."""
    found = []
    for tag in re.findall(r"<input[^>]*>", body):
        if f'name="{name}"' in tag and re.search(r"\bchecked\b", tag):
            found.append(re.search(r'value="([^"]*)"', tag).group(1))
    return found


@pytest.fixture
def joint_hearings(make_user, make_case, make_defendant, make_measure, make_decision, make_hearing, now):
    """A case-limited editor, their defendant, and co-defendants of another case on joint hearings."""
    mine, theirs = make_case(slug="mine", title="Our case"), make_case(slug="theirs", title="Their case")
    own = make_defendant(slug="own", name_latin="Own Client", cases=[mine], internal_notes=OWN_NOTE,
                         lawyer_contacts=f"{OWN_NOTE} lawyer")
    public_other = make_defendant(slug="public-other", name_latin="Public Codefendant", cases=[theirs],
                                  lawyer_contacts=f"{MARKER} lawyer", internal_notes=f"{MARKER} notes")
    hidden_other = make_defendant(slug=f"hidden-{HIDDEN}", name_latin=f"Hidden {HIDDEN}",
                                  name_original=f"Скрытый {HIDDEN}", is_public=False, cases=[theirs],
                                  lawyer_contacts=f"{MARKER} lawyer", internal_notes=f"{MARKER} notes")
    for person in (own, public_other, hidden_other):
        make_measure(person, starts_on=date(2025, 6, 8), until=date(2026, 3, 20), note=f"{person.slug} measure")
        make_decision(person, decided_on=date(2026, 2, 20))
    ours = make_hearing(case=mine, defendants=[own, public_other, hidden_other], starts_at=now + timedelta(days=2))
    their = make_hearing(case=theirs, defendants=[own, hidden_other], starts_at=now + timedelta(days=4))
    loose = make_hearing(case=None, defendants=[own, hidden_other], starts_at=now + timedelta(days=5))
    going_to(their, now)  # their case's hearing: its attendees are not the limited editor's to see
    db.session.commit()
    editor = make_user("limited@example.org", cases=[mine])
    return dict(editor=editor, mine=mine, theirs=theirs, own=own, public_other=public_other,
                hidden_other=hidden_other, ours=ours, their=their, loose=loose)


def test_a_limited_editor_never_gets_private_fields_or_hidden_names_of_others(app, joint_hearings, now):
    data = joint_hearings
    client = new_client(app)
    people = [data["own"], data["public_other"], data["hidden_other"]]
    hearings = [data["ours"], data["their"], data["loose"]]
    # every value each URL argument can take here: the editor's own records and everyone else's
    choices = {
        "hearing_id": [h.id for h in hearings],
        "defendant_id": [p.id for p in people],
        "case_id": [data["mine"].id, data["theirs"].id],
        "measure_id": [m.id for p in people for m in p.measures],
        "decision_id": [d.id for p in people for d in p.decisions],
        "slug": [p.slug for p in people] + ["mine", "theirs"],
        "token": [data["editor"].feed_token],
        "user_id": [data["editor"].id],
    }
    extra_queries = {"/": [{"q": "Hidden"}, {"case": "theirs"}],
                     "/hearings": [{"case": "theirs"}, {"case": "mine"}],
                     "/edit/hearings/new": [{"defendant": p.id} for p in people],
                     "/edit/defendants/new": [{"case": data["theirs"].id}]}
    seen: dict[str, int] = {}
    with time_machine.travel(now, tick=False):  # session cookies are dated: log in on the same clock
        assert log_in(client, data["editor"].email).status_code == 302
        from tracker.feeds.publish import publish_feeds

        publish_feeds(now)
        for rule in app.url_map.iter_rules():
            if rule.endpoint == "static" or "GET" not in rule.methods:
                continue
            names = sorted(rule.arguments - set(rule.defaults or {}))
            combos = [{}]
            for name in names:
                options = choices.get(name, [1] if isinstance(rule._converters[name], IntegerConverter) else ["x"])
                combos = [{**combo, name: value} for combo in combos for value in options]
            for args in combos:
                with app.test_request_context():
                    from flask import url_for

                    url = url_for(rule.endpoint, **args, **(rule.defaults or {}))
                for query in [None] + extra_queries.get(url, []):
                    response = client.get(url, query_string=query)
                    body = readable(response)
                    shown = f"{url} {query or ''} ({response.status_code})"
                    assert MARKER not in body, f"{shown} shows another case's private field"
                    assert HIDDEN not in body, f"{shown} names a hidden defendant of another case"
                    seen[url] = response.status_code

    # the pages and the feed were really rendered, and show what the editor may see
    feed_url = f"/feeds/private/{data['editor'].feed_token}.ics"
    for url in ("/edit/", f"/edit/hearings/{data['ours'].id}", f"/edit/defendants/{data['own'].id}", feed_url,
                f"/edit/hearings/{data['ours'].id}/attendees"):
        assert seen[url] == 200, url
    assert seen[f"/edit/hearings/{data['their'].id}/attendees"] in (403, 404)
    with time_machine.travel(now, tick=False):
        feed = client.get(feed_url).get_data(as_text=True)
        dashboard = client.get("/edit/").get_data(as_text=True)
        page = client.get(f"/edit/hearings/{data['ours'].id}").get_data(as_text=True)
    assert OWN_NOTE in feed  # their own defendant's notes
    assert "Public Codefendant" in feed and "Public Codefendant" in dashboard and "Public Codefendant" in page
    assert "Own Client" in dashboard and "Own Client" in page


def test_an_unlimited_editor_still_gets_everyone(app, joint_hearings, make_user, now):
    editor = make_user("everything@example.org")
    client = new_client(app)
    with time_machine.travel(now, tick=False):
        assert log_in(client, editor.email).status_code == 302
        feed = client.get(f"/feeds/private/{editor.feed_token}.ics").get_data(as_text=True)
        dashboard = client.get("/edit/").get_data(as_text=True)
        page = client.get(f"/edit/hearings/{joint_hearings['ours'].id}").get_data(as_text=True)
    assert MARKER in feed and HIDDEN in feed and OWN_NOTE in feed
    assert HIDDEN in dashboard and HIDDEN in page


def test_a_limited_editor_saving_a_joint_hearing_keeps_the_co_defendants(app, joint_hearings, now):
    data = joint_hearings
    client = new_client(app)
    path = f"/edit/hearings/{data['ours'].id}"
    with time_machine.travel(now, tick=False):
        assert log_in(client, data["editor"].email).status_code == 302
        page = client.get(path).get_data(as_text=True)
        ticked = _checked(page, "defendants")
        assert str(data["hidden_other"].id) not in ticked  # not offered by name...
        form = {"kind": "trial", "starts_at": "2026-03-04T12:00", "case": str(data["mine"].id),
                "court": str(data["ours"].court_id), "duration_minutes": "120", "courtroom": "Room 9",
                "defendants": ticked, "version": str(data["ours"].version)}
        saved = post_form(client, path, form)
    assert saved.status_code == 302, saved.get_data(as_text=True)
    db.session.expire_all()
    hearing = db.session.get(Hearing, data["ours"].id)
    assert hearing.courtroom == "Room 9"
    # ...but kept, like the public co-defendant of the other case
    assert {d.id for d in hearing.defendants} == {data["own"].id, data["public_other"].id, data["hidden_other"].id}
