"""Dates and times as the reader reads them: Babel's (CLDR's) patterns for the reader's
language, never hand-built strings.

- `moment(starts_at, zone)`: "Wed, December 2, 2026, 11:00 (MSK)" / "ср, 2 декабря 2026 г.,
  11:00 (МСК)": a hearing's time in its court's zone, the zone named, since a reader in
  Yekaterinburg must not take Moscow's 11:00 for their own;
- `moment_short`: "Dec 2, 2026, 11:00 MSK" / "2 дек. 2026 г., 11:00 МСК" (the audit log);
- `day`: "Wed, Dec 2, 2026" / "ср, 2 дек. 2026 г." (a day heading, a deadline);
- `short_day`: "Dec 2, 2026" / "2 дек. 2026 г." (inside a sentence: "since …", "until …").

Which pattern a language uses comes from CLDR through Babel, so a new language needs no
code here; zone abbreviations Babel has no short name for ("MSK") go through gettext.

Speed: public pages format hundreds of moments. Babel's `format_skeleton` looks up the
locale, matches the skeleton and parses the pattern on every call; here each (language,
skeleton) is matched and parsed once per process (`_pattern`), and a call only applies
the parsed pattern (about 4 µs instead of about 40).
"""
from __future__ import annotations

from datetime import date, datetime
from functools import lru_cache
from zoneinfo import ZoneInfo

from babel import Locale, support
from babel.dates import DateTimePattern, get_timezone_location, match_skeleton, parse_pattern
from flask import current_app, has_app_context
from flask_babel import get_locale
from flask_babel import lazy_gettext as _l

# Abbreviations the tz database gives that a reader may want in their own script (the
# values are here for extraction; the label is read from the language's catalogue). A zone
# with no letter abbreviation ("+05" for Yekaterinburg) is "UTC+05" and its city.
ZONE_ABBREVIATIONS = {
    "MSK": _l("MSK"),  # TRANSLATORS: Moscow time, as timetables write it (МСК)
    "UTC": _l("UTC"),
}
OFFSET_ZONE_MSGID = "UTC%(offset)s"
OFFSET_ZONE = _l("UTC%(offset)s")  # TRANSLATORS: a time zone known only by its offset: UTC+05

FULL_DAY, MEDIUM_DAY, SHORT_DAY, TIME = "yMMMMEd", "yMMMEd", "yMMMd", "Hm"


def language(locale: str | Locale | None = None) -> str:
    """The language to format in: `locale` when given (mail in its reader's language), else
    this request's (tracker.i18n.current_language, through Flask-Babel), else the default."""
    if locale is not None:
        return str(locale)
    found = get_locale() if has_app_context() else None
    if found is not None:
        return str(found)
    return current_app.config.get("BABEL_DEFAULT_LOCALE", "en") if has_app_context() else "en"


@lru_cache(maxsize=256)
def _pattern(code: str, skeleton: str) -> tuple[DateTimePattern, Locale]:
    """The parsed CLDR pattern closest to `skeleton` in language `code`, parsed once."""
    locale = Locale.parse(code)
    skeletons = locale.datetime_skeletons
    matched = match_skeleton(skeleton, skeletons) or skeleton
    return parse_pattern(skeletons.get(matched, matched)), locale


@lru_cache(maxsize=64)
def _date_and_time(code: str) -> str:
    """How the language joins a date and a time ("{1}, {0}" in English and Russian)."""
    joiner = Locale.parse(code).datetime_formats.get("medium", "{1}, {0}")
    return str(getattr(joiner, "pattern", joiner))


def in_pattern(value: date | datetime, skeleton: str, code: str) -> str:
    """A local value in a pattern. The zone is named separately, so the wall-clock fields are
    all a pattern needs: an aware datetime is made naive first, since two aware datetimes of
    the same instant in different zones are equal and would share a remembered answer."""
    if isinstance(value, datetime) and value.tzinfo is not None:
        value = value.replace(tzinfo=None)
    return _apply_local(value, skeleton, code)


@lru_cache(maxsize=4096)
def _apply_local(value: date | datetime, skeleton: str, code: str) -> str:
    """Remembered, since a page repeats the same days and times."""
    pattern, locale = _pattern(code, skeleton)
    return pattern.apply(value, locale)


