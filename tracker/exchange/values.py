"""Reading one cell: dates as people write them, yes/no in two languages, articles, names.

Each parser takes what the file held (a string from a CSV; a string, number, date or
datetime from an .xlsx) and returns the value the editing services take, or raises
`BadCell` with the reason shown next to the row and column in the dry run.
"""
from __future__ import annotations

import enum
import re
import unicodedata
from datetime import date, datetime, time
from typing import Any
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from flask_babel import get_locale
from flask_babel import gettext as _

from tracker.actions.models import ActionStatus
from tracker.actions.places import country_code, is_zone
from tracker.editing.forms import EARLIEST_BIRTH, EARLIEST_EVENT, LATEST, SLUG
from tracker.exchange.columns import Column
from tracker.records import wallclock
from tracker.records.enums import (
    DefendantStatus, HearingKind, HearingStatus, Instance, LettersStatus, MeasureKind, Outcome,
)


class BadCell(ValueError):
    """A cell that cannot be read; the message says why and how to write it."""


# Bidirectional overrides and isolates reorder what a reader sees: "Ivan\u202eetrop" shows a
# different name than the one stored. Refused with the C0/C1 control characters.
_BIDI_CONTROLS = set("\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")


def is_empty(raw: Any) -> bool:
    return raw is None or (isinstance(raw, str) and not raw.strip())


def _text(raw: Any) -> str:
    if isinstance(raw, float) and raw.is_integer():
        return str(int(raw))  # an .xlsx number cell: 17, not 17.0
    if isinstance(raw, datetime):
        return raw.isoformat(sep=" ")
    if isinstance(raw, date):
        return raw.isoformat()
    return str(raw)


def check_characters(text: str, *, multiline: bool) -> None:
    allowed = {"\n", "\t"} if multiline else set()
    for char in text:
        if char in allowed:
            continue
        if unicodedata.category(char) == "Cc" or char in _BIDI_CONTROLS:
            if char in "\n\r" and not multiline:
                raise BadCell(_("This must be one line."))
            raise BadCell(_("This contains an invisible control character (U+%(code)04X).", code=ord(char)))


def parse_line(raw: Any, column: Column) -> str:
    text = _text(raw).strip()
    check_characters(text, multiline=False)
    _check_length(text, column)
    return text


def parse_text(raw: Any, column: Column) -> str:
    text = _text(raw).replace("\r\n", "\n").replace("\r", "\n").strip()
    check_characters(text, multiline=True)
    _check_length(text, column)
    return text


def _check_length(text: str, column: Column) -> None:
    if column.max_length is not None and len(text) > column.max_length:
        raise BadCell(_("This is too long: %(length)d characters, at most %(max)d.",
                        length=len(text), max=column.max_length))


def parse_slug(raw: Any, column: Column) -> str:
    text = parse_line(raw, column).lower()
    if not SLUG.match(text):
        raise BadCell(_("Use lowercase latin letters, digits and single hyphens, e.g. ivan-petrov."))
    return text


# --- dates -------------------------------------------------------------------------------

MONTHS = {
    "янв": 1, "фев": 2, "мар": 3, "апр": 4, "мая": 5, "май": 5, "июн": 6, "июл": 7, "авг": 8, "сен": 9,
    "окт": 10, "ноя": 11, "дек": 12,
    "jan": 1, "feb": 2, "mar": 3, "apr": 4, "may": 5, "jun": 6, "jul": 7, "aug": 8, "sep": 9, "oct": 10,
    "nov": 11, "dec": 12,
}
_ISO = re.compile(r"^(\d{4})-(\d{1,2})-(\d{1,2})$")
_DAY_FIRST = re.compile(r"^(\d{1,2})[./](\d{1,2})[./](\d{2}|\d{4})$")
_WORDS = re.compile(r"^(\d{1,2})\s+([^\W\d_]+)\.?,?\s+(\d{4})(?:\s*(?:г\.?|года))?$")
_TIME = re.compile(r"^(\d{1,2})[:.](\d{2})(?::(\d{2}))?$")


def _year(two_digits: str, today: date) -> int:
    """LibreOffice in a Russian locale shows 08.06.12: the nearest century that is not the future."""
    year = 2000 + int(two_digits)
    return year if year <= today.year + 10 else year - 100


