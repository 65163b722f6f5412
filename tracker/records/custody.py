"""What is derived about one defendant's custody: the measure in force, the sentence in
force, the status line and the expected release. Plain functions, never stored twice.

They read a defendant's measures, decisions and placements through small protocols
(`PersonFacts` and its rows' `MeasureFacts`, `DecisionFacts`, `PlacementFacts`): the models
satisfy them with their relationships loaded (the editing pages, the scheduler, the API), and
so do the light rows the public lists read as columns (`records.custody_rows`), so there is
one set of rules for both.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import date, datetime
from typing import Iterable, Protocol, Sequence, TypeVar

from flask_babel import gettext as _

from tracker.records.enums import DefendantStatus, Instance, MeasureKind, Outcome
from tracker.formats import short_day

R = TypeVar("R")


class MeasureFacts(Protocol):
    """A custody measure as the rules read it (`models.CustodyMeasure`, `custody_rows.MeasureRow`)."""

    id: int | None
    kind: MeasureKind
    starts_on: date
    until: date | None
    next_review_on: date | None
    extends_id: int | None
    source_checked_on: date | None

    @property
    def ends_on(self) -> date | None: ...


class DecisionFacts(Protocol):
    """A court's decision as the rules read it (`models.Decision`, `custody_rows.DecisionRow`)."""

    id: int | None
    decided_on: date
    instance: Instance
    outcome: Outcome
    regime: str
    under_appeal: bool
    source_checked_on: date | None

    @property
    def term_text(self) -> str: ...

    @property
    def expected_release(self) -> date | None: ...


class PlacementFacts(Protocol):
    """Where someone is held from a date (`models.Placement`, `custody_rows.PlacementRow`)."""

    id: int | None
    facility: str
    facility_original: str
    since: date
    in_transit: bool
    source_checked_on: date | None


class PersonFacts(Protocol):
    """A defendant with their measures, decisions and placements, each in the order of the
    model's relationship (by date, then id)."""

    id: int
    status: DefendantStatus
    updated_at: datetime | None
    measures: Sequence[MeasureFacts]
    decisions: Sequence[DecisionFacts]
    placements: Sequence[PlacementFacts]

# Statuses in which a person is held somewhere and can receive letters and cards.
HELD_STATUSES = (
    DefendantStatus.PRE_TRIAL_DETENTION,
    DefendantStatus.HOUSE_ARREST,
    DefendantStatus.COMPULSORY_TREATMENT,
    DefendantStatus.IMPRISONED,
)


@dataclass
class CustodySummary:
    """"Detained since 2012-06-08, detention extended 4 times, now until 2013-03-06"."""

    current: MeasureFacts
    since: date
    extensions: int

    @property
    def kind(self) -> MeasureKind:
        return self.current.kind

    @property
    def until(self) -> date | None:
        return self.current.until

    @property
    def next_review_on(self) -> date | None:
        return self.current.next_review_on


def custody_chain(measure: MeasureFacts, by_id: dict[int, MeasureFacts]) -> list[MeasureFacts]:
    """The measure and every earlier one it extends, oldest first."""
    chain = [measure]
    seen = {measure.id}
    while chain[0].extends_id is not None and chain[0].extends_id in by_id:
        previous = by_id[chain[0].extends_id]
        if previous.id in seen:  # a cycle would be a data error; never loop forever
            break
        seen.add(previous.id)
        chain.insert(0, previous)
    return chain


def latest(rows: Iterable[R], day: str) -> R | None:
    """The latest row by the date in `day`; on the same date, the one recorded last (a row not
    yet flushed, which has no id, counts as the last)."""
    return max(rows, key=lambda row: (getattr(row, day), row.id if row.id is not None else math.inf), default=None)


def current_measure(measures: Iterable[MeasureFacts]) -> MeasureFacts | None:
    """The latest measure by start date, whether or not a decision has replaced it since
    (`measure_in_force` says which one holds)."""
    return latest(measures, "starts_on")


def measure_in_force(defendant: PersonFacts) -> MeasureFacts | None:
    """The custody measure that holds now (the defendant's measures and decisions loaded)."""
    return measure_in_force_among(defendant.measures, defendant.decisions)


def measure_in_force_among(
    measures: Iterable[MeasureFacts], decisions: Iterable[DecisionFacts]
) -> MeasureFacts | None:
    """The measure in force among one defendant's rows: none once released, or once a court
    decided after it.

    A verdict replaces the pre-trial measure it followed: Luzyanin's detention "until
    2012-11-27" is history once he was sentenced on 2012-11-24; extending it, or warning that
    it runs out, makes no sense. A measure ordered with the decision or after it (Kosenko's
    compulsory treatment) is the one in force.
    """
    current = current_measure(measures)
    if current is None or current.kind is MeasureKind.RELEASED:
        return None
    decision = latest_decision(decisions)
    if decision is not None and current.starts_on < decision.decided_on:
        return None
    return current


