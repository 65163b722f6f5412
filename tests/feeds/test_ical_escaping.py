"""Nothing an editor typed can break an iCalendar line (issue 8: it held; this keeps it so)."""
from __future__ import annotations

from tracker.extensions import db
from tracker.feeds import calendars, ical
from tracker.records.models import Hearing

INJECTED = "\r\nEND:VEVENT\r\nBEGIN:VEVENT\r\nUID:forged@evil.example\r\nSUMMARY:Forged"


def test_line_breaks_in_stored_text_stay_inside_their_property(make_hearing, make_court, make_defendant, parse):
    court = make_court(name="Court X" + INJECTED, address="Street 1\nATTENDEE:mailto:x@evil.example")
    person = make_defendant(name_latin="Ivan" + INJECTED, name_original="Иван\r\nX-INJECTED:yes")
    hearing = make_hearing(court=court, defendants=[person], courtroom="5\rLOCATION:elsewhere",
                           judge="Judge" + INJECTED)
    db.session.commit()
    db.session.expire_all()

    body = calendars.hearing_ics(db.session.get(Hearing, hearing.id), "http://tracker.test")

    parsed = parse(body)  # both parsers, the strict one included
    assert parsed.uids == [ical.event_uid(hearing)]
    assert "forged@evil.example" not in parsed.uids and len(parsed.strict.events) == 1
    event = parsed.events[0]
    assert "ATTENDEE" not in event and "X-INJECTED" not in event
    assert str(event["LOCATION"]).startswith("Court X\nEND:VEVENT")  # kept, as text
    for line in body.split(b"\r\n"):
        assert not line.startswith((b"UID:forged", b"ATTENDEE", b"X-INJECTED", b"SUMMARY:Forged"))
        assert b"\r" not in line and b"\n" not in line


def test_a_name_with_a_line_break_does_not_stop_publishing(make_hearing, make_case, make_defendant, feeds_dir,
                                                           parse, now):
    """The feed's own name (NAME, X-WR-CALNAME) carries the defendant's or case's name."""
    from tracker.feeds.publish import publish_feeds

    case = make_case(slug="bolotnaya", title="Case" + INJECTED)
    person = make_defendant(slug="ivan", name_latin="Ivan" + INJECTED, cases=[case])
    make_hearing(defendants=[person], case=case)
    db.session.commit()

    publish_feeds(now)

    for relative in ("all.ics", "cases/bolotnaya.ics", "defendants/ivan.ics"):
        parsed = parse((feeds_dir / relative).read_bytes())
        assert len(parsed.events) == 1 and "forged@evil.example" not in parsed.uids
    assert b"\r\nNAME:Ivan\\nEND:VEVENT\\nBEGIN:VEVENT" in (feeds_dir / "defendants/ivan.ics").read_bytes()  # escaped
