"""Birthdays of people held and expected releases (the /dates page), read as columns.

Two statements, each returning only the rows the page may show:

- the held people whose birthday (month and day, worked out by the database: `strftime` on
  SQLite, `to_char` on PostgreSQL) falls in the window, and everyone born on 29 February
  (celebrated on 1 March in a common year): the exact day is then worked out here, so the
  database only narrows the rows and cannot change the answer;
- each imprisoned person's latest decision (ranked in SQL, as `custody.latest_decision`
  ranks: by day, then by id), as the columns its expected release is counted from.

Before, every held person and every decision (4,000 entities at 2,000 defendants) came back
to be sorted out in Python.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from functools import lru_cache

import sqlalchemy as sa
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.orm import Session
from sqlalchemy.sql.functions import FunctionElement

from tracker.records.custody import HELD_STATUSES
from tracker.records.enums import DefendantStatus
from tracker.records.models import Decision, Defendant
from tracker.records.terms import release_date

LEAP_DAY = "02-29"


class month_day(FunctionElement):  # noqa: N801 (an SQL function's name)
    """"MM-DD" of a date, in the database."""

    type = sa.String()
    inherit_cache = True
    name = "month_day"


@compiles(month_day, "sqlite")
def _month_day_sqlite(element: month_day, compiler, **kw) -> str:  # noqa: ANN001
    return f"strftime('%m-%d', {compiler.process(element.clauses, **kw)})"


@compiles(month_day, "postgresql")
def _month_day_postgresql(element: month_day, compiler, **kw) -> str:  # noqa: ANN001
    return f"to_char({compiler.process(element.clauses, **kw)}, 'MM-DD')"


def next_birthday(born: date, today: date) -> date:
    for year in (today.year, today.year + 1):
        try:
            day = born.replace(year=year)
        except ValueError:  # 29 February in a common year: celebrate on 1 March
            day = date(year, 3, 1)
        if day >= today:
            return day
    raise AssertionError("unreachable")


@dataclass(slots=True)
class DatePerson:
    """What the birthdays and releases page shows of a defendant (read as columns)."""

    id: int
    slug: str
    name_latin: str
    name_original: str
    letters_address: str
    letters_address_original: str


_DATE_PERSON = (Defendant.id, Defendant.slug, Defendant.name_latin, Defendant.name_original,
                Defendant.letters_address, Defendant.letters_address_original)


@dataclass(slots=True)
class DateRow:
    day: date
    defendant: DatePerson
    age: int | None = None


@lru_cache(maxsize=1)
def _statements() -> dict[str, sa.Select]:
    """Built once, with bound parameters (building a statement costs more than running these)."""
    held = sa.select(*_DATE_PERSON, Defendant.birth_date).where(
        Defendant.is_public.is_(True), Defendant.status.in_(HELD_STATUSES), Defendant.birth_date.is_not(None))
    day = month_day(Defendant.birth_date)
    first, last = sa.bindparam("first", type_=sa.String), sa.bindparam("last", type_=sa.String)
    ranked = (
        sa.select(*_DATE_PERSON, Decision.decided_on, Decision.outcome, Decision.term_years, Decision.term_months,
                  Decision.term_days, Decision.credited_days, Decision.release_override,
                  sa.func.row_number().over(partition_by=Decision.defendant_id,
                                            order_by=(Decision.decided_on.desc(), Decision.id.desc())).label("rank"))
        .join(Decision, Decision.defendant_id == Defendant.id)
        .where(Defendant.is_public.is_(True), Defendant.status == DefendantStatus.IMPRISONED)
        .subquery()
    )
    return {
        "held": held,
        # the window within one year, and across the new year
        "held_within": held.where(sa.or_(day.between(first, last), day == LEAP_DAY)),
        "held_across": held.where(sa.or_(day >= first, day <= last, day == LEAP_DAY)),
        "releases": sa.select(*list(ranked.c)[:-1]).where(ranked.c.rank == 1),
    }


def upcoming_dates(
    session: Session, today: date, birthday_days: int = 60, release_days: int = 365
) -> tuple[list[DateRow], list[DateRow]]:
    """Birthdays of people held (for cards) and expected releases (to meet them), by day."""
    statements = _statements()
    connection = session.connection()
    last_day = today + timedelta(days=birthday_days)
    if birthday_days >= 365:
        held = connection.execute(statements["held"]).all()
    else:
        first, last = today.strftime("%m-%d"), last_day.strftime("%m-%d")
        statement = statements["held_within" if first <= last else "held_across"]
        held = connection.execute(statement, {"first": first, "last": last}).all()
    birthdays = []
    for person_id, slug, name_latin, name_original, address, address_original, born in held:  # no *rest: a list a row
        day = next_birthday(born, today)
        if day <= last_day:
            birthdays.append(DateRow(day, DatePerson(person_id, slug, name_latin, name_original, address,
                                                     address_original), day.year - born.year))
    releases = []
    until = today + timedelta(days=release_days)
    for row in connection.execute(statements["releases"]).all():
        if row[12] is None and not _may_fall_within(row[6], row[8], row[9], row[10], row[11], today, until):
            continue  # far from the window whatever the months' lengths: no need to count it exactly
        release = release_date(*row[6:])
        if release and today <= release <= until:
            releases.append(DateRow(release, DatePerson(*row[:6])))
    birthdays.sort(key=lambda r: (r.day, r.defendant.name_latin))
    releases.sort(key=lambda r: (r.day, r.defendant.name_latin))
    return birthdays, releases


def _may_fall_within(decided_on: date, years: int, months: int, days: int, credited: int, first: date,
                     last: date) -> bool:
    """Whether a term counted from `decided_on` (`release_date`, without an override) can end
    between `first` and `last`, by bounds that need no calendar: y years and m months last
    between 365y + 28m - 3 days (a month's end clamped) and 366y + 31m days. Counting each
    term exactly (dateutil's relativedelta, ~5 µs) for every prisoner cost more than the
    statement that reads them, and most terms end far from the window."""
    shortest = decided_on + timedelta(days=365 * years + 28 * months - 3 + days - credited)
    longest = decided_on + timedelta(days=366 * years + 31 * months + days - credited)
    return shortest <= last and longest >= first
