"""What the public pages, the feeds and the reminders derive from the records.

Plain functions on a session and the models: the web views, the scheduler and the
tests all call these. Every function that depends on time takes `now` or `today`.
Each query function issues a fixed number of statements, whatever the data size.
"""
from __future__ import annotations

import math
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Iterable, TypeVar

import sqlalchemy as sa
from sqlalchemy.orm import Session, joinedload, selectinload

from tracker.records.models import (
    Case,
    CustodyMeasure,
    Decision,
    Defendant,
    DefendantStatus,
    Hearing,
    HearingStatus,
    Instance,
    MeasureKind,
    Outcome,
    Placement,
    hearing_defendants,
)

R = TypeVar("R")

# Statuses in which a person is held somewhere and can receive letters and cards.
HELD_STATUSES = (
    DefendantStatus.PRE_TRIAL_DETENTION,
    DefendantStatus.HOUSE_ARREST,
    DefendantStatus.COMPULSORY_TREATMENT,
    DefendantStatus.IMPRISONED,
)


class BadQuery(ValueError):
    """A query parameter that cannot be honoured; the message is shown to the user."""


# --- derived facts about one defendant ---------------------------------------------


@dataclass
class CustodySummary:
    """"Detained since 2012-06-08, detention extended 4 times, now until 2013-03-06"."""

    current: CustodyMeasure
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


def custody_chain(measure: CustodyMeasure, by_id: dict[int, CustodyMeasure]) -> list[CustodyMeasure]:
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


def current_measure(measures: Iterable[CustodyMeasure]) -> CustodyMeasure | None:
    """The latest measure by start date, whether or not a decision has replaced it since
    (`measure_in_force` says which one holds)."""
    return latest(measures, "starts_on")


def measure_in_force(defendant: Defendant) -> CustodyMeasure | None:
    """The custody measure that holds now (the defendant's measures and decisions loaded)."""
    return measure_in_force_among(defendant.measures, defendant.decisions)


def measure_in_force_among(
    measures: Iterable[CustodyMeasure], decisions: Iterable[Decision]
) -> CustodyMeasure | None:
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


def custody_summary(defendant: Defendant) -> CustodySummary | None:
    current = measure_in_force(defendant)
    if current is None:
        return None
    chain = custody_chain(current, {m.id: m for m in defendant.measures})
    # Extensions of the same kind of measure; a change of kind starts a new count.
    same_kind = [m for m in chain if m.kind is current.kind]
    start = same_kind[0]
    return CustodySummary(current=current, since=start.starts_on, extensions=len(same_kind) - 1)


def sentence_in_force(defendant: Defendant) -> Decision | None:
    """The latest decision, since an appeal or cassation decision replaces earlier ones."""
    return latest_decision(defendant.decisions)


def latest_decision(decisions: Iterable[Decision]) -> Decision | None:
    return latest(decisions, "decided_on")


@dataclass
class CustodyStatus:
    """What a status line says after the status: the measure in force, or else the decision
    in force (a sentence, an acquittal), where the person is held, and the expected release.
    """

    custody: CustodySummary | None
    sentence: Decision | None
    place: Placement | None
    release: date | None


def custody_status(defendant: Defendant) -> CustodyStatus:
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
    )


def describe_sentence(decision: Decision) -> str:
    """A decision as the status line tells it: "Sentenced on 2012-11-24 to 4 years 6 months of
    imprisonment, general regime colony"."""
    from flask_babel import gettext as _

    day = decision.decided_on.isoformat()
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


def next_instance(defendant: Defendant) -> Instance:
    """The instance of the next decision an editor records: an appeal follows a first verdict."""
    decision = sentence_in_force(defendant)
    if decision is None:
        return Instance.FIRST
    return Instance.CASSATION if decision.instance in (Instance.APPEAL, Instance.CASSATION) else Instance.APPEAL


def expected_release(defendant: Defendant) -> date | None:
    decision = sentence_in_force(defendant)
    if decision is None:
        return None
    return decision.expected_release


