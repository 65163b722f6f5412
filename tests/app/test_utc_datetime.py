"""What a UTCDateTime column reads back: always an aware datetime in `timezone.utc`, the same
value whichever way it is parsed (SQLite's one-call shortcut, `UTCDateTime.result_processor`)."""
from __future__ import annotations

from datetime import datetime, timezone

import pytest
import sqlalchemy as sa
from sqlalchemy.dialects import sqlite

from tracker.extensions import UTCDateTime, db

TEXTS = ["2026-03-03 10:00:00.000000", "2026-03-03 10:00:00.123456", "1999-12-31 23:59:59.999999",
         "2026-03-03 10:00:00", "2026-03-03", "2026-03-03T10:00:00.000000", "2026-03-03 10:00:00.5"]


def _decorator_way(text: str) -> datetime:
    """The TypeDecorator's own two steps: the dialect's parse, then process_result_value."""
    dialect = sqlite.dialect()
    column_type = UTCDateTime()
    parse = column_type.impl_instance.dialect_impl(dialect).result_processor(dialect, None)
    return column_type.process_result_value(parse(text), dialect)


@pytest.mark.parametrize("text", TEXTS)
def test_sqlite_texts_read_as_the_decorator_reads_them(text):
    dialect = sqlite.dialect()
    read = UTCDateTime().dialect_impl(dialect).result_processor(dialect, None)(text)
    expected = _decorator_way(text)
    assert read == expected and read.tzinfo is timezone.utc and read.fold == expected.fold


def test_a_stored_moment_comes_back_the_same_on_this_database(make_hearing):
    from tracker.records.models import Hearing

    moment = datetime(2026, 3, 3, 10, 0, 0, 123456, tzinfo=timezone.utc)
    hearing = make_hearing(starts_at=moment)
    db.session.commit()
    hearing_id = hearing.id
    db.session.remove()
    value = db.session.connection().execute(sa.select(Hearing.starts_at).where(Hearing.id == hearing_id)).scalar_one()
    assert value == moment and value.tzinfo is timezone.utc
