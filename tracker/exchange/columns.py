"""The tables an import reads and the full export writes, column by column.

One description serves the reader (which header means which field, how a cell is
parsed), the export (which columns, in which order), the downloadable template and
docs/import.md. A column's `kind` names its parser in `tracker.exchange.values`.
"""
from __future__ import annotations

from dataclasses import dataclass, field

from flask_babel import lazy_gettext as _l

from tracker.actions.models import ActionStatus
from tracker.records.enums import (
    DefendantStatus, HearingKind, HearingStatus, Instance, LettersStatus, MeasureKind, Outcome,
)


@dataclass(frozen=True)
class Column:
    name: str
    kind: str  # line, text, slug, date, datetime, bool, int, enum, articles, list, url, timezone, country
    help: object  # a lazy translated string
    example: str = ""
    required: bool = False
    max_length: int | None = None
    enum: type | None = None
    aliases: tuple[str, ...] = ()
    private: bool = False  # editors only: never on a public page, feed or API
    birth: bool = False  # a birth date: plausible from 1910 on, not 1990


@dataclass(frozen=True)
class Table:
    name: str
    help: object
    columns: tuple[Column, ...]
    # a header with this column is this table (a CSV file holds one table)
    signature: tuple[str, ...]
    aliases: tuple[str, ...] = ()
    export: bool = True
    by_name: dict[str, Column] = field(default_factory=dict, compare=False, hash=False)

    def __post_init__(self) -> None:
        self.by_name.update({c.name: c for c in self.columns})

    def column(self, name: str) -> Column:
        return self.by_name[name]


def _c(name: str, kind: str, help: object, example: str = "", **kw) -> Column:  # noqa: A002
    return Column(name, kind, help, example, **kw)


DEFENDANT_REF = _c("defendant", "line", _l("The defendant's external_id or slug (from the defendants table or "
                   "already in the tracker)."), "ivan-petrov", required=True, max_length=120,
                   aliases=("подсудимый", "фигурант"))
SOURCE = (
    _c("source_url", "url", _l("Where this was published (http or https)."), "https://example.org/news/1",
       max_length=500, aliases=("источник",)),
    _c("source_checked_on", "date", _l("When someone last checked the source."), "08.06.2012",
       aliases=("источник проверен",)),
)

CASES = Table(
    "cases",
    _l("Cases. Editors limited to some cases cannot create cases."),
    (
        _c("slug", "slug", _l("The end of the case's page address; the key rows are matched on."), "bolotnaya",
           required=True, max_length=120, aliases=("адрес",)),
        _c("title", "line", _l("The case's name."), "Болотное дело", required=True, max_length=200,
           aliases=("название", "дело")),
        _c("title_original", "line", _l("The case's name as written originally (when `title` is in latin "
           "letters); each reader sees their own script first, and other tables may name the case either way."),
           "Дело 6 мая", max_length=200, aliases=("название (оригинал)", "название в оригинале")),
        _c("case_number", "line", _l("The official case number."), "201/459415-12", max_length=100,
           aliases=("номер дела", "номер")),
        _c("description", "text", _l("What the case is about (shown publicly)."), "", max_length=20000,
           aliases=("описание",)),
        _c("charges", "text", _l("Charges in the case, one per line."), "", max_length=5000, aliases=("обвинение",)),
    ),
    signature=("title",),
    aliases=("дела", "case"),
)

COURTS = Table(
    "courts",
    _l("Courts. Only new courts are created from this table; an existing court is left as it is."),
    (
        _c("name", "line", _l("The court's name, as hearings name it."), "Замоскворецкий районный суд",
           required=True, max_length=200, aliases=("суд", "court")),
        _c("name_original", "line", _l("The court's name as written originally (when `name` is in latin "
           "letters); hearings may name the court either way."), "Мосгорсуд", max_length=200,
           aliases=("название в оригинале", "суд в оригинале")),
        _c("address", "line", _l("The court's address."), "Таганская ул., 1, Москва", max_length=300,
           aliases=("адрес",)),
        _c("address_original", "line", _l("The court's address as written originally (when `address` is in "
           "latin letters)."), "ул. Татарская, 1, Москва", max_length=300, aliases=("адрес в оригинале",)),
        _c("timezone", "timezone", _l("IANA time zone of the court (hearing times are in it)."), "Europe/Moscow",
           max_length=64, aliases=("часовой пояс",)),
    ),
    signature=("timezone",),
    aliases=("суды",),
)

