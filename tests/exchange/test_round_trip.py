"""The admins' full export, read back by the import on an empty database, gives the same site."""
from __future__ import annotations

import io
import re
from datetime import timedelta

import pytest
import sqlalchemy as sa
import time_machine
from openpyxl import load_workbook

from tests.auth.support import log_in, new_client
from tests.exchange.conftest import files
from tracker.auth.models import User
from tracker.extensions import db
from tracker.actions import logic as actions
from tracker.actions.models import Action, ActionStatus
from tracker.records.demo import load_demo
from tracker.reminders.models import Subscription
from tracker.records.models import Case, Court, Defendant, Hearing

KEPT_TABLES = {"users", "editor_cases", "site_settings"}  # accounts and settings are not records


def public_pages(app) -> dict[str, str]:  # noqa: ANN001
    """Every public page, with database ids (which differ after a re-import) and CSRF tokens blotted out."""
    client = new_client(app)
    paths = ["/", "/hearings", "/dates", "/actions"]
    paths += [f"/defendants/{s}" for s in db.session.scalars(sa.select(Defendant.slug).order_by(Defendant.slug))]
    paths += [f"/cases/{s}" for s in db.session.scalars(sa.select(Case.slug).order_by(Case.slug))]
    pages = {}
    for path in paths:
        response = client.get(path)
        # row ids are new after an import: a hearing's links (feeds, "I'll be there") name it by id,
        # an action's anchor too
        text = re.sub(r"(hearing[-/_=s]*|/attend/|\baction-)\d+", r"\1<id>", response.get_data(as_text=True))
        pages[path] = (response.status_code, re.sub(r'name="csrf_token" type="hidden" value="[^"]+"', "", text))
    return pages


def records() -> dict[str, list]:
    """Every field of every record, by the keys the import matches on, without ids and timestamps."""
    def row(obj, skip=("id", "created_at", "updated_at", "version", "defendant_id", "case_id", "court_id",  # noqa: ANN001
                       "extends_id")):
        return {c.key: getattr(obj, c.key) for c in obj.__table__.columns if c.key not in skip}

    result: dict[str, list] = {}
    for person in db.session.scalars(sa.select(Defendant).order_by(Defendant.slug)):
        result.setdefault("defendants", []).append({**row(person), "cases": sorted(c.slug for c in person.cases)})
        by_id = {m.id: m for m in person.measures}
        result.setdefault("measures", []).extend(
            {**row(m), "defendant": person.slug, "extends": by_id[m.extends_id].starts_on if m.extends_id else None}
            for m in person.measures)
        result.setdefault("decisions", []).extend(
            {**row(d), "defendant": person.slug, "case": d.case.slug if d.case else None} for d in person.decisions)
        result.setdefault("placements", []).extend({**row(p), "defendant": person.slug} for p in person.placements)
    result["hearings"] = sorted(
        ({**row(h), "court": h.court.name, "case": h.case.slug if h.case else None,
          "defendants": sorted(d.slug for d in h.defendants)} for h in db.session.scalars(sa.select(Hearing))),
        key=lambda h: (h["starts_at"], h["court"], h["defendants"]))
    result["cases"] = [row(c, ("id", "created_at", "updated_at", "version", "is_demo"))
                       for c in db.session.scalars(sa.select(Case).order_by(Case.slug))]
    result["courts"] = [row(c) for c in db.session.scalars(sa.select(Court).order_by(Court.name))]
    result["actions"] = sorted(
        ({**row(a, ("id", "created_at", "updated_at", "version", "case_id")), "case": a.case.slug if a.case else None,
          "defendants": sorted(d.slug for d in a.defendants)} for a in db.session.scalars(sa.select(Action))),
        key=lambda a: (a["starts_at"], a["title"]))
    return result


def moderation_pages(app, admin) -> dict[str, tuple[int, str]]:  # noqa: ANN001
    """The editors' review queue and each action's review page (the organiser's contact is in it),
    without ids, versions, CSRF tokens and the history (an import writes its own). Its own
    client, logged in at the test's time: a session cookie set at a travelled time expires."""
    client = new_client(app)
    assert log_in(client, admin.email).status_code == 302
    def blot(text: str) -> str:
        text = re.sub(r'csrf_token" (type="hidden" )?value="[^"]+"', "", text)
        text = re.sub(r'(/edit/actions/|value="|id="[a-z_]*-)\d+', r"\1<id>", text)
        return text.split('<h2>History</h2>')[0]

    pages = {"queue": client.get("/edit/actions")}
    for action in db.session.scalars(sa.select(Action).order_by(Action.starts_at, Action.title)):
        pages[f"{action.title} {action.starts_at}"] = client.get(f"/edit/actions/{action.id}")
    return {key: (page.status_code, blot(page.get_data(as_text=True))) for key, page in pages.items()}


