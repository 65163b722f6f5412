"""Solidarity actions in the spreadsheet exchange: their table read as the forms check them,
applied through the actions' own logic (audited, versioned, public only once approved), and
the case limits of the editors who import them."""
from __future__ import annotations

import pytest
import sqlalchemy as sa
import time_machine

from tests.exchange.conftest import files
from tests.auth.support import new_client
from tracker.actions.models import Action, ActionStatus
from tracker.editing.models import AuditEntry
from tracker.extensions import db

CONTACT = "PRIVATE-CONTACT-5c1e org@example.org"
# What Excel saves in a Russian locale: a BOM, semicolons, Russian headers and words
HEADER = "\ufeffid;Название;Статус;Начало;Конец;Часовой пояс;Страна;Город;Адрес;Дело;Подсудимые;Контакт\r\n"
VIGIL = f"v-1;Пикет у консульства;одобрено;05.03.2026 18:00;05.03.2026 20:00;;Грузия;Тбилиси;;bolotnaya;;{CONTACT}\r\n"
LETTERS = f"v-2;Вечер писем;;07.03.2026 17:30;07.03.2026 20:00;Europe/Berlin;DE;Берлин;Кафе;;anna-ivanova;{CONTACT}\r\n"


@pytest.fixture
def group(make_case, make_defendant, make_user):
    bolotnaya = make_case(slug="bolotnaya", title="Болотное дело")
    other = make_case(slug="other", title="Other case")
    anna = make_defendant(slug="anna-ivanova", name_latin="Anna Ivanova", cases=[bolotnaya])
    stranger = make_defendant(slug="oleg-orlov", name_latin="Oleg Orlov", cases=[other])
    hidden = make_defendant(slug="hidden-person", name_latin="Hidden Person", cases=[other], is_public=False)
    db.session.commit()
    limited = make_user("limited@example.org", cases=[bolotnaya])
    return {"case": bolotnaya, "other": other, "anna": anna, "stranger": stranger, "hidden": hidden,
            "limited": limited}


def actions() -> dict[str, Action]:
    db.session.expire_all()
    return {a.external_id or a.title: a for a in db.session.scalars(sa.select(Action))}


def audit_of(action: Action) -> list[tuple[str, int | None]]:
    return [(e.action, e.user_id) for e in db.session.scalars(
        sa.select(AuditEntry).where(AuditEntry.entity_type == "action", AuditEntry.entity_id == action.id)
        .order_by(AuditEntry.id))]


def test_actions_are_imported_through_their_own_logic_and_reimporting_changes_nothing(app, group, admin, now,
                                                                                        do_import, plan_import):
    plan = do_import(admin, files(akcii__csv=HEADER + VIGIL + LETTERS))
    assert plan.counts() == {"actions": {"create": 2, "update": 0, "unchanged": 0}}
    found = actions()
    vigil, letters = found["v-1"], found["v-2"]
    # the place's zone from the country (Georgia has one), times read as local there
    assert (vigil.country, vigil.timezone, vigil.local_start.strftime("%d.%m %H:%M")) == ("GE", "Asia/Tbilisi",
                                                                                        "05.03 18:00")
    assert vigil.status is ActionStatus.APPROVED and vigil.case == group["case"] and vigil.contact == CONTACT
    assert letters.status is ActionStatus.PENDING and letters.defendants == [group["anna"]]  # no status: pending
    assert audit_of(vigil) == [("create", admin.id)]
    with time_machine.travel(now, tick=False):
        page = new_client(app).get("/actions").get_data(as_text=True)
    assert "Пикет у консульства" in page and "Вечер писем" not in page and CONTACT not in page

    assert plan_import(admin, files(akcii__csv=HEADER + VIGIL + LETTERS)).changes == 0

    # the organisers' group called the vigil off; the letters evening is approved and moved by half an hour
    edited = (HEADER + VIGIL.replace("одобрено", "отменено")
              + LETTERS.replace(";;07.03.2026 17:30", ";approved;07.03.2026 18:00"))
    plan = do_import(admin, files(akcii__csv=edited))
    assert plan.counts() == {"actions": {"create": 0, "update": 2, "unchanged": 0}}
    assert [i.changes for i in plan.items] == [[("status", "approved", "cancelled")],
                                              [("starts_at", "2026-03-07 17:30", "2026-03-07 18:00"),
                                               ("status", "pending", "approved")]]
    found = actions()
    assert found["v-1"].status is ActionStatus.CANCELLED and found["v-2"].status is ActionStatus.APPROVED
    assert audit_of(found["v-1"]) == [("create", admin.id), ("cancel", admin.id)]
    assert audit_of(found["v-2"]) == [("create", admin.id), ("approve", admin.id)]
    assert (found["v-1"].version, found["v-2"].version) == (2, 2)  # the calendars' SEQUENCE moves
    assert plan_import(admin, files(akcii__csv=edited)).changes == 0