DEFENDANTS = Table(
    "defendants",
    _l("One row per defendant. The custody_* and next_hearing* columns are a short way to give the "
    "current custody measure and the next hearing in the same row."),
    (
        _c("external_id", "line", _l("Your own stable identifier of the person (a number from your "
           "spreadsheet, say). Rows are matched on it first, then on slug."), "17", max_length=120,
           aliases=("id", "№", "номер")),
        _c("slug", "slug", _l("The end of the public page's address. Made from the latin name when empty."),
           "ivan-petrov", max_length=120, aliases=("адрес",)),
        _c("name_original", "line", _l("The name as written originally."), "Иван Петров", required=True,
           max_length=200, aliases=("фио", "имя", "name")),
        _c("name_latin", "line", _l("The name in latin letters. Transliterated from the original when empty."),
           "Ivan Petrov", max_length=200, aliases=("имя латиницей", "фио латиницей")),
        _c("cases", "list", _l("Slugs or titles of the defendant's cases, separated by commas."), "bolotnaya",
           aliases=("дело", "дела", "case")),
        _c("status", "enum", _l("Where the person is now."), "в СИЗО", enum=DefendantStatus,
           aliases=("статус",)),
        _c("public", "bool", _l("Shown on the public site (yes/no; new rows: yes when empty)."), "да",
           aliases=("публично", "is_public")),
        _c("birth_date", "date", _l("Date of birth."), "15.03.1990", birth=True, aliases=("дата рождения",)),
        _c("arrested_on", "date", _l("Date of arrest."), "08.06.2012", aliases=("дата ареста", "задержан")),
        _c("charges", "articles", _l("Articles, separated by commas, or one per line."), "212 ч.2, 318 ч.1",
           max_length=5000, aliases=("статьи", "статья", "articles")),
        _c("bio", "text", _l("Biography (public)."), "", max_length=20000, aliases=("биография", "о человеке")),
        _c("letters_address", "text", _l("Address for letters (public)."), "СИЗО-5, ул. Вучетича, 15, Москва",
           max_length=2000, aliases=("адрес для писем",)),
        _c("letters_address_original", "text", _l("The address for letters as written originally (when "
           "`letters_address` is in latin letters)."), "СИЗО-5, ул. Вучетича, 15, Москва", max_length=2000,
           aliases=("адрес для писем в оригинале",)),
        _c("letters_status", "enum", _l("Whether letters reach the person."), "доходят", enum=LettersStatus,
           aliases=("письма",)),
        _c("lawyer_contacts", "text", _l("Lawyers' contacts (private: editors only)."), "", max_length=5000,
           private=True, aliases=("адвокат", "контакты адвоката")),
        _c("internal_notes", "text", _l("Internal notes (private: editors only)."), "", max_length=20000,
           private=True, aliases=("заметки", "внутренние заметки")),
        _c("custody", "enum", _l("The current custody measure (with custody_since)."), "арест",
           enum=MeasureKind, aliases=("мера пресечения", "мера")),
        _c("custody_since", "date", _l("When this kind of custody began (the first order, not the last "
           "extension)."), "08.06.2012", aliases=("мера с", "под стражей с")),
        _c("custody_until", "date", _l("Until when the measure now runs. A later date than the tracker "
           "has is recorded as an extension."), "06.03.2013", aliases=("мера до", "под стражей до")),
        _c("next_hearing", "datetime", _l("The next hearing, in the court's local time (with "
           "next_hearing_court)."), "14.03.2013 10:30", aliases=("следующее заседание", "заседание")),
        _c("next_hearing_court", "line", _l("The court of the next hearing."), "Замоскворецкий районный суд",
           max_length=200, aliases=("суд",)),
    ),
    signature=("name_original", "name_latin"),
    aliases=("подсудимые", "фигуранты", "people"),
)

MEASURES = Table(
    "measures",
    _l("Custody measures, one row per court order; an extension is a row with extension = yes."),
    (
        DEFENDANT_REF,
        _c("kind", "enum", _l("The measure."), "pre_trial_detention", required=True, enum=MeasureKind,
           aliases=("мера", "measure")),
        _c("starts_on", "date", _l("From."), "08.06.2012", required=True, aliases=("с", "начало")),
        _c("until", "date", _l("Until."), "06.08.2012", aliases=("до",)),
        _c("next_review_on", "date", _l("Next review, for measures without an end date."), "",
           aliases=("пересмотр",)),
        _c("extension", "bool", _l("Whether it extends the defendant's previous measure (used when the "
           "measure is created)."), "нет", aliases=("продление",)),
        _c("ordered_by", "line", _l("The court that ordered it."), "Басманный районный суд", max_length=200,
           aliases=("кем избрана", "суд")),
        _c("note", "text", _l("Note (public)."), "", max_length=5000, aliases=("примечание",)),
        *SOURCE,
    ),
    signature=("starts_on",),
    aliases=("меры", "меры пресечения", "custody"),
)

