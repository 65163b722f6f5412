"""Cases, defendants, custody measures, decisions, hearings and courts.

All facts about a defendant are stored once; everything shown (status line,
timeline, expected release) is derived from these rows (custody.py, terms.py, timeline.py).
The kinds and statuses with their labels are in enums.py.
"""
from __future__ import annotations

from collections.abc import Collection, Iterable
from datetime import date, datetime, timedelta
from operator import attrgetter

import sqlalchemy as sa
from sqlalchemy.ext.hybrid import hybrid_method
from sqlalchemy.orm import Mapped, mapped_column, relationship

from tracker.extensions import UTCDateTime, db, string_enum, utcnow
from tracker.records.enums import (
    DefendantStatus, HearingKind, HearingStatus, Instance, LettersStatus, MeasureKind, Outcome,
)
from tracker.records.courts import Court, SiteSetting  # noqa: F401  (their home; imported from here too)
from tracker.records.names import stored_name_keys
from tracker.records.terms import DecisionTerms, MeasureTerms


case_defendants = sa.Table(
    "case_defendants",
    db.metadata,
    sa.Column("case_id", sa.ForeignKey("cases.id", ondelete="CASCADE"), primary_key=True),
    sa.Column("defendant_id", sa.ForeignKey("defendants.id", ondelete="CASCADE"), primary_key=True),
)

hearing_defendants = sa.Table(
    "hearing_defendants",
    db.metadata,
    sa.Column("hearing_id", sa.ForeignKey("hearings.id", ondelete="CASCADE"), primary_key=True),
    sa.Column(
        "defendant_id",
        sa.ForeignKey("defendants.id", ondelete="CASCADE"),
        primary_key=True,
        index=True,
    ),
)


class SourceMixin:
    """A link to where a fact was published and when someone last checked it."""

    source_url: Mapped[str | None] = mapped_column(sa.String(500))
    source_checked_on: Mapped[date | None] = mapped_column(sa.Date)


class Case(db.Model):
    __tablename__ = "cases"

    id: Mapped[int] = mapped_column(primary_key=True)
    slug: Mapped[str] = mapped_column(sa.String(120), unique=True)
    title: Mapped[str] = mapped_column(sa.String(200))
    title_original: Mapped[str] = mapped_column(sa.String(200), default="", server_default="")
    case_number: Mapped[str | None] = mapped_column(sa.String(100))
    description: Mapped[str] = mapped_column(sa.Text, default="")
    charges: Mapped[str] = mapped_column(sa.Text, default="")
    is_demo: Mapped[bool] = mapped_column(default=False)
    version: Mapped[int] = mapped_column(default=1)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    defendants: Mapped[list[Defendant]] = relationship(
        secondary=case_defendants, back_populates="cases", order_by="Defendant.name_latin"
    )
    hearings: Mapped[list[Hearing]] = relationship(back_populates="case", order_by="Hearing.starts_at")

    __mapper_args__ = {"version_id_col": version}

    @hybrid_method
    def in_cases(self, case_ids: Collection[int]) -> bool:
        return self.id in case_ids

    @in_cases.expression
    def in_cases(cls, case_ids: Collection[int]) -> sa.ColumnElement[bool]:  # noqa: N805
        return cls.id.in_(sorted(case_ids))

    def __repr__(self) -> str:
        return f"<Case {self.slug}>"


