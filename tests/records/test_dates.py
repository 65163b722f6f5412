"""The birthdays and releases page's rows: the database narrows them (month and day of birth,
each prisoner's latest decision), and the answer is the one the entities give."""
from __future__ import annotations

from datetime import date, timedelta

import pytest

from tracker.extensions import db
from tracker.records.custody import sentence_in_force
from tracker.records.dates import next_birthday, upcoming_dates
from tracker.records.models import DefendantStatus, Outcome

BIRTHS = [date(1992, 2, 29), date(1980, 12, 30), date(1990, 1, 5), date(1985, 3, 1), date(1970, 6, 1),
          date(2000, 2, 28), date(1999, 12, 31), date(1975, 1, 1), date(1988, 11, 20)]


@pytest.fixture
def people(make_defendant, make_decision):
    held = [make_defendant(birth_date=born, status=DefendantStatus.PRE_TRIAL_DETENTION, is_public=True)
            for born in BIRTHS]
    make_defendant(birth_date=date(1990, 1, 6), status=DefendantStatus.AT_LARGE, is_public=True)  # not held
    make_defendant(birth_date=date(1990, 1, 7), status=DefendantStatus.IMPRISONED, is_public=False)  # private
    prisoners = []
    for decided, years, credited, override in [
        (date(2024, 3, 1), 3, 100, None), (date(2025, 1, 10), 2, 0, None), (date(2023, 7, 7), 4, 30, date(2027, 5, 5)),
    ]:
        person = make_defendant(status=DefendantStatus.IMPRISONED, is_public=True)
        make_decision(person, decided_on=decided - timedelta(days=400), term_years=9)  # replaced by the next
        make_decision(person, decided_on=decided, term_years=years, credited_days=credited, release_override=override)
        prisoners.append(person)
    # the same day twice: the one recorded last holds
    twice = make_defendant(status=DefendantStatus.IMPRISONED, is_public=True)
    make_decision(twice, decided_on=date(2025, 6, 1), term_years=5)
    make_decision(twice, decided_on=date(2025, 6, 1), term_years=1, term_months=6)
    make_decision(make_defendant(status=DefendantStatus.IMPRISONED, is_public=True), decided_on=date(2025, 6, 1),
                  outcome=Outcome.ACQUITTAL)
    db.session.commit()
    return held, prisoners + [twice]


@pytest.mark.parametrize("today", [date(2026, 12, 20), date(2027, 1, 15), date(2028, 1, 15), date(2027, 2, 28),
                                   date(2027, 6, 1), date(2026, 11, 20)])
def test_rows_are_what_the_entities_say(people, today):
    held, prisoners = people
    birthdays, releases = upcoming_dates(db.session, today)
    last = today + timedelta(days=60)
    expected = sorted((next_birthday(p.birth_date, today), p.slug) for p in held
                      if next_birthday(p.birth_date, today) <= last)
    assert [(row.day, row.defendant.slug) for row in birthdays] == expected
    assert expected  # every chosen day has someone in its window
    assert all(row.age == row.day.year - next(p.birth_date for p in held if p.slug == row.defendant.slug).year
               for row in birthdays)
    released = sorted((sentence_in_force(p).expected_release, p.slug) for p in prisoners
                      if today <= sentence_in_force(p).expected_release <= today + timedelta(days=365))
    assert [(row.day, row.defendant.slug) for row in releases] == released


def test_leap_day_birthday_is_first_of_march_in_a_common_year(people):
    birthdays, _ = upcoming_dates(db.session, date(2027, 2, 20))
    assert (date(2027, 3, 1), "defendant-1") in [(row.day, row.defendant.slug) for row in birthdays]
    birthdays, _ = upcoming_dates(db.session, date(2028, 2, 20))
    assert (date(2028, 2, 29), "defendant-1") in [(row.day, row.defendant.slug) for row in birthdays]


def test_the_bounds_never_leave_out_a_release_in_the_window():
    """`upcoming_dates` counts a term exactly only when bounds without a calendar say it may end
    in the window: over decisions on month ends and leap days, terms of days to years, and
    windows around each exact release, the bounds keep every release that falls inside."""
    from tracker.records.dates import _may_fall_within
    from tracker.records.terms import release_date

    decided_days = [date(2024, 1, 31), date(2024, 2, 29), date(2023, 3, 31), date(2025, 8, 31), date(2025, 12, 31),
                    date(2026, 2, 28), date(2025, 6, 15)]
    terms = [(0, 0, 1), (0, 1, 0), (0, 11, 30), (1, 0, 0), (1, 1, 0), (2, 6, 0), (4, 0, 29), (10, 3, 1), (0, 13, 0)]
    kept = left_out = 0
    for decided in decided_days:
        for years, months, days in terms:
            for credited in (0, 3, 45, 400):
                release = release_date(decided, Outcome.IMPRISONMENT, years, months, days, credited)
                for first, last in [(release, release), (release - timedelta(days=365), release),
                                    (release, release + timedelta(days=365)), (release + timedelta(days=1),
                                                                               release + timedelta(days=30)),
                                    (release - timedelta(days=30), release - timedelta(days=1))]:
                    within = first <= release <= last
                    may = _may_fall_within(decided, years, months, days, credited, first, last)
                    assert may or not within, (decided, years, months, days, credited, first, last)
                    kept += within
                    left_out += not may
    assert kept and left_out  # both kinds were tried: the bounds do leave some out
    # a window four days past a one-year term is far enough: counted without the calendar
    assert not _may_fall_within(date(2025, 6, 15), 1, 0, 0, 0, date(2026, 6, 20), date(2027, 6, 20))