DECISIONS = Table(
    "decisions",
    _l("Court decisions: verdicts, appeals, cassations."),
    (
        DEFENDANT_REF,
        _c("decided_on", "date", _l("Date of the decision."), "24.02.2014", required=True, aliases=("дата решения",)),
        _c("instance", "enum", _l("Instance."), "first", enum=Instance, aliases=("инстанция",)),
        _c("outcome", "enum", _l("Outcome."), "imprisonment", required=True, enum=Outcome, aliases=("решение", "итог")),
        _c("case", "line", _l("Slug or title of the case the decision is in."), "bolotnaya", max_length=200,
           aliases=("дело",)),
        _c("court", "line", _l("The court."), "Замоскворецкий районный суд", max_length=200, aliases=("суд",)),
        _c("term_years", "int", _l("Term: years."), "3", aliases=("лет",)),
        _c("term_months", "int", _l("Term: months."), "6", aliases=("месяцев",)),
        _c("term_days", "int", _l("Term: days."), "0", aliases=("дней",)),
        _c("regime", "line", _l("Regime."), "общего режима", max_length=200, aliases=("режим",)),
        _c("credited_days", "int", _l("Days already served, credited."), "620", aliases=("зачтено дней",)),
        _c("release_override", "date", _l("Release date, if the court stated one."), "", aliases=("дата освобождения",)),
        _c("under_appeal", "bool", _l("Under appeal."), "нет", aliases=("обжалуется",)),
        _c("note", "text", _l("Note (public)."), "", max_length=5000, aliases=("примечание",)),
        *SOURCE,
    ),
    signature=("outcome",),
    aliases=("решения", "приговоры", "verdicts"),
)

PLACEMENTS = Table(
    "placements",
    _l("Where a defendant has been held, one row per transfer."),
    (
        DEFENDANT_REF,
        _c("facility", "line", _l("The facility (empty for a transfer whose destination is not yet known)."),
           "СИЗО-5, Москва", max_length=300, aliases=("учреждение", "где содержится")),
        _c("facility_original", "line", _l("The facility as written originally (when `facility` is in latin "
           "letters)."), "СИЗО-5, Москва", max_length=300, aliases=("учреждение в оригинале",)),
        _c("since", "date", _l("Since."), "28.05.2012", required=True, aliases=("с",)),
        _c("in_transit", "bool", _l("In transit, destination not yet known (the facility left empty)."), "нет",
           aliases=("на этапе", "этап")),
        _c("note", "text", _l("Note (public)."), "", max_length=2000, aliases=("примечание",)),
        *SOURCE,
    ),
    signature=("facility", "in_transit"),
    aliases=("этапы", "места содержания", "transfers"),
)

HEARINGS = Table(
    "hearings",
    _l("Court hearings. Without an external_id a row is matched on court, start and a defendant, so "
    "a moved hearing needs an external_id to be moved rather than added."),
    (
        _c("external_id", "line", _l("Your own stable identifier of the hearing."), "h-1024", max_length=120,
           aliases=("id",)),
        _c("defendants", "list", _l("external_ids or slugs of the defendants, separated by commas."),
           "ivan-petrov, anna-ivanova", required=True, aliases=("подсудимые", "фигуранты", "defendant")),
        _c("court", "line", _l("The court's name. A court not in the tracker is created (time zone from the "
           "courts table, or the default)."), "Замоскворецкий районный суд", required=True, max_length=200,
           aliases=("суд",)),
        _c("starts_at", "datetime", _l("Date and time, in the court's local time."), "14.03.2013 10:30",
           required=True, aliases=("дата и время", "дата", "начало")),
        _c("case", "line", _l("Slug or title of the case."), "bolotnaya", max_length=200, aliases=("дело",)),
        _c("kind", "enum", _l("Kind of hearing."), "trial", enum=HearingKind, aliases=("тип", "вид")),
        _c("status", "enum", _l("Status."), "scheduled", enum=HearingStatus, aliases=("статус",)),
        _c("duration_minutes", "int", _l("Expected duration in minutes."), "120", aliases=("длительность",)),
        _c("courtroom", "line", _l("Courtroom."), "301", max_length=100, aliases=("зал",)),
        _c("seats", "int", _l("Seats for the public in the courtroom."), "", aliases=("мест", "места")),
        _c("judge", "line", _l("Judge."), "Никишина Н. В.", max_length=200, aliases=("судья",)),
        _c("open", "bool", _l("Open to the public."), "да", aliases=("открытое", "is_open")),
        _c("video_link_note", "line", _l("Video link or broadcast note."), "", max_length=500,
           aliases=("трансляция",)),
        _c("outcome_note", "text", _l("Outcome note (public)."), "", max_length=5000, aliases=("итог",)),
        *SOURCE,
    ),
    signature=("starts_at",),
    aliases=("заседания", "слушания"),
)