class Defendant(db.Model):
    __tablename__ = "defendants"

    id: Mapped[int] = mapped_column(primary_key=True)
    slug: Mapped[str] = mapped_column(sa.String(120), unique=True)
    # A group's own identifier from the spreadsheet it imports from (tracker.exchange matches on it).
    external_id: Mapped[str | None] = mapped_column(sa.String(120), unique=True)
    name_original: Mapped[str] = mapped_column(sa.String(200))
    name_latin: Mapped[str] = mapped_column(sa.String(200))
    # the search key of both names (records.names.search_key): one canonical Latin spelling,
    # kept up to date by the listener below, so a search is a LIKE per word on any database
    search_name: Mapped[str] = mapped_column(sa.String(420), default="", index=True)
    # the order a reader of the originals' script lists them in (records.names.sort_key_original),
    # kept by the same listener: the home list pages through it in SQL
    sort_key_original: Mapped[str] = mapped_column(sa.String(420), default="", index=True)
    bio: Mapped[str] = mapped_column(sa.Text, default="")
    charges: Mapped[str] = mapped_column(sa.Text, default="")  # one article per line
    birth_date: Mapped[date | None] = mapped_column(sa.Date)
    arrested_on: Mapped[date | None] = mapped_column(sa.Date)
    status: Mapped[DefendantStatus] = mapped_column(
        string_enum(DefendantStatus), default=DefendantStatus.PRE_TRIAL_DETENTION, index=True
    )
    letters_address: Mapped[str] = mapped_column(sa.Text, default="")
    letters_address_original: Mapped[str] = mapped_column(sa.Text, default="", server_default="")
    letters_status: Mapped[LettersStatus] = mapped_column(
        string_enum(LettersStatus), default=LettersStatus.UNKNOWN
    )
    is_public: Mapped[bool] = mapped_column(default=True, index=True)
    # Private: editors only. Never rendered by a public page, feed or API.
    lawyer_contacts: Mapped[str] = mapped_column(sa.Text, default="")
    internal_notes: Mapped[str] = mapped_column(sa.Text, default="")
    version: Mapped[int] = mapped_column(default=1)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    cases: Mapped[list[Case]] = relationship(
        secondary=case_defendants, back_populates="defendants", order_by="Case.title"
    )
    measures: Mapped[list[CustodyMeasure]] = relationship(
        back_populates="defendant",
        order_by="(CustodyMeasure.starts_on, CustodyMeasure.id)",
        cascade="all, delete-orphan",
    )
    decisions: Mapped[list[Decision]] = relationship(
        back_populates="defendant",
        order_by="(Decision.decided_on, Decision.id)",
        cascade="all, delete-orphan",
    )
    placements: Mapped[list[Placement]] = relationship(
        back_populates="defendant",
        order_by="(Placement.since, Placement.id)",
        cascade="all, delete-orphan",
    )
    hearings: Mapped[list[Hearing]] = relationship(
        secondary=hearing_defendants, back_populates="defendants", order_by="Hearing.starts_at"
    )

    __mapper_args__ = {"version_id_col": version}

    @property
    def short_name(self) -> str:
        """"Maksim Luzyanin" -> "M. Luzyanin": short enough for a subject line."""
        parts = self.name_latin.split()
        if len(parts) < 2:
            return self.name_latin
        return f"{parts[0][0]}. {parts[-1]}"

    @hybrid_method
    def in_cases(self, case_ids: Collection[int]) -> bool:
        """Whether the defendant is in one of these cases (a defendant may be in several)."""
        return any(case.id in case_ids for case in self.cases)

    @in_cases.expression
    def in_cases(cls, case_ids: Collection[int]) -> sa.ColumnElement[bool]:  # noqa: N805
        return cls.id.in_(
            sa.select(case_defendants.c.defendant_id).where(case_defendants.c.case_id.in_(sorted(case_ids)))
        )

    @staticmethod
    def reading_column(reads_original: bool) -> sa.orm.InstrumentedAttribute:
        """The column a list of people sorts by for its reader (records.names "Order of lists"):
        the stored `sort_key_original` for a reader of the originals' script, else the Latin
        name. SQL orders (the home list, actions' people) and Python sorts (hearing lines) use it."""
        return Defendant.sort_key_original if reads_original else Defendant.name_latin

    @staticmethod
    def in_reading_order(people: Iterable[Defendant], reads_original: bool) -> list[Defendant]:
        """People as their reader lists them, in Python (an event, an email): as loaded (by the
        Latin name) for a reader of the Latin script, by the stored key of the originals' script
        for the others (Вера before Тимур, where Timur comes before Vera)."""
        if reads_original:
            return sorted(people, key=_ORIGINALS_ORDER)
        return list(people)

    def __repr__(self) -> str:
        return f"<Defendant {self.slug}>"


_ORIGINALS_ORDER = attrgetter(Defendant.reading_column(True).key, "id")


@sa.event.listens_for(Defendant.name_original, "set")
@sa.event.listens_for(Defendant.name_latin, "set")
def _refresh_name_keys(target: Defendant, value: str, oldvalue, initiator) -> None:  # noqa: ANN001
    original = value if initiator.key == "name_original" else (target.name_original or "")
    latin = value if initiator.key == "name_latin" else (target.name_latin or "")
    for column, key in stored_name_keys(latin, original).items():
        setattr(target, column, key)


