"""The claim on PostgreSQL: prepared once, answered in binary, and sent while the relay works.

A claim through SQLAlchemy cost the sender 1.5-2.2 ms (20 rows and their 5.5 KiB bodies, sent by
the server as hex text, decoded by psycopg, then made into rows), 500 times for 10,000 reminders,
while the relay waited for the next envelope: the largest cost left on the sender's path on
PostgreSQL (fifth pass in docs/reminders.md). Here the claim is the same statement
(`claims._CLAIM_WITH_BODIES`, one statement outside any transaction: PostgreSQL runs it atomically
and commits it), prepared once per connection and chunk size, with its answer in binary (the bodies
as stored, the integers as four bytes), on libpq's asynchronous calls:
- `send` writes it and returns; `ClaimInFlight.take` waits for the answer (the socket, with the
  GIL free) and reads it. `claim` does both at once;
- the sender sends the next claim just before the DATA of the last message of a chunk and takes
  it once the relay has answered that DATA (sending.py): the database claims while the relay
  takes the message.
The rules are the marks' (marks.py): the sender's own connection (it holds the claim lock),
outside any transaction, nothing else in flight on it (the previous message's mark is confirmed
before DATA), and nothing else uses it before `take`. What a claim changes and whom it fences are
unchanged: the rows, the token and the lease are those of `claims.claim_chunk` (SQLite's way).
"""
from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql

from tracker.mail.claims import _CLAIM_WITH_BODIES, LEASE, Claimed
from tracker.mail.marks import MarkFailed, _text, wait_for_answer

_NAME = "tracker_claim_%d"  # per chunk size: the LIMIT is written into the statement (claims._DUE)
_DIALECT = postgresql.psycopg.dialect(paramstyle="numeric_dollar")
_COMPILED = _CLAIM_WITH_BODIES.compile(dialect=_DIALECT)
_POSTCOMPILED_CHUNK = "__[POSTCOMPILE_chunk]"
_BINARY = 1


def _sql(size: int) -> bytes:
    assert _COMPILED.string.count(_POSTCOMPILED_CHUNK) == 1
    return _COMPILED.string.replace(_POSTCOMPILED_CHUNK, str(int(size))).encode()


def _slots() -> tuple[list[bytes | None], dict[str, int]]:
    """The claim's values in the order of its $n (PostgreSQL's text format), the constant ones
    filled in, and where the three that change from claim to claim go."""
    values = _COMPILED.construct_params({"now": None, "chunk": 0, "lease_until": None, "token": None})
    positional, where = [], {}
    for name in (name for name in _COMPILED.positiontup if name != "chunk"):  # chunk: in the statement
        if name in ("now", "lease_until", "token"):
            where[name] = len(positional)
            positional.append(None)
            continue
        process = _COMPILED.binds[name].type.bind_processor(_DIALECT)
        value = values[name]
        positional.append(_text(process(value) if process and value is not None else value))
    return positional, where


_CONSTANT, _WHERE = _slots()


def _params(now: datetime, token: str) -> list[bytes | None]:
    params = list(_CONSTANT)
    params[_WHERE["now"]] = _text(now)
    params[_WHERE["lease_until"]] = _text(now + LEASE)
    params[_WHERE["token"]] = token.encode()
    return params


def _int(value: bytes) -> int:
    return int.from_bytes(value, "big", signed=True)


class ClaimInFlight:
    """A claim written to the sender's connection, its answer not read yet."""

    def __init__(self, pgconn, at: datetime) -> None:  # noqa: ANN001  (psycopg.pq.PGconn)
        self._pgconn = pgconn
        self.at = at  # the claim's clock: its lease runs to at + LEASE
        self.error: MarkFailed | None = None

    def take(self) -> list[Claimed]:
        """The claimed messages, by id. Never raises: a failure is kept in `error` (`raise_error`)
        and the claim reads as empty, so the message in hand is still marked before anything
        stops the batch."""
        import psycopg
        from psycopg import pq

        pgconn, rows, error = self._pgconn, [], ""
        try:
            wait_for_answer(pgconn)
            result, answered = pgconn.get_result(), False
            while result is not None:
                if result.status == pq.ExecStatus.TUPLES_OK:
                    answered = True
                    value = result.get_value
                    rows = [Claimed(_int(value(i, 0)), value(i, 1).decode(), _int(value(i, 2)),
                                    value(i, 3).decode(), value(i, 4)) for i in range(result.ntuples)]
                else:
                    error = (result.error_message or b"").decode("utf-8", "replace") or result.status.name
                result = pgconn.get_result()
            if not (error or answered):
                error = "no answer to the claim"
        except (psycopg.Error, OSError) as lost:
            error = f"the database connection failed: {lost}"
        if error:
            self.error = MarkFailed(f"the claim failed: {error}")
            return []
        return sorted(rows, key=lambda message: message.id)

    def raise_error(self) -> None:
        if self.error is not None:
            raise self.error


def send(conn: sa.Connection, now: datetime, size: int, token: str, prepared: set[bytes]) -> ClaimInFlight:
    """Write a claim of up to `size` due messages for `token`; read it with `take`.

    `prepared`: the claims prepared on this connection by this batch (empty for a claim alone).
    Not kept with the connection: psycopg deallocates every prepared statement of its session
    in some cases (a schema change), ours with them; the marks are prepared per batch too."""
    from psycopg import pq

    assert not conn.in_transaction(), "a claim is its own transaction"
    pgconn = conn.connection.driver_connection.pgconn
    if pgconn.transaction_status != pq.TransactionStatus.IDLE:
        raise MarkFailed("the sender's connection is inside a transaction")
    name = (_NAME % size).encode()
    if name not in prepared:
        result = pgconn.prepare(name, _sql(size))
        if result.status != pq.ExecStatus.COMMAND_OK and \
                result.error_field(pq.DiagnosticField.SQLSTATE) != b"42P05":  # already prepared
            raise MarkFailed((result.error_message or b"").decode("utf-8", "replace"))
        prepared.add(name)
    pgconn.send_query_prepared(name, _params(now, token), result_format=_BINARY)
    return ClaimInFlight(pgconn, now)


def claim(conn: sa.Connection, now: datetime, size: int, token: str,
          prepared: set[bytes] | None = None) -> list[Claimed]:
    """`claims.claim_chunk` on PostgreSQL: the claim sent, read and committed at once.

    `prepared`: the claims this batch prepared on `conn` (each size is prepared once)."""
    in_flight = send(conn, now, size, token, set() if prepared is None else prepared)
    claimed = in_flight.take()
    in_flight.raise_error()
    return claimed
