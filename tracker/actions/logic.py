"""Submitting, reviewing and reading solidarity actions: plain functions of the session and `now`.

Every change is one audit entry in the caller's transaction (tracker/editing/audit.py), like
an editor's change to a hearing, and raises the action's version (its calendar SEQUENCE).
The caller commits.
"""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from itertools import groupby
from operator import itemgetter
from typing import Any
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from flask_babel import gettext as _
from sqlalchemy.orm import Session, joinedload, selectinload

from tracker.access import limit_to_editable
from tracker.actions import places
from tracker.actions.models import Action, ActionStatus, action_defendants
from tracker.editing import audit
from tracker.kept import KeptWhileSame
from tracker.records import wallclock
from tracker.records.models import Case, Defendant, case_defendants
from tracker.records.names import first_script, reader_reads_original, reading_key, titles_as_shown

MAX_DURATION = timedelta(days=31)  # a longer "action" is a campaign, or a typo in the year
PAGE_SHOWN = 20  # a defendant's or case's page lists the soonest; the calendar and /actions have them all
FEED_PAST_DAYS = 30  # a feed keeps an action this long after it ended, so calendars do not drop it at once
AUDITED = ("title", "description", "organiser", "city", "country", "address", "timezone", "starts_at", "ends_at",
           "case_id", "defendants", "contact", "status")


class ActionErrors(ValueError):
    """What is wrong with a submission, by form field: shown beside each one."""

    def __init__(self, errors: dict[str, str]) -> None:
        super().__init__("; ".join(errors.values()))
        self.errors = errors


@dataclass
class ActionConflict(Exception):
    """Someone saved the action after the editor loaded it."""

    current_version: int


@dataclass
class Checked:
    """A submission's values, checked and resolved to what is stored."""

    values: dict[str, Any]
    case: Case | None
    defendants: list[Defendant] = field(default_factory=list)


# --- what may be linked ---------------------------------------------------------------------


def linkable_cases(session: Session) -> list[tuple[str, str]]:
    """(id, title) of every case, each title in the reader's script, sorted as shown."""
    return [(str(i), title) for i, title in titles_as_shown(
        session.execute(sa.select(Case.id, Case.title, Case.title_original)).all())]


_LINKABLE: KeptWhileSame[list[tuple[str, str, str | None]]] = KeptWhileSame()


def linkable_defendants(session: Session, keep: Sequence[Defendant] = ()) -> list[tuple[str, str, str | None]]:
    """The public defendants grouped by case (each under the first of their cases by title, those
    in none last), plus those an action already names (an editor's save keeps them), as (id,
    name, case title or None). Two statements: the people, and every case's members. (One that
    joined or grouped them took 7-10 ms on SQLite at 2,000, a correlated "first case" 250 ms:
    the links are keyed by case, not by defendant.)

    Both statements run on every call; the list made from their rows is kept for the process
    and given again while the rows and the reader's script are the same (a tuple comparison,
    ~0.15 ms at 2,000, where wording and sorting them is ~2.5 ms). Callers must not change it."""
    connection = session.connection()
    reads_original = reader_reads_original()  # once: asking Flask-Babel per name cost ~4 ms at 2,000
    people = _plain_rows(connection, sa.select(Defendant.id, Defendant.name_latin, Defendant.name_original)
                         .where(Defendant.is_public.is_(True)).order_by(Defendant.id))
    links = _plain_rows(connection, sa.select(case_defendants.c.defendant_id, Case.id, Case.title, Case.title_original)
                        .join(Case, Case.id == case_defendants.c.case_id))
    listed = _LINKABLE.get((reads_original, people, links), lambda: _by_case(people, links, reads_original))
    if not keep:
        return listed
    known = {row[0] for row in people}
    return listed + [(str(d.id), first_script(d.name_latin, d.name_original, reads_original), None)
                     for d in keep if d.id not in known]


def _plain_rows(connection: sa.Connection, statement: sa.Select) -> list[tuple]:
    """The statement's rows as the driver gives them (tuples of ints and strs, which need no
    conversion): run through SQLAlchemy as any other (its events, the query counts), fetched
    from its cursor without a `Row` each (~0.15 µs a row, and a tuple to compare them)."""
    result = connection.execute(statement)
    try:
        return list(map(tuple, result.cursor.fetchall()))  # a driver may give its own row type
    finally:
        result.close()