def _read_date(text: str, today: date) -> date:
    text = text.strip().casefold()
    found = _ISO.match(text)
    try:
        if found:
            return date(int(found[1]), int(found[2]), int(found[3]))
        found = _DAY_FIRST.match(text)
        if found:
            year = int(found[3]) if len(found[3]) == 4 else _year(found[3], today)
            return date(year, int(found[2]), int(found[1]))
        found = _WORDS.match(text)
        if found and found[2][:3] in MONTHS:
            return date(int(found[3]), MONTHS[found[2][:3]], int(found[1]))
    except ValueError:
        raise BadCell(_("There is no such day: '%(text)s'.", text=text)) from None
    raise BadCell(_("Write the date as 08.06.2012 or 2012-06-08, not '%(text)s'.", text=text[:40]))


def _plausible(day: date, column: Column) -> date:
    earliest = EARLIEST_BIRTH if column.birth else EARLIEST_EVENT
    if not earliest <= day <= LATEST:
        raise BadCell(_("Enter a date between %(start)s and %(end)s.", start=earliest.isoformat(),
                        end=LATEST.isoformat()))
    return day


def parse_date(raw: Any, column: Column, today: date) -> date:
    if isinstance(raw, datetime):
        if raw.time() != time(0):
            raise BadCell(_("This should be a date without a time."))
        return _plausible(raw.date(), column)
    if isinstance(raw, date):
        return _plausible(raw, column)
    return _plausible(_read_date(_text(raw), today), column)


def parse_datetime(raw: Any, column: Column, today: date) -> datetime:
    """A local date and time, aware only of a UTC offset written after it (wallclock.split_offset)."""
    if isinstance(raw, datetime):
        _plausible(raw.date(), column)
        return raw.replace(tzinfo=None, second=0, microsecond=0)
    if isinstance(raw, date):
        raise BadCell(_("Give the time as well, e.g. 14.03.2013 10:30."))
    text, offset = wallclock.split_offset(" ".join(_text(raw).split()))  # "UTC+1" keeps its T
    text = " ".join(text.replace("T", " ").split())
    for cut in (text.rfind(" "), text.rfind(",")):
        if cut > 0:
            found = _TIME.match(text[cut + 1:].strip())
            if found:
                day = _plausible(_read_date(text[:cut].rstrip(" ,"), today), column)
                hour, minute = int(found[1]), int(found[2])
                if hour > 23 or minute > 59:
                    raise BadCell(_("There is no such time: '%(text)s'.", text=text[cut + 1:]))
                return datetime(day.year, day.month, day.day, hour, minute, tzinfo=offset)
    _read_date(text, today)  # a date that reads is only missing its time
    raise BadCell(_("Give the time as well, e.g. 14.03.2013 10:30."))


# --- yes/no, numbers, choices -------------------------------------------------------------

YES = {"yes", "y", "true", "1", "+", "да", "д", "public", "публично", "open", "открытое", "x", "✓"}
NO = {"no", "n", "false", "0", "-", "нет", "н", "hidden", "скрыт", "скрыто", "closed", "закрытое"}


def parse_bool(raw: Any, column: Column) -> bool:
    if isinstance(raw, bool):
        return raw
    text = _text(raw).strip().casefold()
    if text in YES:
        return True
    if text in NO:
        return False
    raise BadCell(_("Write yes or no (да or нет), not '%(text)s'.", text=text[:40]))


def parse_int(raw: Any, column: Column) -> int:
    if isinstance(raw, bool):
        raise BadCell(_("Write a whole number."))
    if isinstance(raw, (int, float)) and float(raw).is_integer():
        value = int(raw)
    else:
        text = _text(raw).strip().replace(" ", "")
        if not re.fullmatch(r"\d+", text):
            raise BadCell(_("Write a whole number, not '%(text)s'.", text=text[:40]))
        value = int(text)
    if not 0 <= value <= 100_000:
        raise BadCell(_("Write a number from 0 to 100000."))
    return value


def _key(text: str) -> str:
    return " ".join(text.casefold().replace("ё", "е").replace("_", " ").replace("-", " ").split())