def every_action_status_in_the_demo(now) -> None:  # noqa: ANN001
    """The demo has approved, called-off and pending actions; one more is rejected by an editor,
    and one names only the hidden defendant (approved, yet on no public page)."""
    hidden = db.session.scalar(sa.select(Defendant).where(Defendant.is_public.is_(False)))
    berlin = {"description": "", "organiser": "", "city": "Berlin", "country": "DE", "address": "", "timezone": "Europe/Berlin",
              "case": None, "defendants": [], "starts": (now + timedelta(days=5)).replace(tzinfo=None, hour=18,
                                                                                          minute=0, second=0,
                                                                                          microsecond=0)}
    berlin["ends"] = berlin["starts"] + timedelta(hours=2)
    spam = actions.submit_action(db.session, {**berlin, "title": "Buy followers", "contact": "spam@example.org"},
                                 now)
    actions.set_status(db.session, spam, ActionStatus.REJECTED, expected_version=None, by=None, now=now)
    utc = (now + timedelta(days=6)).replace(minute=0, second=0, microsecond=0)
    quiet = Action(title="Letters for a hidden prisoner", city="Riga", country="LV", timezone="Europe/Riga",
                   starts_at=utc, ends_at=utc + timedelta(hours=2), status=ActionStatus.APPROVED,
                   contact="PRIVATE-CONTACT riga@example.org", defendants=[hidden])
    db.session.add(quiet)
    assert not quiet.is_public
    statuses = set(db.session.scalars(sa.select(Action.status)))
    assert statuses == set(ActionStatus)


def empty_the_records() -> None:
    db.session.remove()
    with db.engine.begin() as conn:
        for table in reversed(db.metadata.sorted_tables):
            if table.name not in KEPT_TABLES:
                conn.execute(table.delete())


def test_export_then_import_on_an_empty_database_gives_the_same_public_pages(app, admin_client, admin, now,
                                                                              do_import, plan_import):
    with time_machine.travel(now, tick=False):
        load_demo(db.session, now.date())
        db.session.execute(sa.update(Case).values(is_demo=False))  # the demo banner is no record
        db.session.execute(sa.update(Action).values(is_demo=False))
        every_action_status_in_the_demo(now)
        # nor are volunteers' sign-ups (docs/import.md): the demo's people going to a hearing
        db.session.execute(sa.delete(Subscription))
        db.session.commit()
        hidden = db.session.scalar(sa.select(Defendant).where(Defendant.is_public.is_(False)))
        assert hidden is not None and hidden.internal_notes
        before_pages, before_records = public_pages(app), records()
        before_moderation = moderation_pages(app, admin)
        contacts = set(db.session.scalars(sa.select(Action.contact)))
        assert len(contacts) == len(before_records["actions"]) == 8

    response = admin_client.get("/admin/export.xlsx")
    with time_machine.travel(now, tick=False):
        assert response.status_code == 200
        assert response.headers["Cache-Control"] == "no-store, private"
        export = response.data
        workbook = load_workbook(io.BytesIO(export), read_only=True)
        assert workbook.sheetnames == ["cases", "courts", "defendants", "placements", "measures", "decisions",
                                       "hearings", "actions"]
        exported = [list(r) for r in workbook["defendants"].iter_rows(values_only=True)]
        assert hidden.slug in {r[1] for r in exported} and hidden.internal_notes in {r[-1] for r in exported}

        admin_id = admin.id
        empty_the_records()
        assert db.session.scalar(sa.select(sa.func.count(Defendant.id))) == 0
        admin = db.session.get(User, admin_id)
        plan = do_import(admin, files(export__xlsx=export))
        assert plan.counts()["defendants"]["create"] == len(before_records["defendants"])

        assert records() == before_records
        after_pages = public_pages(app)
        assert after_pages.keys() == before_pages.keys()
        for path in before_pages:
            assert after_pages[path] == before_pages[path], path
        assert sum(1 for status, _ in after_pages.values() if status == 200) > 10
        assert plan.counts()["actions"]["create"] == 8
        # the editors see the same queue and review pages, the organisers' contacts included
        after_moderation = moderation_pages(app, admin)
        assert after_moderation.keys() == before_moderation.keys()
        for key in before_moderation:
            assert after_moderation[key] == before_moderation[key], key
        assert all(any(contact in text for _status, text in after_moderation.values()) for contact in contacts)
        # and never on a public page
        assert not any(contact in text for contact in contacts for _status, text in after_pages.values())

        # and the export read back into the instance it came from changes nothing
        assert plan_import(admin, files(export__xlsx=export)).changes == 0


def test_the_export_is_for_admins_only(app, editor_client):
    assert editor_client.get("/admin/export.xlsx").status_code == 403
    assert new_client(app).get("/admin/export.xlsx").status_code == 302


def test_text_that_looks_like_a_formula_stays_text_in_the_export(admin_client, make_defendant):
    make_defendant(slug="formula", bio='=HYPERLINK("http://evil.example","click")', name_original="@SUM(A1)")
    db.session.commit()
    workbook = load_workbook(io.BytesIO(admin_client.get("/admin/export.xlsx").data))
    cells = {c.value: c.data_type for row in workbook["defendants"].iter_rows() for c in row if c.value}
    assert cells['=HYPERLINK("http://evil.example","click")'] == "s"
    assert cells["@SUM(A1)"] == "s"


@pytest.mark.parametrize("path", ["/edit/import/template.xlsx", "/edit/import/template.csv"])
def test_an_unchanged_template_imports_nothing(app, editor, editor_client, plan_import, path):
    response = editor_client.get(path)
    assert response.status_code == 200
    name = path.rsplit("/", 1)[1]
    plan = plan_import(editor, files(**{name.replace(".", "__"): response.data}))
    assert plan.ok and plan.items == []