def _by_case(people: list[tuple], links: list[tuple], reads_original: bool) -> list[tuple[str, str, str | None]]:
    """`linkable_defendants`' list from its rows. Each case's title is worked out once, not
    once per member, and each name without a `ScriptPair` (2,000 of each: ~4 ms)."""
    named = [(i, first_script(latin, original, reads_original), reading_key(latin, original, reads_original))
             for i, latin, original in people]
    titles: dict[int, str] = {}  # case id -> its title as the reader reads it
    title_keys: dict[int, tuple] = {}  # case id -> where it sorts (records.names.reading_key)
    for _defendant_id, case_id, title, original in links:
        if case_id not in titles:
            titles[case_id] = first_script(title, original, reads_original)
            title_keys[case_id] = reading_key(title, original, reads_original)
    by_title = sorted(titles, key=lambda case_id: (title_keys[case_id], case_id))
    position = {case_id: n for n, case_id in enumerate(by_title)}
    rank: dict[str, int] = {}  # a title's group: cases of the same title share one
    for case_id in by_title:
        rank.setdefault(titles[case_id], len(rank))
    first: dict[int, int] = {}  # defendant id -> the position of their first case by title
    for defendant_id, case_id, _title, _original in links:
        at = position[case_id]
        if at < first.get(defendant_id, len(position)):
            first[defendant_id] = at
    first_case = {defendant_id: titles[by_title[at]] for defendant_id, at in first.items()}
    group = {defendant_id: rank[title] for defendant_id, title in first_case.items()}
    last = len(rank)
    # by case, then by the name as the reader reads it
    ordered = sorted([(group.get(i, last), key, i, name) for i, name, key in named])
    return [(str(i), name, first_case.get(i)) for _group, _key, i, name in ordered]


def _ids(raw: Any) -> list[int]:
    values = raw if isinstance(raw, (list, tuple)) else ([raw] if raw else [])
    found = []
    for value in values:
        try:
            number = int(value)
        except (TypeError, ValueError):
            continue
        if 0 < number < 2**31:
            found.append(number)
    return found


def check_submission(session: Session, values: dict[str, Any], now: datetime, *, by_editor: bool = False,
                     keep: Sequence[Defendant] = (), in_file: bool = False) -> Checked:
    """Resolve the zone, turn local times into UTC, and load the case and defendants.

    Organisers may link only public defendants; an editor's save also keeps those the action
    already names (`keep`). An organiser's action must not have ended; an editor may correct
    a past one.
    """
    errors: dict[str, str] = {}
    country = values["country"]
    zone_name = values.get("timezone") or places.zone_for(country)
    if not zone_name:
        errors["timezone"] = _("Choose the time zone: %(country)s has more than one.",
                               country=places.country_name(country))
    starts_at = ends_at = None
    if zone_name:
        zone = ZoneInfo(zone_name)
        try:  # a time the clocks skip or repeat: refused, or the offset chosen decides (tracker.records.wallclock)
            starts_at = wallclock.chosen(values["starts"], zone, values.get("starts_offset"))
        except wallclock.LocalTimeError as error:
            errors["starts"] = error.message(in_file=in_file)
        try:
            ends_at = wallclock.chosen(values["ends"], zone, values.get("ends_offset"))
        except wallclock.LocalTimeError as error:
            errors["ends"] = error.message(in_file=in_file)
    if starts_at and ends_at:
        if ends_at <= starts_at:
            errors["ends"] = _("The end must come after the start.")
        elif ends_at - starts_at > MAX_DURATION:
            errors["ends"] = _("An action lasts %(days)d days at most; check the dates.", days=MAX_DURATION.days)
        elif not by_editor and ends_at <= now:
            errors["ends"] = _("This time has passed. Check the date and the time zone.")
    case = None
    case_ids = _ids(values.get("case"))
    if case_ids:
        case = session.get(Case, case_ids[0])
        if case is None:
            errors["case"] = _("This case is no longer on the site.")
    wanted = set(_ids(values.get("defendants")))
    defendants: list[Defendant] = []
    if wanted:
        defendants = list(session.scalars(sa.select(Defendant).where(Defendant.id.in_(sorted(wanted)))
                                          .order_by(Defendant.name_latin)))
        allowed = {d.id for d in keep}
        if len(defendants) != len(wanted) or any(not d.is_public and d.id not in allowed for d in defendants):
            errors["defendants"] = _("Someone chosen is no longer on the site; check the list again.")
    if errors:
        raise ActionErrors(errors)
    stored = {name: values[name] for name in ("title", "description", "organiser", "city", "country", "address",
                                              "contact")}
    stored.update(timezone=zone_name, starts_at=starts_at, ends_at=ends_at)
    return Checked(stored, case, defendants)


