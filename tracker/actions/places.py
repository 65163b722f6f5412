"""Countries and time zones, as the submission form offers them and the pages name them.

Country names come from Babel's CLDR data in the reader's language (Германия, Germany),
so a country is stored as its ISO 3166-1 code and named on the way out. Time zones are
IANA names checked against the system's zone database; when a country has exactly one
zone, the form may leave the zone empty and the country's is taken.
"""
from __future__ import annotations

from datetime import datetime
from functools import lru_cache
from zoneinfo import ZoneInfo, available_timezones

from babel import Locale
from babel.core import get_global
from babel.dates import format_skeleton, get_timezone_location
from flask_babel import get_locale

from tracker import formats

# CLDR "territories" that are no country one can stand in: unknown, EU, eurozone, UN,
# outlying Oceania, pseudo-locales.
NOT_COUNTRIES = frozenset({"ZZ", "EU", "EZ", "UN", "QO", "XA", "XB"})
# Zone names kept only for old software ("US/Eastern", "Etc/GMT+3", "W-SU"): not offered,
# though a submitted one that the zone database knows is still accepted.
_OFFERED_AREAS = ("Africa/", "America/", "Antarctica/", "Arctic/", "Asia/", "Atlantic/", "Australia/",
                  "Europe/", "Indian/", "Pacific/")


def locale_name() -> str:
    """The reader's locale as Babel names it ("ru"), "en" outside a request."""
    return _locale_name()


def country_names(locale: str) -> dict[str, str]:
    """Every country's name in `locale`, by code, in the order of the names (cached)."""
    return _country_names(locale)


def local_text_in(start: datetime, end: datetime, zone_name: str, locale: str) -> str:
    """`local_text` for a zone and locale the caller already has (a list of many actions)."""
    return _local_text(start, end, zone_name, locale)


def _locale_name() -> str:
    try:
        return str(get_locale() or "en")
    except Exception:  # outside a request (the scheduler, a CLI): English, as gettext does
        return "en"


@lru_cache(maxsize=16)
def _countries(locale: str) -> tuple[tuple[str, str], ...]:
    names = Locale.parse(locale).territories
    pairs = [(code, name) for code, name in names.items()
             if len(code) == 2 and code.isalpha() and code not in NOT_COUNTRIES]
    return tuple(sorted(pairs, key=lambda pair: pair[1].casefold()))


def is_country(code: str) -> bool:
    return code in _country_names("en")


@lru_cache(maxsize=16)
def _country_names(locale: str) -> dict[str, str]:
    return dict(_countries(locale))


def country_code(text: str) -> str | None:
    """A country as a spreadsheet writes it: its code ("DE", "de") or its name in English or
    Russian ("Germany", "германия"); None for anything else."""
    if len(text) == 2 and is_country(text.upper()):
        return text.upper()
    wanted = text.strip().casefold().replace("ё", "е")
    for locale in ("en", "ru"):
        for code, name in _country_names(locale).items():
            if name.casefold().replace("ё", "е") == wanted:
                return code
    return None


def country_name(code: str) -> str:
    """"DE" -> "Germany" (or "Германия"); an unknown code as it is."""
    return _country_names(_locale_name()).get(code, code)


@lru_cache(maxsize=1)
def _zones() -> frozenset[str]:
    return frozenset(available_timezones())


@lru_cache(maxsize=1)
def offered_zones() -> tuple[str, ...]:
    return tuple(sorted(z for z in _zones() if z.startswith(_OFFERED_AREAS)))


@lru_cache(maxsize=16)
def zone_choices(locale: str) -> tuple[tuple[str, str], ...]:
    """(zone, name) of every offered zone, named in `locale` as "country, city" ("Грузия,
    Тбилиси", "United States, New York") and sorted by that name, so an organiser finds their
    country as in the country list; the IANA name ("Asia/Tbilisi") is what is sent and stored.
    A zone CLDR places in no country (Antarctic stations) is named by its city alone; one CLDR
    does not place at all is an old alias of another ("Europe/Kiev" of "Europe/Kyiv",
    "Australia/NSW" of "Australia/Sydney"): left out of the list, still accepted if sent."""
    countries = country_names(locale)
    territory = get_global("zone_territories")
    named = []
    for zone in offered_zones():
        if zone not in territory:
            continue
        city = get_timezone_location(zone, locale=locale, return_city=True)
        country = countries.get(territory.get(zone, ""))
        named.append((zone, f"{country}, {city}" if country and city != country else city or zone))
    return tuple(sorted(named, key=lambda item: (item[1].casefold().replace("ё", "е"), item[0])))


def is_zone(name: str) -> bool:
    return name in _zones()


def zones_of(country: str) -> list[str]:
    """The IANA zones CLDR lists for a country (Germany: Europe/Berlin, Europe/Busingen)."""
    return [z for z in get_global("territory_zones").get(country, []) if is_zone(z)]


def zone_for(country: str) -> str | None:
    """The country's zone when it has only one, else None (the organiser must choose)."""
    zones = zones_of(country)
    return zones[0] if len(zones) == 1 else None


def local_text(start: datetime, end: datetime, zone: ZoneInfo) -> str:
    """"Sat, Dec 5, 2026, 14:00–16:00 (CET, Berlin)": in the place's zone, the zone named as the
    hearings' are (tracker.formats.zone_name: "UTC+04, Тбилиси" in Russian);
    the end's date is repeated only when it is another day. Cached: Babel's formatting is the
    bulk of the list page's time (docs/actions.md)."""
    return _local_text(start, end, zone.key, _locale_name())


@lru_cache(maxsize=8192)
def _local_text(start: datetime, end: datetime, zone_name: str, locale: str) -> str:
    zone = ZoneInfo(zone_name)
    first, last = start.astimezone(zone), end.astimezone(zone)
    day = format_skeleton("yMMMEd", first, tzinfo=zone, locale=locale)
    begins = format_skeleton("Hm", first, tzinfo=zone, locale=locale)
    ends = format_skeleton("Hm", last, tzinfo=zone, locale=locale)
    if last.date() != first.date():
        ends = f"{format_skeleton('yMMMEd', last, tzinfo=zone, locale=locale)}, {ends}"
    return f"{day}, {begins}–{ends} ({formats.zone_name(first, locale)})"
