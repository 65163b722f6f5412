"""One hearing as iCalendar: what Google, Apple, Outlook and Thunderbird need, read back
by two independent parsers."""
from __future__ import annotations

from datetime import date, datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import time_machine

from tracker.extensions import db
from tracker.feeds import calendars, ical, private
from tracker.records.models import Hearing, HearingKind, HearingStatus

BASE = "http://tracker.test"


def _reload(hearing: Hearing) -> Hearing:
    db.session.commit()
    db.session.expire_all()
    return db.session.get(Hearing, hearing.id)


def test_a_hearing_carries_uid_sequence_times_in_the_court_zone_and_cyrillic(
    app, make_hearing, make_court, make_defendant, make_case, parse
):
    court = make_court(name="Мещанский районный суд", address="ул. Каланчевская, 43", timezone="Europe/Moscow")
    person = make_defendant(slug="ivan", name_latin="Ivan Petrov", name_original="Иван Петров")
    case = make_case(slug="bolotnaya", title="Болотное дело")
    hearing = make_hearing(
        court=court, defendants=[person], case=case, kind=HearingKind.VERDICT, courtroom="14",
        judge="Никишина Н. В.", starts_at=datetime(2026, 3, 5, 7, 30, tzinfo=timezone.utc), duration_minutes=90,
    )
    hearing = _reload(hearing)

    parsed = parse(calendars.hearing_ics(hearing, BASE))

    uid = f"hearing-{hearing.id}@tracker.test"
    assert uid == ical.event_uid(hearing)
    event = parsed.event(uid)
    assert int(event["SEQUENCE"]) == hearing.version == 1
    start = event.decoded("DTSTART")
    assert start == datetime(2026, 3, 5, 10, 30, tzinfo=ZoneInfo("Europe/Moscow"))
    assert event["DTSTART"].params["TZID"] == "Europe/Moscow"
    assert event.decoded("DTEND") - start == timedelta(minutes=90)
    assert "DTSTART;TZID=Europe/Moscow:20260305T103000" in parsed.text
    assert str(event["SUMMARY"]) == "Verdict: Ivan Petrov"
    assert str(event["LOCATION"]) == "Мещанский районный суд, ул. Каланчевская, 43, courtroom 14"
    description = str(event["DESCRIPTION"])
    assert "Judge: Никишина Н. В." in description and "Иван Петров" in description
    assert "Ivan Petrov (Иван Петров): http://tracker.test/defendants/ivan" in description
    assert "Болотное дело" in description
    assert str(event["STATUS"]) == "CONFIRMED"
    # no byte a calendar does not use: the title and LOCATION are not repeated in the
    # description, and CREATED, TRANSP (OPAQUE is the default), LAST-MODIFIED (DTSTAMP says
    # it), URL (Google and Outlook ignore it; the description's links work everywhere) are gone
    assert "Мещанский" not in description and "verdict" not in description.lower()
    vevent = parsed.text[parsed.text.index("BEGIN:VEVENT"):]
    for needless in ("CREATED", "TRANSP", "LAST-MODIFIED", "URL"):
        assert not any(line.startswith((needless + ":", needless + ";")) for line in vevent.split("\r\n")), needless
    assert "CALSCALE" not in parsed.text and "COMMENT:" not in parsed.text

    # the strict parser agrees on every part, the Cyrillic text included
    strict = parsed.strict_event(uid)
    assert strict.begin.datetime == start
    assert strict.end.datetime == start + timedelta(minutes=90)
    assert strict.location == "Мещанский районный суд, ул. Каланчевская, 43, courtroom 14"
    assert "Никишина Н. В." in strict.description
    assert strict.status == "CONFIRMED"

    # the VTIMEZONE comes before the events, and no floating or X-WR-TIMEZONE-only times
    assert 0 < parsed.text.index("BEGIN:VTIMEZONE") < parsed.text.index("BEGIN:VEVENT")
    assert [str(z["TZID"]) for z in parsed.cal.walk("VTIMEZONE")] == ["Europe/Moscow"]
    assert "X-WR-TIMEZONE" not in parsed.text
    assert str(parsed.cal["METHOD"]) == "PUBLISH"