# --- changes ---------------------------------------------------------------------------------


def _snapshot(action: Action) -> dict[str, Any]:
    values = audit.snapshot(action, [name for name in AUDITED if name != "defendants"])
    values["defendants"] = sorted(d.id for d in action.defendants)
    return values


def _assign(action: Action, checked: Checked) -> None:
    for name, value in checked.values.items():
        setattr(action, name, value)
    action.case = checked.case
    action.case_id = checked.case.id if checked.case else None
    action.defendants = checked.defendants


def _create(session: Session, checked: Checked, *, status: ActionStatus, by: Any, now: datetime, audited_as: str,
            external_id: str | None = None) -> Action:
    action = Action(status=status, external_id=external_id, created_at=now, updated_at=now)
    _assign(action, checked)
    session.add(action)
    session.flush()
    changes = {k: [None, v] for k, v in _snapshot(action).items()}
    if external_id:
        changes["external_id"] = [None, external_id]
    audit.record(session, action=audited_as, entity_type="action", entity_id=action.id, changes=changes, by=by,
                 now=now)
    return action


def submit_action(session: Session, values: dict[str, Any], now: datetime) -> Action:
    """An organiser's submission: pending until an editor approves it."""
    checked = check_submission(session, values, now)
    return _create(session, checked, status=ActionStatus.PENDING, by=None, now=now, audited_as="submit")


def create_action(session: Session, values: dict[str, Any], *, status: ActionStatus, by: Any, now: datetime,
                  external_id: str | None = None, keep: Sequence[Defendant] = ()) -> Action:
    """An action an editor brings with its review already done (an import: a backup, another
    instance's list), so it keeps its status. Checked as an editor's save (`keep`: hidden
    defendants the editor may name); one audit entry under the editor's name."""
    checked = check_submission(session, values, now, by_editor=True, keep=keep)
    return _create(session, checked, status=status, by=by, now=now, audited_as="create", external_id=external_id)


def _check_version(action: Action, expected: int | None) -> None:
    if expected is not None and action.version != expected:
        raise ActionConflict(action.version)


def update_action(session: Session, action: Action, values: dict[str, Any], *, expected_version: int | None,
                  by: Any, now: datetime, approve: bool = False, external_id: str | None = None,
                  keep: Sequence[Defendant] = ()) -> Action:
    """An editor's correction, and approval when `approve`: one audit entry, one version.

    The defendants it names may stay even when hidden, and so may `keep` (an import's
    hidden defendants the importer may edit); `external_id` is set when given (an import's key)."""
    _check_version(action, expected_version)
    checked = check_submission(session, values, now, by_editor=True, keep=[*action.defendants, *keep])
    before = _snapshot(action)
    _assign(action, checked)
    if approve:
        action.status = ActionStatus.APPROVED
    action.updated_at = now  # the row is updated even when only the linked defendants changed
    changes = audit.diff(before, _snapshot(action))
    if external_id is not None and external_id != action.external_id:
        changes["external_id"] = [action.external_id, external_id]
        action.external_id = external_id
    audit.record(session, action="approve" if approve else "update", entity_type="action", entity_id=action.id,
                 changes=changes, by=by, now=now)
    session.flush()
    return action


def set_status(session: Session, action: Action, status: ActionStatus, *, expected_version: int | None, by: Any,
               now: datetime, reason: str = "") -> Action:
    """Reject (pending or approved: taken down) or call off (approved: stays public, marked so)."""
    _check_version(action, expected_version)
    before = action.status
    action.status = status
    action.updated_at = now
    audit.record(session, action={ActionStatus.REJECTED: "reject", ActionStatus.CANCELLED: "cancel"}.get(
        status, "update"), entity_type="action", entity_id=action.id,
        changes={"status": [before.value, status.value]}, by=by, now=now, note=reason)
    session.flush()
    return action