@dataclass(order=True)
class TimelineEntry:
    day: date
    order: int
    kind: str  # "arrest", "measure", "extension", "hearing", "decision", "transfer", "release"
    text: str = field(compare=False)
    detail: str = field(compare=False, default="")
    source_url: str | None = field(compare=False, default=None)
    source_checked_on: date | None = field(compare=False, default=None)
    hearing: Hearing | None = field(compare=False, default=None)


def timeline(defendant: Defendant, hearings: Iterable[Hearing]) -> list[TimelineEntry]:
    """The defendant's history in date order, derived from the records (never stored)."""
    from flask_babel import gettext as _

    entries: list[TimelineEntry] = []
    if defendant.arrested_on:
        entries.append(TimelineEntry(defendant.arrested_on, 0, "arrest", _("Arrested")))
    for placement in defendant.placements:
        entries.append(
            TimelineEntry(
                placement.since, 1, "transfer", _("Held at %(place)s", place=placement.facility),
                placement.note, placement.source_url, placement.source_checked_on,
            )
        )
    by_id = {m.id: m for m in defendant.measures}
    for measure in defendant.measures:
        previous = by_id.get(measure.extends_id) if measure.extends_id else None
        if measure.kind is MeasureKind.RELEASED:
            text, kind = _("Released"), "release"
        elif previous is not None and previous.kind is measure.kind:
            text, kind = _("%(measure)s extended", measure=measure.kind.label.capitalize()), "extension"
        else:
            text, kind = measure.kind.label.capitalize(), "measure"
        details = []
        if measure.until:
            details.append(_("until %(day)s", day=measure.until.isoformat()))
        if measure.next_review_on:
            details.append(_("next review %(day)s", day=measure.next_review_on.isoformat()))
        if measure.ordered_by:
            details.append(_("ordered by %(court)s", court=measure.ordered_by))
        if measure.note:
            details.append(measure.note)
        entries.append(
            TimelineEntry(
                measure.starts_on, 2, kind, text, "; ".join(details),
                measure.source_url, measure.source_checked_on,
            )
        )
    for hearing in hearings:
        local = hearing.local_start
        text = f"{hearing.kind.label.capitalize()} ({hearing.status.label})"
        detail = hearing.court.name + (f": {hearing.outcome_note}" if hearing.outcome_note else "")
        entries.append(
            TimelineEntry(local.date(), 3, "hearing", text, detail, hearing.source_url,
                          hearing.source_checked_on, hearing)
        )
    for decision in defendant.decisions:
        text = f"{decision.instance.label.capitalize()}: {decision.outcome.label}"
        if decision.has_term:
            text += f", {decision.term_text}"
        details = [d for d in (decision.court, decision.regime, decision.note) if d]
        if decision.under_appeal:
            details.append(_("under appeal"))
        entries.append(
            TimelineEntry(decision.decided_on, 4, "decision", text, "; ".join(details),
                          decision.source_url, decision.source_checked_on)
        )
    entries.sort()
    return entries


# --- queries for the public pages ---------------------------------------------------


def public_hearing_clause():
    """A hearing is public when at least one of its defendants is public."""
    return sa.exists(
        sa.select(hearing_defendants.c.hearing_id)
        .join(Defendant, Defendant.id == hearing_defendants.c.defendant_id)
        .where(hearing_defendants.c.hearing_id == Hearing.id, Defendant.is_public.is_(True))
    )