def test_long_lines_are_folded_and_the_output_parses_back_identically(make_hearing, make_defendant, parse):
    people = [make_defendant(name_latin=f"Person {n}", name_original=f"Заключённый номер {n} с длинным именем") for n in range(6)]
    hearing = _reload(make_hearing(defendants=people, judge="Судья " * 30))

    body = calendars.hearing_ics(hearing, BASE)

    lines = body.split(b"\r\n")
    assert max(len(line) for line in lines) <= 75
    assert any(line.startswith(b" ") for line in lines)  # something was folded
    body.decode("utf-8")  # folding never splits a multi-byte character
    parsed = parse(body)
    assert parsed.cal.to_ical() == body
    assert "Заключённый номер 5 с длинным именем" in str(parsed.events[0]["DESCRIPTION"])
    assert ("Судья " * 30).strip() in parsed.strict.events.pop().description


def test_stamps_come_from_the_last_change_never_from_the_clock(make_hearing):
    hearing = _reload(make_hearing())
    first = calendars.hearing_ics(hearing, BASE)
    calendars.EVENTS.clear()  # serialize again from scratch, much later
    with time_machine.travel(datetime(2031, 1, 1, tzinfo=timezone.utc)):
        later = calendars.hearing_ics(hearing, BASE)
    assert later == first
    stamp = hearing.updated_at.strftime("%Y%m%dT%H%M%SZ")
    assert f"DTSTAMP:{stamp}".encode() in first


def test_a_postponement_keeps_the_uid_and_raises_the_sequence(make_hearing, parse):
    hearing = _reload(make_hearing(starts_at=datetime(2026, 3, 5, 7, 0, tzinfo=timezone.utc)))
    before = parse(calendars.hearing_ics(hearing, BASE)).events[0]

    changed_at = datetime.now(timezone.utc).replace(microsecond=0) + timedelta(days=1)
    with time_machine.travel(changed_at, tick=False):
        hearing.starts_at = datetime(2026, 4, 9, 8, 0, tzinfo=timezone.utc)
        hearing = _reload(hearing)
    after = parse(calendars.hearing_ics(hearing, BASE)).events[0]

    assert after["UID"] == before["UID"]
    assert int(after["SEQUENCE"]) == int(before["SEQUENCE"]) + 1 == hearing.version
    assert after.decoded("DTSTART") == datetime(2026, 4, 9, 11, 0, tzinfo=ZoneInfo("Europe/Moscow"))
    assert after.decoded("DTSTAMP") == changed_at


def test_cancelled_and_postponed_hearings_say_so(make_hearing, parse):
    cancelled = make_hearing(status=HearingStatus.CANCELLED)
    open_date = make_hearing(status=HearingStatus.POSTPONED)
    db.session.commit()
    event = parse(calendars.hearing_ics(cancelled, BASE)).events[0]
    assert str(event["STATUS"]) == "CANCELLED"
    assert str(event["SUMMARY"]).startswith("Cancelled: ")
    assert parse(calendars.hearing_ics(cancelled, BASE)).strict.events.pop().status == "CANCELLED"
    event = parse(calendars.hearing_ics(open_date, BASE)).events[0]
    assert str(event["STATUS"]) == "TENTATIVE"
    assert str(event["SUMMARY"]).startswith("Postponed: ")


def test_held_and_closed_hearings_say_so_in_the_title_calendars_show(make_hearing, make_defendant, parse, now):
    """A calendar shows the SUMMARY; the description is a click away and often never read."""
    person = make_defendant(name_latin="Ivan Petrov")
    held = make_hearing(defendants=[person], kind=HearingKind.TRIAL, status=HearingStatus.HELD,
                        starts_at=now - timedelta(days=2))
    closed = make_hearing(defendants=[person], kind=HearingKind.CUSTODY_EXTENSION, is_open=False)
    closed_and_held = make_hearing(defendants=[person], kind=HearingKind.CUSTODY_EXTENSION, is_open=False,
                                   status=HearingStatus.HELD, starts_at=now - timedelta(days=1))
    db.session.commit()
    expected = {
        held: "Held: Trial session: Ivan Petrov",
        closed: "Custody extension: Ivan Petrov (closed to the public)",
        closed_and_held: "Held: Custody extension: Ivan Petrov (closed to the public)",
    }
    for hearing, summary in expected.items():
        parsed = parse(calendars.hearing_ics(hearing, BASE))
        event = parsed.events[0]
        assert str(event["SUMMARY"]) == summary
        assert parsed.strict.events.pop().name == summary  # the strict parser reads the same title
        assert str(event["STATUS"]) == "CONFIRMED"  # RFC 5545 has no "held": the title says it


