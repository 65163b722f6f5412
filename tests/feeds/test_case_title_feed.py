"""A case's feed is named in the reader's script: /feeds/ru/... with the case's original title."""
from __future__ import annotations

import re
from datetime import timedelta

from tracker.extensions import db, utcnow
from tracker.feeds.publish import publish_feeds

LATIN, ORIGINAL = "May 6th affair", "Дело 6 мая"


def test_the_russian_case_feed_is_named_with_the_original_title(client, make_case, make_defendant, make_hearing,
                                                                fresh_feeds):
    case = make_case(slug="may6", title=LATIN, title_original=ORIGINAL)
    person = make_defendant(slug="anna", name_latin="Anna Petrova", name_original="Анна Петрова")
    case.defendants.append(person)
    make_hearing(starts_at=utcnow() + timedelta(days=3), defendants=[person], case=case)
    db.session.commit()
    publish_feeds(utcnow())
    russian = (fresh_feeds / "ru/cases/may6.ics").read_text()
    english = (fresh_feeds / "cases/may6.ics").read_text()
    assert re.search(rf"X-WR-CALNAME:{ORIGINAL}", russian)
    assert re.search(rf"X-WR-CALNAME:{LATIN}", english)
    assert ORIGINAL in client.get("/feeds/ru/cases/may6.ics").get_data(as_text=True)