# --- reading ---------------------------------------------------------------------------------


def _public() -> sa.Select:
    """Public actions with their defendants and case in the same statement, as mapped objects: the
    calendars' (the pages read plain rows: `listing`)."""
    return (sa.select(Action).where(Action.public_clause())
            .options(joinedload(Action.defendants), joinedload(Action.case)))


def case_clause(case_id: int | sa.BindParameter) -> sa.ColumnElement[bool]:
    """An action is a case's when linked to it, or to one of its public defendants (the case's
    page lists them through `listing.of_case_listed`, its calendar through `for_feed`)."""
    through = (sa.select(action_defendants.c.action_id)
               .join(case_defendants, case_defendants.c.defendant_id == action_defendants.c.defendant_id)
               .join(Defendant, Defendant.id == action_defendants.c.defendant_id)
               .where(case_defendants.c.case_id == case_id, Defendant.is_public.is_(True)))
    return sa.or_(Action.case_id == case_id, Action.id.in_(through))


def for_feed(session: Session, now: datetime, *, case: Case | None = None,
             defendant: Defendant | None = None) -> list[Action]:
    """What a calendar holds: the public actions from FEED_PAST_DAYS ago on, by id (stable bytes)."""
    query = _public().where(Action.ends_at >= now - timedelta(days=FEED_PAST_DAYS))
    if case is not None:
        query = query.where(case_clause(case.id))
    if defendant is not None:
        query = query.where(Action.id.in_(sa.select(action_defendants.c.action_id)
                                          .where(action_defendants.c.defendant_id == defendant.id)))
    return list(session.scalars(query.order_by(Action.id)).unique())


@dataclass
class Place:
    city: str
    actions: list[Action]


@dataclass
class Country:
    code: str
    name: str
    cities: list[Place]


def group_by_place(actions: Sequence[Action]) -> list[Country]:
    """Countries by name in the reader's language, their cities by name, each city's actions by
    start. Each country's and city's sort key is made once per distinct value (/actions sorts up
    to 500 actions in a handful of places), not per action and comparison."""
    names = places.country_names(places.locale_name())  # once for the list, not per action
    countries: dict[str, str] = {}
    cities: dict[str, str] = {}
    keyed = []
    for action in actions:
        country = countries.get(action.country)
        if country is None:
            country = countries[action.country] = names.get(action.country, action.country).casefold()
        city = cities.get(action.city)
        if city is None:
            city = cities[action.city] = action.city.strip().casefold()
        keyed.append((country, city, action.starts_at, action.id, action))
    keyed.sort(key=itemgetter(0, 1, 2, 3))  # unique by id: the actions themselves are never compared
    result = []
    for code, in_country in groupby(keyed, key=_code):
        in_cities = [[row[4] for row in group] for _key, group in groupby(in_country, key=itemgetter(1))]
        result.append(Country(code, names.get(code, code), [Place(group[0].city, group) for group in in_cities]))
    return result


def _code(row: tuple) -> str:
    return row[4].country


def review_queue(session: Session, user: Any) -> list[Action]:
    """Pending actions this editor may review, oldest submission first."""
    query = (sa.select(Action).where(Action.status == ActionStatus.PENDING)
             .options(selectinload(Action.defendants).selectinload(Defendant.cases), joinedload(Action.case))
             .order_by(Action.created_at, Action.id))
    return list(session.scalars(limit_to_editable(query, Action, user)).unique())


def reviewed(session: Session, user: Any, now: datetime, limit: int = 100) -> list[Action]:
    """Approved, called-off and rejected actions still to come that this editor may change."""
    query = (sa.select(Action).where(Action.status != ActionStatus.PENDING, Action.ends_at >= now)
             .options(selectinload(Action.defendants), joinedload(Action.case))
             .order_by(Action.starts_at, Action.id).limit(limit))
    return list(session.scalars(limit_to_editable(query, Action, user)).unique())


def pending_count(session: Session, user: Any) -> int:
    query = sa.select(sa.func.count()).select_from(Action).where(Action.status == ActionStatus.PENDING)
    return session.scalar(limit_to_editable(query, Action, user)) or 0
