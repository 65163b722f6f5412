"""A list of ids as one bound parameter: `in_id_list(column, "ids")` is `column IN (…ids)`.

SQLAlchemy's expanding IN (`column.in_(bindparam("ids", expanding=True))`) writes one
placeholder per id into the SQL on every execution. For the 300 hearings of /hearings that
was a new statement text each time: on PostgreSQL ~600 placeholders rendered with their casts
and split again by psycopg, never prepared (5 ms of the app's time for a 1 ms statement); on
SQLite 300 parameters rendered and bound. Here the statement's text is fixed and the ids
travel as one value: an `integer[]` on PostgreSQL (`column = ANY(:ids)`), a JSON array on
SQLite (`column IN (SELECT value FROM json_each(:ids))`, which SQLite answers with the same
index lookups as a literal list). Only these two databases are supported, as everywhere.
"""
from __future__ import annotations

import json
from collections.abc import Iterable
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.functions import FunctionElement


class IdList(sa.types.TypeDecorator):
    """Ids bound as one value: `integer[]` on PostgreSQL, JSON text on SQLite."""

    impl = sa.String
    cache_ok = True

    def load_dialect_impl(self, dialect):  # noqa: ANN001, ANN201
        if dialect.name == "postgresql":
            return dialect.type_descriptor(postgresql.ARRAY(sa.Integer))
        return dialect.type_descriptor(sa.String())

    def process_bind_param(self, value: Iterable[int] | None, dialect) -> Any:  # noqa: ANN001
        ids = [int(v) for v in value or ()]
        return ids if dialect.name == "postgresql" else json.dumps(ids)


class in_id_list(FunctionElement):  # noqa: N801 (reads as an SQL operator)
    """`column IN (ids)` with the ids as one parameter: `in_id_list(Hearing.id, "ids")`, then
    execute with `{"ids": [1, 2, 3]}` (an empty list matches nothing)."""

    # not Boolean: SQLite has no boolean type, and SQLAlchemy would write a Boolean function in a
    # WHERE clause as "… IN (…) = 1", which SQLite no longer answers from the column's index
    type = sa.types.NullType()
    inherit_cache = True
    name = "in_id_list"

    def __init__(self, column: sa.ColumnElement, name: str) -> None:
        super().__init__(column, sa.bindparam(name, type_=IdList()))


@compiles(in_id_list, "postgresql")
def _in_id_list_postgresql(element: in_id_list, compiler, **kw) -> str:  # noqa: ANN001
    column, ids = element.clauses
    return f"{compiler.process(column, **kw)} = ANY ({compiler.process(ids, **kw)})"


@compiles(in_id_list, "sqlite")
def _in_id_list_sqlite(element: in_id_list, compiler, **kw) -> str:  # noqa: ANN001
    column, ids = element.clauses
    return f"{compiler.process(column, **kw)} IN (SELECT value FROM json_each({compiler.process(ids, **kw)}))"