# The words groups use, besides each value and its English label.
CHOICE_WORDS: dict[type, dict[str, str]] = {
    DefendantStatus: {
        "сизо": "pre_trial_detention", "в сизо": "pre_trial_detention", "под стражей": "pre_trial_detention",
        "арест": "pre_trial_detention", "заключение под стражу": "pre_trial_detention",
        "домашний арест": "house_arrest", "под домашним арестом": "house_arrest", "залог": "bail",
        "под залогом": "bail", "запрет определенных действий": "travel_ban", "подписка о невыезде": "travel_ban",
        "запрет": "travel_ban", "принудительное лечение": "compulsory_treatment",
        "отбывает наказание": "imprisoned", "в колонии": "imprisoned", "лишение свободы": "imprisoned",
        "осужден": "imprisoned", "условный срок": "suspended_sentence", "условно": "suspended_sentence",
        "освобожден": "released", "на свободе": "released", "в розыске": "at_large", "скрывается": "at_large",
    },
    MeasureKind: {
        "сизо": "pre_trial_detention", "арест": "pre_trial_detention", "под стражей": "pre_trial_detention",
        "заключение под стражу": "pre_trial_detention", "стража": "pre_trial_detention",
        "домашний арест": "house_arrest", "залог": "bail", "запрет определенных действий": "travel_ban",
        "подписка о невыезде": "travel_ban", "запрет": "travel_ban",
        "принудительное лечение": "compulsory_treatment", "освобожден": "released", "освобождение": "released",
    },
    LettersStatus: {
        "доходят": "reach", "письма доходят": "reach", "не доходят": "blocked", "блокируются": "blocked",
        "неизвестно": "unknown", "": "unknown",
    },
    Outcome: {
        "лишение свободы": "imprisonment", "реальный срок": "imprisonment", "условный срок": "suspended",
        "условно": "suspended", "штраф": "fine", "принудительное лечение": "compulsory_treatment",
        "оправдан": "acquittal", "оправдание": "acquittal", "прекращено": "dropped", "дело прекращено": "dropped",
    },
    Instance: {"первая": "first", "первая инстанция": "first", "апелляция": "appeal", "кассация": "cassation"},
    HearingKind: {
        "продление": "custody_extension", "продление меры": "custody_extension",
        "предварительное": "preliminary", "предварительное слушание": "preliminary",
        "заседание": "trial", "судебное заседание": "trial", "приговор": "verdict", "апелляция": "appeal",
        "кассация": "cassation", "другое": "other",
    },
    HearingStatus: {
        "назначено": "scheduled", "отложено": "postponed", "состоялось": "held", "прошло": "held",
        "отменено": "cancelled",
    },
    ActionStatus: {"на рассмотрении": "pending", "ожидает": "pending", "одобрено": "approved", "одобрена": "approved",
                   "отменено": "cancelled", "отменена": "cancelled", "отклонено": "rejected", "отклонена": "rejected"},
}


_CHOICES: dict[tuple[type, str], dict[str, enum.Enum]] = {}


def _choices(enum_cls: type) -> dict[str, enum.Enum]:
    """Every accepted spelling of a choice, built once per language (labels are translated)."""
    key = (enum_cls, str(get_locale()))
    if key not in _CHOICES:
        _CHOICES[key] = _spellings(enum_cls)
    return _CHOICES[key]


def _spellings(enum_cls: type) -> dict[str, enum.Enum]:
    choices: dict[str, enum.Enum] = {}
    for member in enum_cls:
        choices[_key(member.value)] = member
        choices[_key(str(member.label))] = member
    for word, value in CHOICE_WORDS.get(enum_cls, {}).items():
        choices.setdefault(_key(word), enum_cls(value))
    return choices


def parse_enum(raw: Any, column: Column) -> enum.Enum:
    text = _text(raw)
    found = _choices(column.enum).get(_key(text))
    if found is None:
        raise BadCell(_("Unknown value '%(text)s'; use one of: %(values)s.", text=text[:40],
                        values=", ".join(m.value for m in column.enum)))
    return found


# --- articles, lists, addresses, zones -------------------------------------------------------

_ARTICLE = re.compile(
    r"^(?:(?P<ru>ст\.?|статья)|(?P<en>art\.?|article))?\s*(?P<number>\d{1,3}(?:\.\d{1,2})?)"
    r"(?:\s*(?:(?P<part_ru>ч\.?|часть)|(?P<part_en>part|pt\.?))\s*(?P<part>\d{1,2}))?"
    r"(?:\s*(?:п\.?|пункт)\s*(?P<point>[«\"]?[а-яa-z][»\"]?))?"
    r"(?:\s*(?P<code>ук\s*рф|ук|коап(?:\s*рф)?))?$",
    re.IGNORECASE,
)