def _like_escape(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


@dataclass
class DefendantRow:
    defendant: Defendant
    status: CustodyStatus
    next_hearing: Hearing | None = None


@dataclass
class DefendantPage:
    rows: list[DefendantRow]
    total: int
    page: int
    pages: int


def next_hearings(session: Session, defendant_ids: list[int], now: datetime) -> dict[int, Hearing]:
    """The next scheduled hearing of each defendant, in one query."""
    if not defendant_ids:
        return {}
    rows = session.execute(
        sa.select(hearing_defendants.c.defendant_id, Hearing)
        .join(Hearing, Hearing.id == hearing_defendants.c.hearing_id)
        .where(
            hearing_defendants.c.defendant_id.in_(defendant_ids),
            Hearing.starts_at >= now,
            Hearing.status == HearingStatus.SCHEDULED,
        )
        .order_by(Hearing.starts_at)
    ).all()
    result: dict[int, Hearing] = {}
    for defendant_id, hearing in rows:
        result.setdefault(defendant_id, hearing)
    return result


def list_defendants(
    session: Session,
    *,
    now: datetime,
    case_slug: str | None = None,
    status: str | None = None,
    q: str | None = None,
    page: int = 1,
    per_page: int = 50,
) -> DefendantPage:
    """The home page's list of public defendants, filtered and paginated."""
    query = sa.select(Defendant).where(Defendant.is_public.is_(True))
    if case_slug:
        case_id = session.scalar(sa.select(Case.id).where(Case.slug == case_slug))
        if case_id is None:
            raise BadQuery(f"There is no case '{case_slug}'.")
        query = query.where(Defendant.cases.any(Case.id == case_id))
    if status:
        try:
            query = query.where(Defendant.status == DefendantStatus(status))
        except ValueError:
            raise BadQuery(f"Unknown status '{status}'.") from None
    if q:
        q = q.strip()
        if len(q) > 100:
            raise BadQuery("The search text is too long (100 characters at most).")
        query = query.where(Defendant.search_name.like(f"%{_like_escape(q.casefold())}%", escape="\\"))
    if page < 1:
        raise BadQuery("Page numbers start at 1.")

    total = session.scalar(sa.select(sa.func.count()).select_from(query.subquery())) or 0
    pages = max(1, -(-total // per_page))
    if page > pages:
        raise BadQuery(f"There are only {pages} pages.")
    defendants = session.scalars(
        query.options(selectinload(Defendant.measures), selectinload(Defendant.decisions),
                      selectinload(Defendant.placements))
        .order_by(Defendant.name_latin, Defendant.id)
        .limit(per_page)
        .offset((page - 1) * per_page)
    ).all()
    upcoming = next_hearings(session, [d.id for d in defendants], now)
    rows = [DefendantRow(d, custody_status(d), upcoming.get(d.id)) for d in defendants]
    return DefendantPage(rows=rows, total=total, page=page, pages=pages)


def get_public_defendant(session: Session, slug: str) -> Defendant | None:
    return session.scalar(
        sa.select(Defendant)
        .where(Defendant.slug == slug, Defendant.is_public.is_(True))
        .options(
            selectinload(Defendant.measures),
            selectinload(Defendant.decisions),
            selectinload(Defendant.placements),
            selectinload(Defendant.cases),
        )
    )


def defendant_hearings(session: Session, defendant: Defendant) -> list[Hearing]:
    """All hearings of a defendant with their (public) co-defendants loaded."""
    return list(
        session.scalars(
            sa.select(Hearing)
            .join(hearing_defendants, hearing_defendants.c.hearing_id == Hearing.id)
            .where(hearing_defendants.c.defendant_id == defendant.id)
            .options(selectinload(Hearing.defendants))
            .order_by(Hearing.starts_at)
        )
    )


def all_cases(session: Session) -> list[Case]:
    """Every case, by title (the filters of the public lists, the choices of the admins' forms)."""
    return list(session.scalars(sa.select(Case).order_by(Case.title)))


def cases_by_id(session: Session, ids: list[int]) -> list[Case]:
    return list(session.scalars(sa.select(Case).where(Case.id.in_(ids)))) if ids else []


def get_case(session: Session, slug: str) -> Case | None:
    return session.scalar(sa.select(Case).where(Case.slug == slug))


def case_defendants(session: Session, case: Case) -> list[Defendant]:
    return list(
        session.scalars(
            sa.select(Defendant)
            .where(Defendant.cases.any(Case.id == case.id), Defendant.is_public.is_(True))
            .options(selectinload(Defendant.measures), selectinload(Defendant.decisions),
                     selectinload(Defendant.placements))
            .order_by(Defendant.name_latin)
        )
    )


def case_hearings(session: Session, case: Case) -> list[Hearing]:
    """The public hearings of a case (`Hearing.in_cases`: the feeds and reminders use it too)."""
    return list(
        session.scalars(
            sa.select(Hearing)
            .where(Hearing.in_cases([case.id], public_only=True), public_hearing_clause())
            .options(selectinload(Hearing.defendants))
            .order_by(Hearing.starts_at)
        )
    )


def upcoming_hearings(
    session: Session, now: datetime, days: int = 30, *, case_slug: str | None = None, limit: int = 300
) -> list[Hearing]:
    """Public hearings that have not ended and start within `days`; cancelled ones stay visible.

    `limit` keeps the page readable and, being under SQLAlchemy's select-in batch of
    500, keeps the statement count fixed however many hearings fall in the window.
    """
    query = sa.select(Hearing.id).where(
        Hearing.starts_at >= now - timedelta(hours=12),
        Hearing.starts_at < now + timedelta(days=days),
        Hearing.status != HearingStatus.HELD,
        public_hearing_clause(),
    )
    if case_slug:
        case_id = session.scalar(sa.select(Case.id).where(Case.slug == case_slug))
        if case_id is None:
            raise BadQuery(f"There is no case '{case_slug}'.")
        query = query.where(Hearing.in_cases([case_id], public_only=True))
    ids = query.order_by(Hearing.starts_at, Hearing.id).limit(limit).scalar_subquery()
    return list(
        session.scalars(
            sa.select(Hearing)
            .where(Hearing.id.in_(ids))
            .options(selectinload(Hearing.defendants))
            .order_by(Hearing.starts_at, Hearing.id)
        )
    )


def group_by_local_day(hearings: Iterable[Hearing]) -> list[tuple[date, list[Hearing]]]:
    """Hearings grouped by their date in the court's own time zone."""
    groups: dict[date, list[Hearing]] = defaultdict(list)
    for hearing in hearings:
        groups[hearing.local_start.date()].append(hearing)
    return sorted(groups.items())


def next_birthday(born: date, today: date) -> date:
    for year in (today.year, today.year + 1):
        try:
            day = born.replace(year=year)
        except ValueError:  # 29 February in a common year: celebrate on 1 March
            day = date(year, 3, 1)
        if day >= today:
            return day
    raise AssertionError("unreachable")


@dataclass
class DateRow:
    day: date
    defendant: Defendant
    age: int | None = None


def upcoming_dates(
    session: Session, today: date, birthday_days: int = 60, release_days: int = 365
) -> tuple[list[DateRow], list[DateRow]]:
    """Birthdays of people held (for cards) and expected releases (to meet them)."""
    held = session.scalars(
        sa.select(Defendant).where(
            Defendant.is_public.is_(True),
            Defendant.status.in_(HELD_STATUSES),
            Defendant.birth_date.is_not(None),
        )
    ).all()
    birthdays = []
    for defendant in held:
        day = next_birthday(defendant.birth_date, today)
        if day <= today + timedelta(days=birthday_days):
            birthdays.append(DateRow(day, defendant, day.year - defendant.birth_date.year))
    prisoners = session.scalars(
        sa.select(Defendant)
        .where(Defendant.is_public.is_(True), Defendant.status == DefendantStatus.IMPRISONED)
        .options(joinedload(Defendant.decisions))
    ).unique().all()
    releases = []
    for defendant in prisoners:
        release = expected_release(defendant)
        if release and today <= release <= today + timedelta(days=release_days):
            releases.append(DateRow(release, defendant))
    birthdays.sort(key=lambda r: (r.day, r.defendant.name_latin))
    releases.sort(key=lambda r: (r.day, r.defendant.name_latin))
    return birthdays, releases


def has_demo_data(session: Session) -> bool:
    return session.scalar(sa.select(sa.exists().where(Case.is_demo.is_(True)))) or False


def status_after_decision(decision: Decision) -> DefendantStatus | None:
    """The status a decision puts a defendant in, used when a verdict is recorded."""
    return {
        Outcome.IMPRISONMENT: DefendantStatus.IMPRISONED,
        Outcome.SUSPENDED: DefendantStatus.SUSPENDED_SENTENCE,
        Outcome.FINE: DefendantStatus.RELEASED,
        Outcome.COMPULSORY_TREATMENT: DefendantStatus.COMPULSORY_TREATMENT,
        Outcome.ACQUITTAL: DefendantStatus.RELEASED,
        Outcome.DROPPED: DefendantStatus.RELEASED,
    }.get(decision.outcome)
