"""Facts going stale: how fresh each page's key facts are, and which facts can no longer be true.

A tracker is only as good as its last update. A status line that still says "now until
2012-11-27" years later, or "serving a sentence" after the expected release, misleads the
supporters who write letters and plan visits. So:

- every page says when its key facts were last checked (`status_freshness`): the source-checked
  date of the row behind each fact, or else the day the record last changed;
- four rules find facts that cannot be true any more (`stale_facts`, `status_finding`):

  1. RELEASE_PASSED: the expected release date is in the past, the status still says serving a
     sentence;
  2. MEASURE_ENDED: the custody measure in force ended, and no new measure, release or hearing
     on or after its end is recorded;
  3. REVIEW_PASSED: the same for a measure with a review date and no end (compulsory treatment):
     the review was due and none is recorded;
  4. HEARING_NOT_UPDATED: a hearing in the past is still "scheduled".

The first three are about a defendant's status: their public page then says plainly that the
status is unverified since that day, with what was last known, instead of a stale "now until".
Editors get every finding about the records they may edit in a weekly mail and on their
dashboard (tracker/editing/stale_list.py). Plain functions on the models and a session, with
`today` passed in; nothing here is stored.
"""
from __future__ import annotations

import enum
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from functools import lru_cache
from typing import Any
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from flask import current_app
from flask_babel import format_date
from flask_babel import gettext as _
from flask_babel import ngettext
from sqlalchemy.orm import Session
from sqlalchemy.orm.attributes import set_committed_value

from tracker.access import limit_to_editable
from tracker.records.custody import (
    CustodyStatus, DecisionFacts, MeasureFacts, PersonFacts, latest_decision, measure_in_force_among,
)
from tracker.records.enums import DefendantStatus, HearingStatus, MeasureKind
from tracker.records.models import (
    Case, CustodyMeasure, Decision, Defendant, Hearing, case_defendants, hearing_defendants,
)

# A person released or at large has no custody status left to go stale.
FREE_STATUSES = (DefendantStatus.RELEASED, DefendantStatus.AT_LARGE)


def site_zone() -> ZoneInfo:
    return ZoneInfo(current_app.config["DEFAULT_TIMEZONE"])


def site_today(now: datetime) -> date:
    """The date at the site's home (DEFAULT_TIMEZONE): the day a fact is judged on."""
    return now.astimezone(site_zone()).date()


# --- which facts cannot be true any more ---------------------------------------------------


class StaleRule(str, enum.Enum):
    RELEASE_PASSED = "release_passed"
    MEASURE_ENDED = "measure_ended"
    REVIEW_PASSED = "review_passed"
    HEARING_NOT_UPDATED = "hearing_not_updated"


@dataclass(frozen=True)
class StaleFact:
    """One fact that can no longer be true: which rule found it, about what, and since when."""

    rule: StaleRule
    since: date
    # a finding about a defendant's status: an entity, or a public list's light row (records.custody_rows)
    defendant: Defendant | PersonFacts | None = None
    hearing: Hearing | None = None  # a finding about a hearing
    measure: MeasureFacts | None = None
    decision: DecisionFacts | None = None

    @property
    def record(self) -> Defendant | Hearing:
        """What an editor corrects; access is checked on it (`access.can_edit`)."""
        return self.defendant if self.defendant is not None else self.hearing  # type: ignore[return-value]

    @property
    def explanation(self) -> str:
        """Why the fact cannot be true, in a sentence the public page and the editors' list share."""
        day = format_date(self.since, "medium")
        if self.rule is StaleRule.RELEASE_PASSED:
            return _("the expected release date (%(day)s) has passed, but the status still says serving a "
                     "sentence", day=day)
        if self.rule is StaleRule.MEASURE_ENDED:
            return _("%(measure)s ended on %(day)s, and no extension, release or hearing since is recorded",
                     measure=self.measure.kind.label, day=day)
        if self.rule is StaleRule.REVIEW_PASSED:
            return _("the review of %(measure)s was due on %(day)s, and none is recorded",
                     measure=self.measure.kind.label, day=day)
        return _("the hearing of %(day)s is still marked as scheduled", day=day)


def status_finding(
    defendant: PersonFacts, measures: Iterable[MeasureFacts], decisions: Iterable[DecisionFacts],
    last_hearing_on: date | None, today: date,
) -> StaleFact | None:
    """Whether a defendant's status line can no longer be true (rules 1 to 3), from their rows.

    `last_hearing_on` is the day of their latest hearing that was not cancelled (held,
    scheduled or postponed): a hearing on or after a measure's end means the court has the
    matter in hand, so the end is not reported as forgotten.
    """
    if defendant.status in FREE_STATUSES:
        return None
    measures, decisions = list(measures), list(decisions)
    decision = latest_decision(decisions)
    imprisoned = defendant.status is DefendantStatus.IMPRISONED
    release = decision.expected_release if decision is not None and imprisoned else None
    return _finding(defendant, decision, release, measure_in_force_among(measures, decisions), last_hearing_on, today)