def custody_summary(defendant: PersonFacts) -> CustodySummary | None:
    current = measure_in_force(defendant)
    if current is None:
        return None
    chain = custody_chain(current, {m.id: m for m in defendant.measures})
    # Extensions of the same kind of measure; a change of kind starts a new count.
    same_kind = [m for m in chain if m.kind is current.kind]
    start = same_kind[0]
    return CustodySummary(current=current, since=start.starts_on, extensions=len(same_kind) - 1)


def sentence_in_force(defendant: PersonFacts) -> DecisionFacts | None:
    """The latest decision, since an appeal or cassation decision replaces earlier ones."""
    return latest_decision(defendant.decisions)


def latest_decision(decisions: Iterable[DecisionFacts]) -> DecisionFacts | None:
    return latest(decisions, "decided_on")


@dataclass
class CustodyStatus:
    """What a status line says after the status: the measure in force, or else the decision
    in force (a sentence, an acquittal), where the person is held, and the expected release.
    """

    custody: CustodySummary | None
    sentence: DecisionFacts | None
    place: PlacementFacts | None
    release: date | None
    # the latest decision, whether or not the line tells it (the stale-fact rules read it)
    decision: DecisionFacts | None = None


def custody_status(defendant: PersonFacts) -> CustodyStatus:
    """The status line's facts, never contradicting each other (measures, decisions and
    placements loaded)."""
    custody = custody_summary(defendant)
    decision = sentence_in_force(defendant)
    place = None
    if defendant.status in HELD_STATUSES and defendant.placements:
        place = defendant.placements[-1]
    return CustodyStatus(
        custody=custody,
        sentence=decision if custody is None else None,
        place=place,
        release=decision.expected_release if decision is not None else None,
        decision=decision,
    )


def describe_sentence(decision: DecisionFacts) -> str:
    """A decision as the status line tells it: "Sentenced on 2012-11-24 to 4 years 6 months of
    imprisonment, general regime colony"."""
    day = short_day(decision.decided_on)
    term = decision.term_text
    if decision.outcome is Outcome.IMPRISONMENT and term:
        text = _("Sentenced on %(day)s to %(term)s of imprisonment", day=day, term=term)
    elif decision.outcome is Outcome.SUSPENDED and term:
        text = _("Sentenced on %(day)s to a suspended sentence of %(term)s", day=day, term=term)
    elif decision.outcome is Outcome.ACQUITTAL:
        text = _("Acquitted on %(day)s", day=day)
    elif decision.outcome is Outcome.DROPPED:
        text = _("Case dropped on %(day)s", day=day)
    elif decision.outcome is Outcome.COMPULSORY_TREATMENT:
        text = _("Compulsory treatment ordered on %(day)s", day=day)
    else:
        text = _("Sentenced on %(day)s: %(outcome)s", day=day, outcome=decision.outcome.label)
    if decision.regime:
        text += f", {decision.regime}"
    if decision.under_appeal:
        text += " " + _("(under appeal)")
    return text


def next_instance(defendant: PersonFacts) -> Instance:
    """The instance of the next decision an editor records: an appeal follows a first verdict."""
    decision = sentence_in_force(defendant)
    if decision is None:
        return Instance.FIRST
    return Instance.CASSATION if decision.instance in (Instance.APPEAL, Instance.CASSATION) else Instance.APPEAL


def expected_release(defendant: PersonFacts) -> date | None:
    decision = sentence_in_force(defendant)
    if decision is None:
        return None
    return decision.expected_release


def status_after_decision(decision: DecisionFacts) -> DefendantStatus | None:
    """The status a decision puts a defendant in, used when a verdict is recorded."""
    return {
        Outcome.IMPRISONMENT: DefendantStatus.IMPRISONED,
        Outcome.SUSPENDED: DefendantStatus.SUSPENDED_SENTENCE,
        Outcome.FINE: DefendantStatus.RELEASED,
        Outcome.COMPULSORY_TREATMENT: DefendantStatus.COMPULSORY_TREATMENT,
        Outcome.ACQUITTAL: DefendantStatus.RELEASED,
        Outcome.DROPPED: DefendantStatus.RELEASED,
    }.get(decision.outcome)
