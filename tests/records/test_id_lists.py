"""`in_id_list` (tracker/id_lists.py): a list of ids as one parameter selects what an expanding
IN selects, on SQLite and PostgreSQL, and SQLite still answers it from the column's index."""
from __future__ import annotations

import pytest
import sqlalchemy as sa

from tracker.extensions import db
from tracker.id_lists import in_id_list
from tracker.records.models import Defendant


@pytest.fixture
def people(make_defendant):
    made = [make_defendant() for _ in range(6)]
    db.session.commit()
    return [person.id for person in made]


@pytest.mark.parametrize("pick", [[0], [1, 3, 5], [0, 1, 2, 3, 4, 5], [], [5, 5, 2]])
def test_the_same_rows_as_an_expanding_in(people, pick):
    ids = [people[i] for i in pick] + [10**9]  # an id that is no one's matches nothing
    one = sa.select(Defendant.id).where(in_id_list(Defendant.id, "ids")).order_by(Defendant.id)
    expanding = sa.select(Defendant.id).where(Defendant.id.in_(sa.bindparam("ids", expanding=True))).order_by(Defendant.id)
    connection = db.session.connection()
    found = connection.execute(one, {"ids": ids}).scalars().all()
    assert found == connection.execute(expanding, {"ids": ids}).scalars().all()
    assert found == sorted({people[i] for i in pick})
    assert connection.execute(one, {"ids": []}).scalars().all() == []


def sent(statement: sa.Select, params: dict) -> list[tuple[str, object]]:
    """The (SQL, parameters) that executing `statement` sends to the database."""
    found = []

    def capture(conn, cursor, text, parameters, context, executemany) -> None:  # noqa: ANN001
        found.append((text, parameters))

    sa.event.listen(db.engine, "before_cursor_execute", capture)
    try:
        db.session.connection().execute(statement, params).all()
    finally:
        sa.event.remove(db.engine, "before_cursor_execute", capture)
    return found


def test_one_statement_text_whatever_the_number_of_ids(people):
    statement = sa.select(Defendant.id).where(in_id_list(Defendant.id, "ids"))
    assert len({sent(statement, {"ids": people[:n]})[0][0] for n in (1, 3, 6)}) == 1


def test_sqlite_searches_the_index(people, is_postgres):
    """Written as a Boolean, the clause came out as "… IN (…) = 1" on SQLite, which then scanned
    the whole table (hearings' defendants: 1.3 -> 7.8 ms at 20,000 hearings)."""
    if is_postgres:
        pytest.skip("SQLite's plan")
    statement = sa.select(Defendant.id).where(in_id_list(Defendant.id, "ids"), Defendant.is_public.is_(True))
    [(text, parameters)] = sent(statement, {"ids": people})
    assert ") = 1" not in text
    plan = db.session.connection().exec_driver_sql(f"EXPLAIN QUERY PLAN {text}", parameters).all()
    assert any(row[3].startswith("SEARCH defendants") and "rowid=?" in row[3] for row in plan), plan