def _finding(defendant: PersonFacts, decision: DecisionFacts | None, release: date | None,
             measure: MeasureFacts | None, last_hearing_on: date | None, today: date) -> StaleFact | None:
    """Rules 1 to 3 on the latest decision, its release and the measure in force."""
    if defendant.status is DefendantStatus.IMPRISONED and release is not None and release < today:
        return StaleFact(StaleRule.RELEASE_PASSED, release, defendant=defendant, decision=decision)
    if measure is None or measure.kind is MeasureKind.RELEASED or measure.ends_on is None:
        return None
    if measure.ends_on >= today or (last_hearing_on is not None and last_hearing_on >= measure.ends_on):
        return None
    rule = StaleRule.MEASURE_ENDED if measure.until is not None else StaleRule.REVIEW_PASSED
    return StaleFact(rule, measure.ends_on, defendant=defendant, measure=measure)


def defendant_finding(defendant: PersonFacts, last_hearing_on: date | None, today: date,
                      status: CustodyStatus | None = None) -> StaleFact | None:
    """`status_finding` for a defendant whose measures and decisions are loaded (or a light row).

    `status`, their status line's facts when the caller has them (`custody.custody_status`),
    already says which measure is in force and which decision is the latest: the rules read
    those rather than work them out a second time (a list's rows each did, twice)."""
    if status is None:
        return status_finding(defendant, defendant.measures, defendant.decisions, last_hearing_on, today)
    if defendant.status in FREE_STATUSES:
        return None
    in_force = status.custody.current if status.custody is not None else None
    return _finding(defendant, status.decision, status.release, in_force, last_hearing_on, today)


@lru_cache(maxsize=1)
def _last_hearings_by_list() -> sa.Select:
    return _last_hearings_of(sa.bindparam("ids", expanding=True))


def _last_hearings(ids: sa.Select | None = None) -> sa.Select:
    return _last_hearings_by_list() if ids is None else _last_hearings_of(ids)


def _last_hearings_of(ids: Any) -> sa.Select:  # noqa: ANN401
    return (sa.select(hearing_defendants.c.defendant_id, sa.func.max(Hearing.starts_at))
            .join(Hearing, Hearing.id == hearing_defendants.c.hearing_id)
            .where(hearing_defendants.c.defendant_id.in_(ids), Hearing.status != HearingStatus.CANCELLED)
            .group_by(hearing_defendants.c.defendant_id))


def last_hearing_days(session: Session, defendant_ids: Sequence[int] | sa.Select) -> dict[int, date]:
    """Each defendant's latest hearing that was not cancelled, as a date at the site's home: one query.

    `defendant_ids` is a list of ids or a query of them (so a caller need not load them first).
    """
    if isinstance(defendant_ids, Sequence) and not defendant_ids:
        return {}
    zone = site_zone()
    if isinstance(defendant_ids, Sequence):  # the statement built once (the public pages' case)
        rows = session.connection().execute(_last_hearings(), {"ids": sorted(defendant_ids)}).all()
    else:
        rows = session.execute(_last_hearings(defendant_ids))
    return {defendant_id: latest.astimezone(zone).date() for defendant_id, latest in rows if latest is not None}


def _attach(owners: Iterable[Any], key: str, pairs: Iterable[tuple[int, Any]]) -> None:
    """Fill a relationship of already loaded rows from one query's (owner id, row) pairs,
    so nothing further is loaded row by row (the statement count stays fixed)."""
    grouped: dict[int, list[Any]] = defaultdict(list)
    for owner_id, row in pairs:
        grouped[owner_id].append(row)
    for owner in owners:
        set_committed_value(owner, key, grouped.get(owner.id, []))


def _load_people(session: Session, people: list[Defendant], ids: sa.Select) -> None:
    """Each defendant's measures, decisions and cases, in three queries whatever their number."""
    _attach(people, "measures", session.execute(
        sa.select(CustodyMeasure.defendant_id, CustodyMeasure).where(CustodyMeasure.defendant_id.in_(ids))
        .order_by(CustodyMeasure.starts_on, CustodyMeasure.id)))
    _attach(people, "decisions", session.execute(
        sa.select(Decision.defendant_id, Decision).where(Decision.defendant_id.in_(ids))
        .order_by(Decision.decided_on, Decision.id)))
    _attach(people, "cases", session.execute(
        sa.select(case_defendants.c.defendant_id, Case).join(Case, Case.id == case_defendants.c.case_id)
        .where(case_defendants.c.defendant_id.in_(ids)).order_by(Case.title)))


