"""Step 3 of publishing (publish.py): which feeds there are, what each one's header says,
and the alarm twins' events; apart from publish.py only to keep each module short."""
from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Iterable, Iterator
from dataclasses import dataclass

from flask_babel import gettext as _

from tracker.feeds import calendars, ical
from tracker.feeds.files import ALARM_DIR
from tracker.feeds.snapshot import FeedSettings, Snapshot
from tracker.links import external_url
from tracker.records.models import hearing_cases

# Slugs that can be file names as they are (no "/", no leading dot). Others are
# served on demand by the app only.
SAFE_SLUG = re.compile(r"^[\w-][\w.-]*$")




@dataclass
class FeedPlan:
    """One feed, whatever its language: where it lives under the language's folder, what
    its header names (`subject`), and its events in order."""

    path: str  # relative to the language's folder (and to /feeds/ or /feeds/<lang>/)
    subject: tuple  # ("all",), ("case", slug, title, title_original) or ("defendant", slug, latin, original)
    hearing_ids: tuple[int, ...]
    folder: str = ""  # of `path`: "", "cases" or "defendants"


def feed_plans(snap: Snapshot) -> Iterator[FeedPlan]:
    """Every public feed: all hearings, each case, each public defendant (the alarm twins and
    the languages are added by the caller)."""
    by_case: dict[int, list[int]] = defaultdict(list)
    by_defendant: dict[int, list[int]] = defaultdict(list)
    for row in snap.hearings:
        if row.case_id is not None:  # hearing_cases, without a set per hearing
            by_case[row.case_id].append(row.id)
        else:
            for case_id in hearing_cases(None, (snap.defendant_cases.get(d, ()) for d in row.defendant_ids)):
                by_case[case_id].append(row.id)
        for defendant_id in row.defendant_ids:
            by_defendant[defendant_id].append(row.id)
    yield FeedPlan("all.ics", ("all",), tuple(row.id for row in snap.hearings))
    for case_id, (slug, title, original, _version) in snap.cases.items():
        if SAFE_SLUG.match(slug):
            yield FeedPlan(f"cases/{slug}.ics", ("case", slug, title, original), tuple(by_case.get(case_id, ())),
                           "cases")
    for defendant_id, (slug, latin, original, _version) in snap.defendants.items():
        if SAFE_SLUG.match(slug):
            yield FeedPlan(f"defendants/{slug}.ics", ("defendant", slug, latin, original),
                           tuple(by_defendant.get(defendant_id, ())), "defendants")


def feed_info(subject: tuple, alarm: bool, full_path: str, settings: FeedSettings) -> calendars.FeedInfo:
    """A feed's calendar properties, in the language in force (`force_locale`): built only for
    the feeds that are written."""
    base = settings.base_url
    if subject[0] == "case":
        _kind, slug, title, original = subject
        name = _("%(case)s: court hearings", case=ical.name_in_script(title, original, settings.locale))
        url = external_url("records.case", base_url=base, slug=slug)
    elif subject[0] == "defendant":
        _kind, slug, latin, original = subject
        name = _("%(name)s: court hearings", name=ical.both_scripts(latin, original, settings.locale))
        url = external_url("records.defendant", base_url=base, slug=slug)
    else:
        name = _("Political prisoners: all court hearings")
        url = external_url("records.hearings", base_url=base)
    if alarm:
        name = _("%(name)s (reminder a day before)", name=name)
    description = _(
        "Court hearings published by %(site)s. Postponed hearings move; cancelled ones stay %(days)d days "
        "marked “Cancelled”, then leave the calendar.",
        site=base, days=settings.cancelled_days,
    )
    return calendars.FeedInfo(name, description, url, f"{settings.feeds_url}/{full_path}", settings.refresh_minutes)


def alarm_path(path: str) -> str:
    return f"{ALARM_DIR}/{path}"


def feed_zones(ids: Iterable[int], rows: dict[int, tuple[str, int]]) -> dict[str, tuple[int, int]]:
    # the distinct (zone, year) pairs first: a handful, whatever the number of hearings
    return calendars.zone_years(sorted({rows[i] for i in ids if i in rows}))


_END_LENGTH = len(ical.END_EVENT)


def event_body(text: bytes) -> bytes:
    """A serialized event without its END:VEVENT line: what the publisher keeps of each event,
    so that a feed and its alarm twin are each one join (`joined_events`)."""
    return text[:-_END_LENGTH]


def joined_events(bodies: list[bytes], alarm: bytes | None = None) -> list[bytes]:
    """A feed's events, from their bodies (`event_body`), with `alarm` (a VALARM block) inside
    each when given: the closing line, alarm included, is the separator of one join. The
    same bytes as inserting the alarm before each END:VEVENT of the joined events, without a
    search and a second copy of megabytes for every alarm twin written."""
    if not bodies:
        return []
    end = ical.END_EVENT if alarm is None else alarm + ical.END_EVENT
    return [end.join(bodies), end]
