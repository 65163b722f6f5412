"""A spreadsheet's transfers may say a prisoner is in transit ("на этапе"), with no facility."""
from __future__ import annotations

from datetime import date

from tests.exchange.conftest import files
from tracker.extensions import db
from tracker.records.enums import DefendantStatus, LettersStatus
from tracker.records.transit import in_transit_since

TRANSFERS = ("подсудимый;где содержится;с;на этапе\r\n"
             "ivan-petrov;СИЗО-5, Москва;28.05.2025;нет\r\n"
             "ivan-petrov;;20.02.2026;да\r\n")


def test_a_row_in_transit_has_no_facility_and_marks_letters(make_defendant, admin, do_import, plan_import):
    person = make_defendant(slug="ivan-petrov", status=DefendantStatus.IMPRISONED,
                            letters_status=LettersStatus.REACH)
    db.session.commit()
    plan = do_import(admin, files(transfers__csv=TRANSFERS))
    assert plan.counts()["placements"]["create"] == 2
    db.session.refresh(person)
    assert [(p.facility, p.in_transit) for p in person.placements] == [("СИЗО-5, Москва", False), ("", True)]
    assert in_transit_since(person) == date(2026, 2, 20)
    assert person.letters_status is LettersStatus.BLOCKED  # no defendants row said otherwise
    assert plan_import(admin, files(transfers__csv=TRANSFERS)).changes == 0  # the same file again: nothing


def test_a_transit_row_naming_a_facility_or_a_row_naming_none_is_refused(make_defendant, admin, plan_import):
    make_defendant(slug="ivan-petrov", status=DefendantStatus.IMPRISONED)
    db.session.commit()
    plan = plan_import(admin, files(transfers__csv="подсудимый;где содержится;с;на этапе\r\n"
                                                   "ivan-petrov;ИК-2;20.02.2026;да\r\n"
                                                   "ivan-petrov;;21.02.2026;нет\r\n"))
    assert [(p.row, p.column) for p in plan.problems] == [(2, "facility"), (3, "facility")]
    assert "Leave the facility empty" in plan.problems[0].message
    assert "Name the facility, or mark the destination as not yet known." == plan.problems[1].message