def test_without_an_external_id_an_action_is_matched_on_title_place_and_start(group, admin, do_import,
                                                                              plan_import):
    row = VIGIL.removeprefix("v-1")
    do_import(admin, files(akcii__csv=HEADER + row))
    again = plan_import(admin, files(akcii__csv=HEADER + row.replace(";;bolotnaya;", ";Площадь;bolotnaya;")))
    assert [(i.action, i.changes) for i in again.items] == [("update", [("address", "", "Площадь")])]
    moved = plan_import(admin, files(akcii__csv=HEADER + row.replace("05.03.2026 18:00", "05.03.2026 17:00")))
    assert [i.action for i in moved.items] == ["create"]  # a new time without an id: another action


def test_a_header_with_city_and_contact_is_the_actions_table_not_the_hearings(admin, plan_import, group):
    plan = plan_import(admin, files(list__csv=HEADER + VIGIL))
    assert plan.ok and [i.table for i in plan.items] == ["actions"]


BAD_ROWS = [
    ("Пикет\u202eу консульства", "Название", "title", "invisible control character"),
    ("Europe/Nowhere", "Часовой пояс", "timezone", "Unknown time zone"),
    ("posixrules", "Часовой пояс", "timezone", "Unknown time zone"),
    ("Атлантида", "Страна", "country", "Unknown country"),
    ("US", "Страна", "timezone", "has more than one"),  # the zone must then be named
    ("05.03.2026 17:00", "Конец", "ends_at", "The end must come after the start."),
    ("05.05.2026 17:00", "Конец", "ends_at", "31 days at most"),
    ("unknown-person", "Подсудимые", "defendants", "Unknown defendant 'unknown-person'."),
    ("nowhere", "Дело", "case", "Unknown case 'nowhere'."),
    ("", "Контакт", "contact", "This cell is required."),
]


@pytest.mark.parametrize("value, header, column, message", BAD_ROWS)
def test_a_bad_cell_is_refused_by_the_forms_rules(group, admin, plan_import, value, header, column, message):
    cells = dict(zip(HEADER.strip("\ufeff\r\n").split(";"), VIGIL.strip("\r\n").split(";")))
    cells[header] = value
    plan = plan_import(admin, files(akcii__csv=HEADER + ";".join(cells.values()) + "\r\n"))
    assert [(p.row, p.column) for p in plan.problems] == [(2, column)]
    assert message in plan.problems[0].message
    assert plan.items == []


def test_a_local_time_the_clocks_skip_is_refused(group, admin, plan_import):
    # Berlin went from 02:00 to 03:00 on 29 March 2026
    sheet = HEADER + LETTERS.replace("07.03.2026 17:30", "29.03.2026 02:30").replace("07.03.2026 20:00",
                                                                                      "29.03.2026 04:00")
    plan = plan_import(admin, files(akcii__csv=sheet))
    assert [(p.column, p.message) for p in plan.problems] == [
        ("starts_at", "This time does not exist in Europe/Berlin: the clocks go forward then.")]


def test_only_an_approved_action_can_be_called_off(group, admin, do_import, plan_import):
    do_import(admin, files(akcii__csv=HEADER + LETTERS))  # pending
    plan = plan_import(admin, files(akcii__csv=HEADER + LETTERS.replace(";;07.03", ";cancelled;07.03")))
    assert [(p.column, p.message) for p in plan.problems] == [
        ("status", "Only an approved action can be called off.")]


def test_an_admin_may_name_a_hidden_defendant_and_the_action_stays_off_the_public_pages(app, group, admin, now,
                                                                                          do_import):
    public = LETTERS.replace(";;07.03", ";approved;07.03")  # beside it, a public one: the page does list actions
    do_import(admin, files(akcii__csv=HEADER + VIGIL.replace(";bolotnaya;;", ";;hidden-person;") + public))
    action = actions()["v-1"]
    assert action.defendants == [group["hidden"]] and not action.is_public
    with time_machine.travel(now, tick=False):
        page = new_client(app).get("/actions").get_data(as_text=True)
    assert "Вечер писем" in page and "Пикет у консульства" not in page


