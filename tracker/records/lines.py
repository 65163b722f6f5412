"""Hearing lines: what a public list shows of a hearing, as plain objects, and their text.

The upcoming hearings page lists up to 300 hearings. Loading them as ORM entities (with
their court and defendants) and rendering a macro per hearing cost 27 times the page's
SQL; here the list is read as columns (`upcoming_lines`: the hearings with their court in
one statement, their public defendants in a second), and `prepare` works out each line's
text with the request's `Display` (each phrase, moment, court and name once), so the
template only loops (templates/records/_hearings.html). Pages that hold ORM hearings for
other reasons (a defendant's timeline) turn them into lines with `from_hearing`.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from functools import lru_cache
from operator import attrgetter
from typing import Callable
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l
from markupsafe import Markup, escape
from sqlalchemy.orm import Session

from tracker.id_lists import in_id_list
from tracker.records.courts import Court, CourtPlace
from tracker.records.display import Display
from tracker.records.enums import HearingKind, HearingStatus
from tracker.records.models import Defendant, Hearing, hearing_defendants
from tracker.records.names import escape_text, first_script, pair_html, reader_reads_original

ACTIVE = (HearingStatus.SCHEDULED, HearingStatus.POSTPONED)
# the lines' phrases, resolved once per request by Display.phrase
CLOSED = _l("closed to the public")
COURTROOM = _l("courtroom %(room)s")
JUDGE = _l("Judge: %(judge)s")
SOURCE = _l("source")
CHECKED = _l("checked %(day)s")


@dataclass(slots=True)
class CourtLine(CourtPlace):
    id: int
    name: str
    name_original: str
    address: str
    address_original: str
    timezone: str


@dataclass(slots=True)
class Person:
    """A public defendant of a hearing, as its line names them."""

    id: int
    slug: str
    name_latin: str
    name_original: str
    is_public: bool = True
    sort_key_original: str = ""  # where a reader of the originals' script lists them (records.names)


@dataclass(slots=True)
class HearingLine:
    """A hearing as a list shows it. It answers what the features' additions ask of a hearing
    (`id`, `status`, `starts_at`, `is_active`, `seats`, `public_defendants()`)."""

    id: int
    case_id: int | None
    starts_at: datetime
    duration_minutes: int
    status: HearingStatus
    kind: HearingKind
    is_open: bool
    seats: int | None
    courtroom: str
    judge: str
    video_link_note: str
    outcome_note: str
    source_url: str | None
    source_checked_on: date | None
    court: CourtLine
    people: list[Person] = field(default_factory=list)
    html: str = ""  # the whole line's HTML, set by `prepare` (a str: `lines_html` marks the list safe once)

    @property
    def ends_at(self) -> datetime:
        return self.starts_at + timedelta(minutes=self.duration_minutes)

    @property
    def is_active(self) -> bool:
        return self.status in ACTIVE

    @property
    def local_start(self) -> datetime:
        return self.starts_at.astimezone(self.court.tz)

    def public_defendants(self) -> list[Person]:
        return self.people


_HEARING_COLUMNS = (
    Hearing.id, Hearing.case_id, Hearing.starts_at, Hearing.duration_minutes, Hearing.status, Hearing.kind,
    Hearing.is_open, Hearing.seats, Hearing.courtroom, Hearing.judge, Hearing.video_link_note,
    Hearing.outcome_note, Hearing.source_url, Hearing.source_checked_on,
    Court.id, Court.name, Court.name_original, Court.address, Court.address_original, Court.timezone,
)


def lines_statement(ids: sa.ScalarSelect) -> sa.Select:
    """The hearings whose ids `ids` selects, by start, as line columns with their court's.
    Callers build it once (with bound parameters) and run it with `lines_of`."""
    return (sa.select(*_HEARING_COLUMNS).join(Court, Court.id == Hearing.court_id)
            .where(Hearing.id.in_(ids)).order_by(Hearing.starts_at, Hearing.id))


def lines_where(session: Session, ids: sa.ScalarSelect | list[int]) -> list[HearingLine]:
    """The hearings whose ids `ids` selects, by start, with their public defendants: two statements."""
    return lines_of(session, lines_statement(ids), {})


def lines_of(session: Session, statement: sa.Select, params: dict) -> list[HearingLine]:
    """`statement` (from `lines_statement`) run with `params`, with the lines' public
    defendants: two statements, read through Core (plain tuples, no ORM loading context)."""
    courts: dict[int, CourtLine] = {}
    lines = []
    connection = session.connection()
    for row in connection.execute(statement, params).all():  # fetchall: iterating fetches row by row
        court = courts.get(row[14])
        if court is None:
            court = courts[row[14]] = CourtLine(*row[14:])
        lines.append(HearingLine(*row[:14], court))  # positional: a keyword costs more, 300 times
    add_people(session, lines)
    return lines


@lru_cache(maxsize=1)
def _people_statement() -> sa.Select:
    """Built once: building and keying a statement costs more than SQLite running it."""
    # `is_public` is read here, not tested in SQL: with it in the WHERE clause SQLite starts
    # from the public defendants (their index) and takes 150 ms instead of 2
    return (sa.select(hearing_defendants.c.hearing_id, Defendant.id, Defendant.slug, Defendant.name_latin,
                      Defendant.name_original, Defendant.is_public, Defendant.sort_key_original)
            .join(Defendant, Defendant.id == hearing_defendants.c.defendant_id)
            .where(in_id_list(hearing_defendants.c.hearing_id, "ids")))


def add_people(session: Session, lines: list[HearingLine]) -> None:
    """Each line's public defendants, in the reader's order (records.names: by Latin name for
    a Latin reader, as `Hearing.defendants` orders them; by the stored key for a Cyrillic one)."""
    if not lines:
        return
    by_id = {line.id: line for line in lines}
    people: dict[int, Person] = {}
    rows = session.connection().execute(_people_statement(), {"ids": list(by_id)}).all()
    for hearing_id, person_id, slug, name_latin, name_original, is_public, sort_key in rows:  # no *names
        if is_public:
            person = people.get(person_id)
            if person is None:
                person = people[person_id] = Person(person_id, slug, name_latin, name_original, True, sort_key)
            by_id[hearing_id].people.append(person)
    order = _PEOPLE_ORDER[reader_reads_original()]
    for line in lines:
        if len(line.people) > 1:
            line.people.sort(key=order)


# People in the reader's order (`Defendant.reading_column`) as C keys: a Python function was
# ~0.1 ms of /hearings' 210 sorts; one sort of all 612 rows instead cost twice the small ones
_PEOPLE_ORDER = {flag: attrgetter(Defendant.reading_column(flag).key, "id") for flag in (False, True)}


def from_hearing(hearing: Hearing) -> HearingLine:
    """A loaded Hearing (its court and defendants loaded) as a line."""
    court = hearing.court
    return HearingLine(
        hearing.id, hearing.case_id, hearing.starts_at, hearing.duration_minutes, hearing.status, hearing.kind,
        hearing.is_open, hearing.seats, hearing.courtroom, hearing.judge, hearing.video_link_note,
        hearing.outcome_note, hearing.source_url, hearing.source_checked_on,
        CourtLine(court.id, court.name, court.name_original, court.address, court.address_original,
                  court.timezone),
        [Person(d.id, d.slug, d.name_latin, d.name_original, True, d.sort_key_original)
         for d in sorted(hearing.public_defendants(), key=_PEOPLE_ORDER[reader_reads_original()])],
    )


def group_by_local_day(lines: list[HearingLine]) -> list[tuple[date, list[HearingLine]]]:
    """Lines grouped by their date in the court's own time zone, days in order."""
    groups: dict[date, list[HearingLine]] = {}
    days: dict[tuple[datetime, str], date] = {}  # hearings share their starts (a court's 10:00)
    for line in lines:
        key = (line.starts_at, line.court.timezone)
        day = days.get(key)
        if day is None:
            day = days[key] = line.starts_at.astimezone(ZoneInfo(key[1])).date()
        groups.setdefault(day, []).append(line)
    return sorted(groups.items())


