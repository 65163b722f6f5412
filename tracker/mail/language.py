"""Mail in its reader's language: which language, and dates and times written in it.

A page is read in the language of its request; an email is read later, by someone
whose language was recorded when they signed up (a subscription) or chose it (an
account). Every email is therefore rendered inside `in_language(language)`, and every
date or time in it is formatted here with that locale given explicitly, in the court's
own time zone with the zone named: a volunteer must be at the court at the court's time.

Babel does the wording (weekday and month names, their order, the zone's name), so a
new language needs its catalogue and nothing here.
"""
from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date, datetime
from functools import lru_cache
from zoneinfo import ZoneInfo

from babel import Locale
from babel.dates import format_date, format_interval, format_skeleton, get_timezone_name
from flask import current_app
from flask_babel import force_locale
from flask_babel import lazy_gettext as _l

from tracker.records.names import reads_latin  # noqa: F401  (lang.reads_latin: one rule, records.names)

# Zone abbreviations a language writes in its own letters (MSK is МСК in Russian); the rest
# (tzdata's numbers such as "+05", CET) read the same everywhere.
ABBREVIATIONS = {"MSK": _l("MSK")}


def known_language(value: str | None) -> str:
    """`value` if the app speaks it, else the default: what a subscription or account keeps."""
    languages = current_app.config["LANGUAGES"]
    if value and str(value) in languages:
        return str(value)
    return current_app.config["BABEL_DEFAULT_LOCALE"]


@contextmanager
def in_language(language: str) -> Iterator[None]:
    """Render mail (gettext, templates, Flask-Babel's formatting) in `language`."""
    with force_locale(language):
        yield


@lru_cache(maxsize=32)
def _locale(language: str) -> Locale:
    return Locale.parse(language)


def _at(moment: datetime, tz: ZoneInfo) -> datetime:
    return moment.astimezone(tz)


def time_of_day(moment: datetime, tz: ZoneInfo, language: str) -> str:
    """"11:00": 24-hour in every language (court schedules are), in the court's zone."""
    return format_skeleton("Hm", _at(moment, tz), tzinfo=tz, locale=_locale(language))


def short_day(day: date, language: str) -> str:
    """"Wed, Dec 2" / "ср, 2 дек.": a day for a subject line."""
    return format_skeleton("MMMEd", day, locale=_locale(language))


def long_day(day: date, language: str) -> str:
    """"Wed, Dec 2, 2026" / "ср, 2 дек. 2026 г.": a day for a body, with its year."""
    return format_skeleton("yMMMEd", day, locale=_locale(language))


def medium_day(day: date, language: str) -> str:
    """"Mar 2, 2026" / "2 мар. 2026 г.": a day in a sentence, without its weekday."""
    return format_date(day, "medium", locale=_locale(language))


def day_range(first: date, last: date, language: str) -> str:
    """"Dec 2 – 8" / "2–8 дек.": a week, as the language writes a span of days."""
    return format_interval(first, last, "MMMd", locale=_locale(language))


def zone_name(moment: datetime, tz: ZoneInfo, language: str) -> str:
    """"MSK, Moscow Standard Time" / "МСК, Москва, стандартное время": the zone named twice.

    The abbreviation (tzdata's, a number such as "+05" where the zone has no letters) is
    what a phone shows; CLDR's long name is unambiguous in the reader's language.
    """
    local = _at(moment, tz)
    long_name = get_timezone_name(local, "long", locale=_locale(language), zone_variant=None)
    abbreviation = local.tzname() or ""
    if abbreviation in ABBREVIATIONS:  # in the language of the mail being rendered (in_language)
        abbreviation = str(ABBREVIATIONS[abbreviation])
    return f"{abbreviation}, {long_name}" if abbreviation else long_name


def when(moment: datetime, tz: ZoneInfo, language: str) -> str:
    """"Wed, Dec 2, 2026, 11:00 (MSK, Moscow Standard Time)": a hearing's moment in a body."""
    local = _at(moment, tz)
    joined = _locale(language).datetime_formats["medium"].format(time_of_day(local, tz, language),
                                                                  long_day(local.date(), language))
    return f"{joined} ({zone_name(local, tz, language)})"


def short_when(moment: datetime, tz: ZoneInfo, language: str) -> str:
    """"Wed, Dec 2 11:00": a moment for a subject line (the zone is in the body)."""
    local = _at(moment, tz)
    return f"{short_day(local.date(), language)} {time_of_day(local, tz, language)}"


def language_choices() -> list[tuple[str, str]]:
    """The app's languages for a choice of mail language, each named in itself ("Русский")."""
    return [(code, _locale(code).display_name[:1].upper() + _locale(code).display_name[1:])
            for code in current_app.config["LANGUAGES"]]


def name_for(latin: str, original: str | None, language: str) -> str:
    """Of a name kept in two scripts, the one in the reader's script (the Latin one if
    the original is missing)."""
    if original and not reads_latin(language):
        return original
    return latin


def short_form(full_name: str) -> str:
    """"Maksim Luzyanin" -> "M. Luzyanin", "Максим Лузянин" -> "М. Лузянин": for a subject line."""
    parts = full_name.split()
    if len(parts) < 2:
        return " ".join(parts)
    return f"{parts[0][0]}. {parts[-1]}"
