"""What a custody measure and a decision say beyond their columns: when a measure lapses, a
sentence's term and its release. Written once, for the models (`CustodyMeasure`, `Decision`)
and for the light rows the public lists read as columns (`records.custody_rows`): both have
the same columns under the same names and take these as mixins.
"""
from __future__ import annotations

from datetime import date, timedelta

from dateutil.relativedelta import relativedelta
from flask_babel import ngettext

from tracker.records.enums import Outcome


class MeasureTerms:
    """Needs `until`, `next_review_on` and `extends_id`."""

    __slots__ = ()  # the light rows are slotted dataclasses

    @property
    def is_extension(self) -> bool:
        return self.extends_id is not None

    @property
    def ends_on(self) -> date | None:
        """The date this measure lapses unless extended (a review date for open-ended ones)."""
        return self.until or self.next_review_on


class DecisionTerms:
    """Needs `decided_on`, `outcome`, `term_years`, `term_months`, `term_days`, `credited_days`
    and `release_override`."""

    __slots__ = ()

    @property
    def has_term(self) -> bool:
        return bool(self.term_years or self.term_months or self.term_days)

    @property
    def computed_release(self) -> date | None:
        return release_date(self.decided_on, self.outcome, self.term_years, self.term_months, self.term_days,
                            self.credited_days)

    @property
    def expected_release(self) -> date | None:
        return self.release_override or self.computed_release

    @property
    def term_text(self) -> str:
        parts = []
        if self.term_years:
            parts.append(ngettext("%(num)d year", "%(num)d years", self.term_years))
        if self.term_months:
            parts.append(ngettext("%(num)d month", "%(num)d months", self.term_months))
        if self.term_days:
            parts.append(ngettext("%(num)d day", "%(num)d days", self.term_days))
        return " ".join(parts)


def release_date(decided_on: date, outcome: Outcome, years: int, months: int, days: int, credited: int,
                 override: date | None = None) -> date | None:
    """`Decision.expected_release` from its columns (records.dates reads no entity): the override,
    else the term counted from the decision, less the time already served. Courts credit
    pre-trial detention as days (already converted by the court's ratio): plain days here."""
    if override:
        return override
    if outcome is not Outcome.IMPRISONMENT or not (years or months or days):
        return None
    return decided_on + relativedelta(years=years, months=months, days=days) - timedelta(days=credited)