def prepare(lines: list[HearingLine], show: Display) -> list[HearingLine]:
    """Write each line's HTML (`line.html`; records/_hearings.html shows it through
    `lines_html`), the features' additions included. What repeats on a page (a moment, a
    court, a person's link, a kind and status) is written once per distinct value; a line is
    then one f-string of those pieces. Everything is a plain str built with `escape` (a Markup
    per field, or Markup.format, cost more than the text itself) and marked safe once per list."""
    closed = f' <span class="badge">{show.phrase(CLOSED)}</span>'
    starts: dict[tuple[HearingStatus, datetime, str], str] = {}
    heads: dict[tuple[HearingKind, HearingStatus, bool], str] = {}
    wheres: dict[tuple[int, str], str] = {}
    people: dict[int, str] = {}
    judges: dict[str, str] = {}
    defendant_url = show.maker("records.defendant", "slug")
    extras = show.hearing_extra_makers(lines)
    only_extra = extras[0] if len(extras) == 1 else None
    # the usual public list has two (calendar, attendance): called in one f-string, no list a line
    first_extra, second_extra = extras if len(extras) == 2 else (None, None)
    reads_original = show.reads_original
    for line in lines:
        status, court = line.status, line.court
        key = (status, line.starts_at, court.timezone)
        start = starts.get(key)
        if start is None:
            when, when_attr = show.moment(line.starts_at, court.timezone)
            start = starts[key] = (f'<div class="hearing status-{status.value}">\n  <p><strong>'
                                   f'<time datetime="{when_attr}">{when}</time></strong>\n  · ')
        head = heads.get((line.kind, status, line.is_open))
        if head is None:
            head = str(escape(str(line.kind.label).capitalize()))
            if status is not HearingStatus.SCHEDULED:
                head += f' <span class="badge">{escape(status.label)}</span>'
            if not line.is_open:
                head += closed
            heads[(line.kind, status, line.is_open)] = head
        if len(line.people) == 1:
            person = line.people[0]
            names = people.get(person.id) or _person_link(people, person, reads_original, defendant_url)
        else:
            names = ", ".join([people.get(person.id) or _person_link(people, person, reads_original, defendant_url)
                               for person in line.people])
        body = wheres.get((court.id, line.courtroom))
        if body is None:
            where = str(show.both_scripts(court.where_latin, court.where_original))
            if line.courtroom:
                where = f"{where}, {show.markup(COURTROOM, room=line.courtroom)}"  # not str + Markup: that escapes
            body = wheres[(court.id, line.courtroom)] = f'<p class="where">{where}</p>'
        if line.judge:
            judge = judges.get(line.judge)
            if judge is None:
                judge = judges[line.judge] = f"\n  <p>{show.markup(JUDGE, judge=line.judge)}</p>"
            body += judge
        if line.video_link_note:
            body += f"\n  <p>{escape(line.video_link_note)}</p>"
        if line.outcome_note:
            body += f"\n  <p>{escape(line.outcome_note)}</p>"
        if line.source_url:
            body = f"{body}\n  {source(line.source_url, line.source_checked_on, show)}"
        if only_extra is not None:
            extra = only_extra(line)
        elif first_extra is not None:
            extra = f"{first_extra(line)}{second_extra(line)}"
        else:
            extra = "".join([make(line) for make in extras])
        line.html = f"{start}{head}</p>\n  <p>{names}</p>\n  {body}\n  {extra}\n</div>\n"
    return lines