def test_the_download_and_reminder_copy_shows_public_defendants_only(make_hearing, make_defendant, parse):
    hidden = make_defendant(name_latin="HIDDEN-MARKER", is_public=False, internal_notes="NOTES-MARKER")
    shown = make_defendant(name_latin="Shown Person", lawyer_contacts="LAWYER-MARKER", internal_notes="NOTES-MARKER")
    hearing = _reload(make_hearing(defendants=[hidden, shown]))
    body = calendars.hearing_ics(hearing, BASE)
    for marker in (b"HIDDEN-MARKER", b"NOTES-MARKER", b"LAWYER-MARKER"):
        assert marker not in body
    assert "Shown Person" in str(parse(body).events[0]["SUMMARY"])
    # the private variant, for an editor who may edit both, shows both and the notes
    cache = calendars.EventCache()
    private = calendars.event_bytes(hearing, BASE, ical.PRIVATE, editable={hidden.id, shown.id}, cache=cache)
    assert b"HIDDEN-MARKER" in private and b"NOTES-MARKER" in private and b"LAWYER-MARKER" not in private
    # for an editor of the shown person only (a joint hearing with another case): no hidden name,
    # and only the notes of whom they may edit, even with the other text in the cache
    limited = calendars.event_bytes(hearing, BASE, ical.PRIVATE, editable={shown.id}, cache=cache)
    assert b"HIDDEN-MARKER" not in limited and limited.count(b"NOTES-MARKER") == 1
    # for an editor of neither, or a caller that says nothing: what the public sees
    for nobody in (calendars.event_bytes(hearing, BASE, ical.PRIVATE, editable=set(), cache=cache),
                   calendars.event_bytes(hearing, BASE, ical.PRIVATE, cache=cache)):
        assert b"HIDDEN-MARKER" not in nobody and b"NOTES-MARKER" not in nobody and b"Shown Person" in nobody


def test_the_cache_serializes_an_event_once_per_version_and_change_of_what_it_shows(make_hearing, make_defendant):
    person = make_defendant(name_latin="Old Name")
    hearing = _reload(make_hearing(defendants=[person]))
    cache = calendars.EventCache()
    first = calendars.event_bytes(hearing, BASE, cache=cache)
    assert calendars.event_bytes(hearing, BASE, cache=cache) is first
    assert (cache.hits, cache.misses) == (1, 1)

    hearing.defendants[0].name_latin = "New Name"  # a change of the defendant, not of the hearing
    hearing = _reload(hearing)
    renamed = calendars.event_bytes(hearing, BASE, cache=cache)
    assert b"New Name" in renamed and b"Old Name" not in renamed
    assert len(cache.entries) == 1  # the old text was replaced, not kept beside


def test_a_method_other_than_publish_or_cancel_is_refused(make_hearing):
    hearing = make_hearing()
    try:
        calendars.hearing_ics(hearing, BASE, method="REQUEST")
    except ValueError as error:
        assert "REQUEST" in str(error)
    else:
        raise AssertionError("METHOD:REQUEST would need ORGANIZER and ATTENDEE")
    assert b"METHOD:CANCEL" in calendars.hearing_ics(hearing, BASE, method="CANCEL")


def test_all_day_deadline_events_are_dates_not_times(make_defendant, make_measure, make_decision, parse):
    person = make_defendant(name_latin="Anna", internal_notes="NOTE")
    measure = make_measure(person, starts_on=date(2026, 1, 10), until=date(2026, 4, 10))
    decision = make_decision(person, decided_on=date(2026, 2, 20))
    db.session.commit()
    header = calendars.FeedInfo("x", "y", BASE, "")
    body = calendars.assemble(header, {}, [private.custody_expiry_event(measure, BASE), private.appeal_deadline_event(decision, 15, BASE)])
    parsed = parse(body)
    custody = parsed.event(f"custody-{measure.id}@tracker.test")
    assert custody.decoded("DTSTART") == date(2026, 4, 10)
    appeal = parsed.event(f"appeal-{decision.id}@tracker.test")
    assert appeal.decoded("DTSTART") == date(2026, 3, 7)
    assert "Appeal deadline: Anna" == str(appeal["SUMMARY"])
    assert len(parsed.strict.events) == 2