class Placement(db.Model, SourceMixin):
    """Where a defendant is held from a date on: each transfer is a new row.

    A transfer whose destination is not yet known ("на этапе") is a row too, `in_transit`
    and with no facility: the person left the last place on `since` and nobody knows
    where they are. The next row with a facility ends it. Whether someone is in transit
    is read from their latest row (records.transit), never stored twice.
    """

    __tablename__ = "placements"

    id: Mapped[int] = mapped_column(primary_key=True)
    defendant_id: Mapped[int] = mapped_column(sa.ForeignKey("defendants.id", ondelete="CASCADE"), index=True)
    facility: Mapped[str] = mapped_column(sa.String(300))  # in Latin letters
    facility_original: Mapped[str] = mapped_column(sa.String(300), default="", server_default="")
    since: Mapped[date] = mapped_column(sa.Date)
    in_transit: Mapped[bool] = mapped_column(default=False, server_default=sa.false())
    note: Mapped[str] = mapped_column(sa.Text, default="")

    defendant: Mapped[Defendant] = relationship(back_populates="placements")

    # a row in transit names no facility: "in transit to IK-2" is a known destination
    __table_args__ = (sa.CheckConstraint("NOT in_transit OR facility = ''", name="transit_has_no_facility"),)


class CustodyMeasure(MeasureTerms, db.Model, SourceMixin):
    """One court order on custody; an extension is a new row pointing at the one it continues.
    When it lapses: `MeasureTerms`."""

    __tablename__ = "custody_measures"

    id: Mapped[int] = mapped_column(primary_key=True)
    defendant_id: Mapped[int] = mapped_column(sa.ForeignKey("defendants.id", ondelete="CASCADE"), index=True)
    kind: Mapped[MeasureKind] = mapped_column(string_enum(MeasureKind))
    starts_on: Mapped[date] = mapped_column(sa.Date)
    ordered_by: Mapped[str] = mapped_column(sa.String(200), default="")
    until: Mapped[date | None] = mapped_column(sa.Date)
    next_review_on: Mapped[date | None] = mapped_column(sa.Date)
    extends_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("custody_measures.id", ondelete="SET NULL")
    )
    note: Mapped[str] = mapped_column(sa.Text, default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    defendant: Mapped[Defendant] = relationship(back_populates="measures")
    extends: Mapped[CustodyMeasure | None] = relationship(remote_side=[id])


class Decision(DecisionTerms, db.Model, SourceMixin):
    """A court's decision on a defendant. Appeals are later decisions, never edits of earlier ones.
    Its term and release: `DecisionTerms`."""

    __tablename__ = "decisions"

    id: Mapped[int] = mapped_column(primary_key=True)
    defendant_id: Mapped[int] = mapped_column(sa.ForeignKey("defendants.id", ondelete="CASCADE"), index=True)
    case_id: Mapped[int | None] = mapped_column(sa.ForeignKey("cases.id", ondelete="SET NULL"))
    decided_on: Mapped[date] = mapped_column(sa.Date)
    court: Mapped[str] = mapped_column(sa.String(200), default="")
    instance: Mapped[Instance] = mapped_column(string_enum(Instance), default=Instance.FIRST)
    outcome: Mapped[Outcome] = mapped_column(string_enum(Outcome))
    term_years: Mapped[int] = mapped_column(default=0)
    term_months: Mapped[int] = mapped_column(default=0)
    term_days: Mapped[int] = mapped_column(default=0)
    regime: Mapped[str] = mapped_column(sa.String(200), default="")
    credited_days: Mapped[int] = mapped_column(default=0)
    release_override: Mapped[date | None] = mapped_column(sa.Date)
    under_appeal: Mapped[bool] = mapped_column(default=False)
    note: Mapped[str] = mapped_column(sa.Text, default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    defendant: Mapped[Defendant] = relationship(back_populates="decisions")
    case: Mapped[Case | None] = relationship()

    __table_args__ = (
        sa.CheckConstraint(
            "term_years >= 0 AND term_months >= 0 AND term_days >= 0 AND credited_days >= 0",
            name="term_not_negative",
        ),
    )


class Hearing(db.Model, SourceMixin):
    """A court date. `version` goes up on every change so calendars and reminders can follow it."""

    __tablename__ = "hearings"

    id: Mapped[int] = mapped_column(primary_key=True)
    # A group's own identifier, so a re-imported row with a new date moves the hearing.
    external_id: Mapped[str | None] = mapped_column(sa.String(120), unique=True)
    case_id: Mapped[int | None] = mapped_column(sa.ForeignKey("cases.id", ondelete="SET NULL"), index=True)
    court_id: Mapped[int] = mapped_column(sa.ForeignKey("courts.id"), index=True)
    starts_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    duration_minutes: Mapped[int] = mapped_column(default=120)
    courtroom: Mapped[str] = mapped_column(sa.String(100), default="")
    # Seats for the public in the courtroom, when known: tells supporters whether to come early
    # (docs/attendance.md). None: not known.
    seats: Mapped[int | None] = mapped_column()
    judge: Mapped[str] = mapped_column(sa.String(200), default="")
    is_open: Mapped[bool] = mapped_column(default=True)
    video_link_note: Mapped[str] = mapped_column(sa.String(500), default="")
    kind: Mapped[HearingKind] = mapped_column(string_enum(HearingKind), default=HearingKind.OTHER)
    status: Mapped[HearingStatus] = mapped_column(
        string_enum(HearingStatus), default=HearingStatus.SCHEDULED
    )
    outcome_note: Mapped[str] = mapped_column(sa.Text, default="")
    version: Mapped[int] = mapped_column(default=1)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    case: Mapped[Case | None] = relationship(back_populates="hearings")
    court: Mapped[Court] = relationship(lazy="joined")
    defendants: Mapped[list[Defendant]] = relationship(
        secondary=hearing_defendants, back_populates="hearings", order_by="Defendant.name_latin"
    )

    # The ORM raises the version on every UPDATE and refuses a stale one.
    __mapper_args__ = {"version_id_col": version}

    __table_args__ = (sa.CheckConstraint("duration_minutes > 0", name="duration_positive"),)

    @property
    def ends_at(self) -> datetime:
        return self.starts_at + timedelta(minutes=self.duration_minutes)

    @property
    def local_start(self) -> datetime:
        """The start in the court's own time zone: what people must be told."""
        return self.starts_at.astimezone(self.court.tz)

    @property
    def is_active(self) -> bool:
        return self.status in (HearingStatus.SCHEDULED, HearingStatus.POSTPONED)

    def public_defendants(self, reads_original: bool = False) -> list[Defendant]:
        """The people the public may see, in the order of the reader's script
        (`Defendant.in_reading_order`): mails and events name them as the pages do."""
        people = [d for d in self.defendants if d.is_public]
        return Defendant.in_reading_order(people, True) if reads_original else people

    # --- the hearings of a case ---------------------------------------------------------
    # One rule for pages, feeds, the API, reminders and editors' limits: a hearing belongs to
    # its case; one with no case belongs to every case of its defendants. Where the public
    # is shown it (public_only), only its public defendants count: a hidden defendant's case
    # never learns of a hearing through them.

    def belongs_to(self, public_only: bool = False) -> set[int]:
        """The ids of the cases this hearing belongs to (its defendants' cases loaded)."""
        people = self.public_defendants() if public_only else self.defendants
        return hearing_cases(self.case_id, ([case.id for case in person.cases] for person in people))

    @hybrid_method
    def in_cases(self, case_ids: Collection[int], public_only: bool = False) -> bool:
        return not self.belongs_to(public_only).isdisjoint(case_ids)

    @in_cases.expression
    def in_cases(cls, case_ids: Collection[int], public_only: bool = False) -> sa.ColumnElement[bool]:  # noqa: N805
        # One list of ids, from two index-friendly halves, rather than
        # `case_id IN (…) OR (case_id IS NULL AND id IN (…))`: as soon as some hearings have no
        # case, PostgreSQL cannot use the case_id index through that OR, guesses thousands of
        # rows, and then hash-joins every hearing's defendants to check the page's other
        # conditions (0.4-0.9 s for a case page of 400 hearings, docs/performance.md).
        # a bound parameter (expanding) lets a statement built once take the ids at execution
        ids = case_ids if isinstance(case_ids, sa.BindParameter) else sorted(case_ids)
        own = sa.table("hearings", sa.column("id"), sa.column("case_id")).alias("own_hearings")
        caseless = sa.table("hearings", sa.column("id"), sa.column("case_id")).alias("caseless_hearings")
        linked = (
            sa.select(hearing_defendants.c.hearing_id)
            .join(case_defendants, case_defendants.c.defendant_id == hearing_defendants.c.defendant_id)
            .join(caseless, caseless.c.id == hearing_defendants.c.hearing_id)
            .where(case_defendants.c.case_id.in_(ids), caseless.c.case_id.is_(None))
        )
        if public_only:
            linked = linked.join(Defendant, Defendant.id == hearing_defendants.c.defendant_id).where(
                Defendant.is_public.is_(True)
            )
        return cls.id.in_(sa.union_all(sa.select(own.c.id).where(own.c.case_id.in_(ids)), linked))

    def __repr__(self) -> str:
        return f"<Hearing {self.id} {self.starts_at:%Y-%m-%d %H:%M}Z v{self.version}>"


def hearing_cases(case_id: int | None, defendants_cases: Iterable[Iterable[int]]) -> set[int]:
    """The cases a hearing belongs to, from its case and its defendants' cases (plain values,
    for callers that read rows rather than objects): `Hearing.in_cases` in Python."""
    if case_id is not None:
        return {case_id}
    return {case for cases in defendants_cases for case in cases}