def _person_link(links: dict[int, str], person: Person, reads_original: bool, url: Callable[[str], str]) -> str:
    name = first_script(person.name_latin, person.name_original, reads_original)
    link = links[person.id] = f'<a href="{url(person.slug)}">{escape_text(name)}</a>'
    return link


def lines_html(lines: list[HearingLine]) -> Markup:
    """The prepared lines as records/_hearings.html shows them, marked safe once for the list."""
    return Markup("".join([line.html for line in lines]))


def days_html(groups: list[tuple[date, list[HearingLine]]], show: Display) -> Markup:
    """records/hearings.html's days (`group_by_local_day`), each a section with its date and its
    prepared lines, written in one pass and marked safe once: the Jinja loop with two calls a
    day cost ~0.15 ms of /hearings' 30 days, a third of its template."""
    days = []
    for day, lines in groups:
        html = "".join([line.html for line in lines])
        days.append(f'\n<section class="day">\n<h2><time datetime="{day.isoformat()}">{escape_text(show.day(day))}'
                    f"</time></h2>\n{html}\n</section>\n")
    return Markup("".join(days))


def case_options_html(cases: list[tuple[str, str]], chosen: str | None) -> Markup:
    """The `<option>`s of the public lists' case filter (`queries.case_choices`), `chosen` selected,
    as the template's loop wrote them (its space before `>` kept), escaped and marked safe once."""
    return Markup("".join([f'<option value="{escape_text(slug)}" {"selected" if slug == chosen else ""}>'
                           f"{escape_text(title)}</option>" for slug, title in cases]))