ACTIONS = Table(
    "actions",
    _l("Solidarity actions. Matched on external_id, else on title, city, country and start together; times are "
    "the place's local time."),
    (
        _c("external_id", "line", _l("Your own stable identifier of the action; matched first, so a new title or "
           "time changes the action rather than adding one."), "a-12", max_length=120, aliases=("id",)),
        _c("title", "line", _l("What (shown publicly)."), "Вечер писем политзаключённым", required=True,
           max_length=200, aliases=("название", "что")),
        _c("status", "enum", _l("pending (awaiting review), approved (public), cancelled (called off: public, "
           "marked so) or rejected. New rows: pending when empty."), "одобрено", enum=ActionStatus,
           aliases=("статус",)),
        _c("starts_at", "datetime", _l("Start, in the place's local time."), "05.12.2026 18:00", required=True,
           aliases=("начало", "дата и время")),
        _c("ends_at", "datetime", _l("End, in the place's local time: after the start, within 31 days."),
           "05.12.2026 21:00", required=True, aliases=("конец", "окончание")),
        _c("timezone", "timezone", _l("IANA time zone of the place; may be empty for a country with one zone."),
           "Europe/Berlin", max_length=64, aliases=("часовой пояс",)),
        _c("country", "country", _l("The country: its two-letter code or its name."), "DE", required=True,
           max_length=100, aliases=("страна",)),
        _c("city", "line", _l("The city."), "Берлин", required=True, max_length=120, aliases=("город",)),
        _c("address", "line", _l("Address or meeting point (public)."), "", max_length=300,
           aliases=("адрес", "место")),
        _c("organiser", "line", _l("Organised by: a group's name (public)."), "", max_length=200,
           aliases=("организатор", "организаторы")),
        _c("description", "text", _l("Details (public)."), "", max_length=5000, aliases=("описание",)),
        _c("case", "line", _l("Slug or title of the case it is for."), "bolotnaya", max_length=200,
           aliases=("дело",)),
        _c("defendants", "list", _l("external_ids or slugs of the defendants it is for, separated by commas."),
           "ivan-petrov", aliases=("подсудимые", "фигуранты")),
        _c("contact", "line", _l("The organiser's contact (private: editors only, never published)."),
           "org@example.org", required=True, max_length=300, private=True,
           aliases=("контакт", "контакт организатора")),
    ),
    signature=("city", "contact"),
    aliases=("акции", "акции солидарности", "solidarity actions"),
)

# In the order an import applies them: what a row refers to exists before the row.
TABLES: tuple[Table, ...] = (CASES, COURTS, DEFENDANTS, PLACEMENTS, MEASURES, DECISIONS, HEARINGS, ACTIONS)
TABLES_BY_NAME = {t.name: t for t in TABLES}


def normalise_header(text: str) -> str:
    """Headers match whatever the case, spaces, underscores, dashes or a trailing asterisk."""
    text = " ".join(str(text).replace("\ufeff", "").replace("_", " ").replace("-", " ").split())
    return text.rstrip("*").strip().casefold().replace("ё", "е")


def header_map(table: Table) -> dict[str, str]:
    """Every accepted spelling of a header -> the column's name."""
    names: dict[str, str] = {}
    for column in table.columns:  # canonical names first: an alias never shadows a name
        names[normalise_header(column.name)] = column.name
    for column in table.columns:
        for alias in column.aliases:
            names.setdefault(normalise_header(alias), column.name)
    return names


def table_for_name(name: str) -> Table | None:
    key = normalise_header(name)
    for table in TABLES:
        if key == table.name or key in {normalise_header(a) for a in table.aliases}:
            return table
    return None


def table_for_header(cells: list[str]) -> Table | None:
    """Which table a header row is: the defendants table when a name column is there, and so on."""
    for table in (DEFENDANTS, ACTIONS, HEARINGS, MEASURES, DECISIONS, PLACEMENTS, COURTS, CASES):
        known = header_map(table)
        present = {known.get(normalise_header(c)) for c in cells if c}
        if any(s in present for s in table.signature):
            return table
    return None