def test_a_limited_editor_imports_actions_only_for_their_cases(group, plan_import, do_import, admin):
    limited = group["limited"]
    sheet = (HEADER
             + VIGIL  # row 2: their case
             + LETTERS  # row 3: their case's defendant
             + VIGIL.replace("v-1", "v-3").replace("bolotnaya", "other")  # row 4: another case
             + LETTERS.replace("v-2", "v-4").replace("anna-ivanova", "anna-ivanova, oleg-orlov")  # row 5
             + LETTERS.replace("v-2", "v-5").replace("anna-ivanova", "hidden-person")  # row 6: unseen
             + VIGIL.replace("v-1", "v-6").replace("bolotnaya", ""))  # row 7: linked to nothing
    plan = plan_import(limited, files(akcii__csv=sheet))
    assert [(p.row, p.column, p.message) for p in plan.problems] == [
        (4, "case", "Your account may not add records to the case 'other'."),
        (5, "defendants", "Your account may not edit the defendant 'oleg-orlov'."),
        (6, "defendants", "Unknown defendant 'hidden-person'."),
        (7, "case", "Choose one of your cases."),
    ]
    do_import(limited, files(akcii__csv=HEADER + VIGIL + LETTERS))
    assert {a.external_id: a.status for a in actions().values()} == {"v-1": ActionStatus.APPROVED,
                                                                    "v-2": ActionStatus.PENDING}

    # an action of another case, in the tracker already: refused without a word of it
    do_import(admin, files(akcii__csv=HEADER + VIGIL.replace("v-1", "x-9").replace("bolotnaya", "other")
                           .replace("Пикет у консульства", "Чужая акция")))
    plan = plan_import(limited, files(akcii__csv=HEADER + VIGIL.replace("v-1", "x-9")))
    assert [(p.column, p.message) for p in plan.problems] == [
        ("external_id", "Another record already uses this key, and your account may not edit it.")]
    assert "Чужая" not in repr(plan.problems)


def test_the_review_page_tells_of_the_import_and_the_public_csv_has_no_actions(app, group, admin, admin_client,
                                                                                do_import):
    do_import(admin, files(akcii__csv=HEADER + VIGIL))
    action = actions()["v-1"]
    page = admin_client.get(f"/edit/actions/{action.id}").get_data(as_text=True)
    assert "Added the action" in page and "v-1" in page and CONTACT in page  # the history, for editors
    # approved actions are published as calendars, not in the defendants' spreadsheet (docs/api.md)
    csv = new_client(app).get("/export/defendants.csv").get_data(as_text=True)
    assert "anna-ivanova" in csv
    assert "Пикет у консульства" not in csv and CONTACT not in csv


def test_a_limited_editor_uploads_actions_reads_the_dry_run_and_confirms(app, group):
    from tests.exchange.test_import import confirm_form, logged_in, problems, upload

    client = logged_in(app, "limited@example.org")
    stranger = LETTERS.replace("anna-ivanova", "oleg-orlov")
    response = upload(client, "акции.csv", HEADER + VIGIL + stranger)
    assert response.status_code == 422
    assert problems(response.get_data(as_text=True)) == [
        ("3", "defendants", "Your account may not edit the defendant 'oleg-orlov'.")]
    assert actions() == {}

    page = upload(client, "акции.csv", HEADER + VIGIL + LETTERS).get_data(as_text=True)
    assert "Import 2 changes" in page
    assert client.post("/edit/import/confirm", data=confirm_form(page)).status_code == 302
    found = actions()
    assert {a.external_id: a.status for a in found.values()} == {"v-1": ActionStatus.APPROVED,
                                                                "v-2": ActionStatus.PENDING}
    assert {e for a in found.values() for e in audit_of(a)} == {("create", group["limited"].id)}
    queue = client.get("/edit/actions").get_data(as_text=True)
    assert "Вечер писем" in queue  # pending: in their review queue, as an organiser's submission would be
    again = upload(client, "акции.csv", HEADER + VIGIL + LETTERS).get_data(as_text=True)
    assert "Nothing to import: the tracker already has every row of this file." in again