def source(url: str | None, checked_on: date | None, show: Display) -> Markup:
    """records/_macros.html `source`: "(source, checked Dec 2, 2026)"; the "checked" part
    worded once per day and request (a list's sources share a few days)."""
    if not url:
        return Markup("")
    checked = ""
    if checked_on:
        checked = show.once(("source-checked", checked_on),
                            lambda: f", {show.markup(CHECKED, day=show.short_day(checked_on))}")
    return Markup(f'<span class="source">(<a href="{escape(url)}" rel="noopener noreferrer nofollow">'
                  f'{show.phrase(SOURCE)}</a>{checked})</span>')


TURNS = _l("turns %(age)d")


def dates_html(rows: list, show: Display, *, with_age: bool = False) -> Markup:
    """The birthdays and releases page's items (records.dates.DateRow), written in one pass and
    marked safe once for the list (records/dates.html prints it): the day, the linked name, the
    age, the address for letters. Each day and age is worded once; a name or an address is
    written without the Display's memo, which only costs a key on a list where each is new."""
    defendant_url = show.maker("records.defendant", "slug")
    reads_original = show.reads_original
    days: dict[date, str] = {}
    ages: dict[int, str] = {}
    items = []
    for row in rows:
        day = days.get(row.day)
        if day is None:
            day = days[row.day] = f'<time datetime="{row.day.isoformat()}">{escape(show.day(row.day))}</time>'
        person = row.defendant
        name = pair_html(person.name_latin, person.name_original, reads_original, href=defendant_url(person.slug))
        if with_age:
            age = ages.get(row.age)
            if age is None:
                age = ages[row.age] = f", {show.markup(TURNS, age=row.age)}."
        else:
            age = ""
        address = (pair_html(person.letters_address, person.letters_address_original, reads_original, tag="address")
                   if person.letters_address or person.letters_address_original else "")
        items.append(f"\n<li>{day}: {name}{age}\n{address}</li>")
    return Markup("".join(items))


def prepare_next(rows: list, show: Display) -> list:
    """The home page's "Next hearing: …" of each row (records.queries.DefendantRow), each
    moment formatted once."""
    for row in rows:
        found = row.next_hearing
        if found is not None:
            found.when, found.when_attr = show.moment(found.starts_at, found.timezone)
            found.where = show.first_script(found.court, found.court_original)
    return rows