def stale_facts(session: Session, today: date, *, user: Any = None) -> list[StaleFact]:
    """Every fact that can no longer be true on `today`, defendants' status first, then hearings
    (oldest first within each); only about records `user` may edit when one is given.

    Hidden defendants are included: the editors who may edit them must know. A fixed number of
    queries whatever the data size (eight at most), so the dashboard and the weekly job stay cheap.
    """
    ends_on = sa.func.coalesce(CustodyMeasure.until, CustodyMeasure.next_review_on)
    lapsed = sa.select(CustodyMeasure.defendant_id).where(CustodyMeasure.kind != MeasureKind.RELEASED,
                                                          ends_on < today)
    candidates = sa.select(Defendant.id).where(
        Defendant.status.not_in(FREE_STATUSES),
        sa.or_(Defendant.status == DefendantStatus.IMPRISONED, Defendant.id.in_(lapsed)),
    )
    if user is not None:
        candidates = limit_to_editable(candidates, Defendant, user)
    people = list(session.scalars(sa.select(Defendant).where(Defendant.id.in_(candidates))
                                  .order_by(Defendant.name_latin, Defendant.id)))
    findings: list[StaleFact] = []
    if people:
        _load_people(session, people, candidates)
        last_hearings = last_hearing_days(session, candidates)
        for person in people:
            found = defendant_finding(person, last_hearings.get(person.id), today)
            if found is not None:
                findings.append(found)
        findings.sort(key=lambda f: (f.since, f.defendant.name_latin))
    return findings + _stale_hearings(session, today, user)


def _stale_hearings(session: Session, today: date, user: Any) -> list[StaleFact]:
    """Hearings of a past day (at the court) still marked as scheduled."""
    # Courts are a few hours either side of the site's zone: the query takes a day's margin,
    # each hearing's own date at its court decides.
    margin = datetime.combine(today, time(), tzinfo=site_zone()) + timedelta(days=1)
    query = sa.select(Hearing).where(Hearing.status == HearingStatus.SCHEDULED, Hearing.starts_at < margin)
    if user is not None:
        query = limit_to_editable(query, Hearing, user)
    hearings = [h for h in session.scalars(query.order_by(Hearing.starts_at, Hearing.id))
                if h.local_start.date() < today]
    if not hearings:
        return []
    ids = [h.id for h in hearings]
    people_of = list(session.execute(
        sa.select(hearing_defendants.c.hearing_id, Defendant)
        .join(Defendant, Defendant.id == hearing_defendants.c.defendant_id)
        .where(hearing_defendants.c.hearing_id.in_(ids)).order_by(Defendant.name_latin)))
    _attach(hearings, "defendants", people_of)
    people = list({person.id: person for _hearing_id, person in people_of}.values())
    _attach(people, "cases", session.execute(
        sa.select(case_defendants.c.defendant_id, Case).join(Case, Case.id == case_defendants.c.case_id)
        .where(case_defendants.c.defendant_id.in_([p.id for p in people])).order_by(Case.title)))
    return [StaleFact(StaleRule.HEARING_NOT_UPDATED, h.local_start.date(), hearing=h) for h in hearings]


# --- how fresh the facts are -------------------------------------------------------------------


@dataclass(frozen=True)
class Freshness:
    """When a key fact was last checked against a source (`checked`), or else last changed."""

    fact: str  # "custody" (the status line) or "place" (where the person is held)
    day: date
    checked: bool

    def days_ago(self, today: date) -> int:
        return max(0, (today - self.day).days)

    def sentence(self, today: date) -> str:
        """"Custody status checked 3 days ago." (or "last updated", when no source check is noted)."""
        n = self.days_ago(today)
        if self.fact == "custody" and self.checked:
            return _("Custody status checked today.") if n == 0 else ngettext(
                "Custody status checked %(num)d day ago.", "Custody status checked %(num)d days ago.", n)
        if self.fact == "custody":
            return _("Custody status last updated today.") if n == 0 else ngettext(
                "Custody status last updated %(num)d day ago.", "Custody status last updated %(num)d days ago.", n)
        if self.checked:
            return _("Place of detention checked today.") if n == 0 else ngettext(
                "Place of detention checked %(num)d day ago.", "Place of detention checked %(num)d days ago.", n)
        return _("Place of detention last updated today.") if n == 0 else ngettext(
            "Place of detention last updated %(num)d day ago.", "Place of detention last updated %(num)d days ago.",
            n)


def status_freshness(defendant: PersonFacts, status: CustodyStatus) -> list[Freshness]:
    """How fresh the status line's facts are: the measure or decision behind it, and the placement.

    A row with no source-checked date falls back to the record's last change (the defendant's
    `updated_at`, which every change to their rows raises), said as "last updated" rather
    than "checked".
    """
    changed = defendant.updated_at.astimezone(site_zone()).date() if defendant.updated_at else None
    facts = []
    behind = status.custody.current if status.custody is not None else status.sentence
    for fact, row in (("custody", behind), ("place", status.place)):
        if row is None and fact == "place":
            continue
        if row is not None and row.source_checked_on is not None:
            facts.append(Freshness(fact, row.source_checked_on, True))
        elif changed is not None:
            facts.append(Freshness(fact, changed, False))
    return facts