def _article(piece: str) -> str | None:
    """"212 ч.2" -> "ст. 212 ч. 2"; None when the piece is not a bare reference to an article."""
    found = _ARTICLE.match(piece.strip())
    if found is None:
        return None
    english = bool(found["en"] or found["part_en"])
    parts = [("Art. " if english else "ст. ") + found["number"]]
    if found["part"]:
        parts.append(("part " if english else "ч. ") + found["part"])
    if found["point"]:
        parts.append("п. " + found["point"].strip("«»\""))
    if found["code"]:
        parts.append(" ".join(found["code"].upper().split()))
    return " ".join(parts)


def parse_articles(raw: Any, column: Column) -> str:
    """Articles one per line, as the tracker keeps them.

    A cell of several lines is kept line by line as written (that is what the export
    writes). A one-line cell is split at its commas and semicolons, and written the same
    way, only when every piece is a bare reference ("212 ч.2, 318 ч.1" -> "ст. 212 ч. 2"
    and "ст. 318 ч. 1"); a line with words ("Art. 212 (mass riots), art. 318 (violence)")
    is kept as it is.
    """
    text = parse_text(raw, column)
    if "\n" in text:
        return "\n".join(line.strip() for line in text.split("\n") if line.strip())
    pieces = [p for p in re.split(r"[,;]", text) if p.strip()]
    normalised = [_article(p) for p in pieces]
    if pieces and all(normalised):
        return "\n".join(normalised)  # type: ignore[arg-type]
    return text


def parse_list(raw: Any, column: Column) -> list[str]:
    text = _text(raw)
    check_characters(text, multiline=True)
    items = [" ".join(p.split()) for p in re.split(r"[,;\n]", text)]
    return [i for i in items if i]


def parse_url(raw: Any, column: Column) -> str:
    text = parse_line(raw, column)
    parts = urlsplit(text)
    if parts.scheme not in ("http", "https") or not parts.netloc or " " in text:
        raise BadCell(_("This is not a web address (http:// or https://)."))
    return text


def parse_timezone(raw: Any, column: Column) -> str:
    text = parse_line(raw, column)
    try:  # is_zone: not a file of the zone directory that names no zone ("posixrules")
        known = ZoneInfo(text) is not None and is_zone(text)
    except (ZoneInfoNotFoundError, ValueError):
        known = False
    if not known:
        raise BadCell(_("Unknown time zone '%(tz)s'; use a name like Europe/Moscow.", tz=text[:64]))
    return text


def parse_country(raw: Any, column: Column) -> str:
    text = parse_line(raw, column)
    code = country_code(text)
    if code is None:
        raise BadCell(_("Unknown country '%(text)s'; write its two-letter code (DE) or its name.", text=text[:60]))
    return code


def parse_cell(raw: Any, column: Column, today: date) -> Any:
    """The value of a non-empty cell, by the column's kind."""
    kind = column.kind
    if kind in ("date", "datetime"):
        return (parse_date if kind == "date" else parse_datetime)(raw, column, today)
    return PARSERS[kind](raw, column)


PARSERS = {
    "line": parse_line, "text": parse_text, "slug": parse_slug, "bool": parse_bool, "int": parse_int,
    "enum": parse_enum, "articles": parse_articles, "list": parse_list, "url": parse_url,
    "timezone": parse_timezone, "country": parse_country,
}


# --- names ---------------------------------------------------------------------------------

_LATIN = {
    "а": "a", "б": "b", "в": "v", "г": "g", "д": "d", "е": "e", "ё": "yo", "ж": "zh", "з": "z", "и": "i",
    "й": "y", "к": "k", "л": "l", "м": "m", "н": "n", "о": "o", "п": "p", "р": "r", "с": "s", "т": "t",
    "у": "u", "ф": "f", "х": "kh", "ц": "ts", "ч": "ch", "ш": "sh", "щ": "shch", "ъ": "", "ы": "y", "ь": "",
    "э": "e", "ю": "yu", "я": "ya", "і": "i", "ї": "yi", "є": "ye", "ґ": "g",
}


def transliterate(text: str) -> str:
    """A readable latin spelling of a Cyrillic name ("Юлия Щукина" -> "Yuliya Shchukina")."""
    out = []
    for char in text:
        latin = _LATIN.get(char.lower())
        if latin is None:
            out.append(char)
        elif char.isupper():
            out.append(latin.capitalize())
        else:
            out.append(latin)
    return "".join(out)


def make_slug(name_latin: str) -> str:
    ascii_text = unicodedata.normalize("NFKD", transliterate(name_latin)).encode("ascii", "ignore").decode()
    return re.sub(r"[^a-z0-9]+", "-", ascii_text.lower()).strip("-")[:120].strip("-")