def zone_name(local: datetime, locale: str | Locale | None = None) -> str:
    """The zone of an aware local time as its readers write it: "MSK"/"МСК"; a zone the tz
    database names only by its offset gets its city too: "UTC+05, Yekaterinburg"/"…, Екатеринбург"."""
    return _zone_label(local.tzname() or "", getattr(local.tzinfo, "key", ""), language(locale))


@lru_cache(maxsize=512)
def _zone_label(abbreviation: str, zone_key: str, code: str) -> str:
    """`zone_name`, worked out once per (abbreviation, zone, language): a page names the same
    few zones hundreds of times."""
    catalogue = _catalogue(code)
    if abbreviation in ZONE_ABBREVIATIONS:
        return catalogue.gettext(abbreviation)
    label = abbreviation
    if abbreviation[:1] in ("+", "-"):
        label = catalogue.gettext(OFFSET_ZONE_MSGID) % {"offset": abbreviation}
    city = ""
    if zone_key and zone_key != "UTC":
        try:
            city = get_timezone_location(zone_key, locale=code, return_city=True)
        except (LookupError, ValueError):
            city = ""
    return f"{label}, {city}" if city else label


@lru_cache(maxsize=16)
def _catalogue(code: str) -> support.Translations | support.NullTranslations:
    """The language's own catalogue, whatever the request's language (mail passes its own)."""
    folders = current_app.config.get("BABEL_TRANSLATION_DIRECTORIES", "") if has_app_context() else ""
    for folder in (f for f in str(folders).split(";") if f):
        found = support.Translations.load(folder, [code])
        if isinstance(found, support.Translations):
            return found
    return support.NullTranslations()


def zone_info(zone: ZoneInfo | str | None) -> ZoneInfo:
    """A court's zone as ZoneInfo; an unknown name reads as UTC rather than failing a page."""
    if isinstance(zone, ZoneInfo):
        return zone
    try:
        return ZoneInfo(zone or "UTC")
    except (ValueError, KeyError):
        return ZoneInfo("UTC")


def moment(value: datetime, zone: ZoneInfo | str | None, locale: str | Locale | None = None) -> str:
    """"Wed, December 2, 2026, 11:00 (MSK)": `value` (aware) in `zone`, the zone named."""
    local = value.astimezone(zone_info(zone))
    return _moment_text(local.replace(tzinfo=None), local.tzname() or "", getattr(local.tzinfo, "key", ""),
                        language(locale), False)


def moment_short(value: datetime, zone: ZoneInfo | str | None, locale: str | Locale | None = None) -> str:
    """"Dec 2, 2026, 11:00 MSK": a shorter moment for lists of changes."""
    local = value.astimezone(zone_info(zone))
    return _moment_text(local.replace(tzinfo=None), local.tzname() or "", getattr(local.tzinfo, "key", ""),
                        language(locale), True)


@lru_cache(maxsize=4096)
def _moment_text(local: datetime, abbreviation: str, zone_key: str, code: str, short: bool) -> str:
    """A moment's whole text, remembered by its wall-clock time, zone and language."""
    joined = _date_and_time(code).replace("{1}", in_pattern(local, SHORT_DAY if short else FULL_DAY, code)).replace(
        "{0}", in_pattern(local, TIME, code))
    zone = _zone_label(abbreviation, zone_key, code)
    return f"{joined} {zone}" if short else f"{joined} ({zone})"


def time_of_day(value: datetime, zone: ZoneInfo | str | None, locale: str | Locale | None = None) -> str:
    """"11:00": the local time alone (the zone is named elsewhere on the line)."""
    return in_pattern(value.astimezone(zone_info(zone)), TIME, language(locale))


def day(value: date | None, locale: str | Locale | None = None) -> str:
    """"Wed, Dec 2, 2026": a day with its weekday (headings, deadlines); "" for None."""
    if value is None:
        return ""
    return in_pattern(value, MEDIUM_DAY, language(locale))


def short_day(value: date | None, locale: str | Locale | None = None) -> str:
    """"Dec 2, 2026": a day inside a sentence ("since …", "until …"); "" for None."""
    if value is None:
        return ""
    return in_pattern(value, SHORT_DAY, language(locale))


def hearing_moment(hearing: object, locale: str | Locale | None = None) -> str:
    """A hearing's start in its court's zone (`moment` for a Hearing row)."""
    return moment(hearing.starts_at, hearing.court.tz, locale)  # type: ignore[attr-defined]
