"""The sender's "sent" marks, written while the relay reads the next message's envelope.

A message is marked sent right after the relay's "250", in a transaction of its own:
that is what limits a crash to resending the one message in flight. Through
SQLAlchemy each mark cost a BEGIN, the UPDATE and a COMMIT, one round trip each on
PostgreSQL, in series with the SMTP exchange: the sender ran at half the relay's speed.

Here a mark is one statement, its own transaction. `start` only queues it; the sender
writes the next message's MAIL FROM, and while the relay works on that command the mark
goes out (`write`, which `SMTPConnection.envelope` calls between writing the command and
reading its answer); the sender reads the MAIL FROM and RCPT TO answers, and waits for
the mark's answer (`confirm`, which writes a queued mark first if nothing did) before that
message's DATA. So:
- at most one accepted message is ever unmarked: DATA of message N+1 never starts
  before the mark of N is committed (a crash resends at most the one in flight, with
  its Message-ID, as before);
- fencing is unchanged: the mark touches the row only while it carries our claim token
  (`claims.OURS`), its row count is checked before the next DATA, and a claim taken
  away stops the batch before anything else reaches the relay.
On PostgreSQL the statement (prepared once) goes through libpq's asynchronous calls on
the very connection that holds the claim lock; the connection must be outside any
transaction while a mark is in flight, and the sender calls `confirm` before it uses the
connection for anything else. SQLite has no asynchronous calls, and needs none: the mark
is a DB-API execute and commit on a connection of its own, run in the sender's thread while
the relay reads MAIL FROM (about 0.15 ms on the narrow outbox row, where handing
it to a thread of its own cost a wake-up and a GIL switch per message: third pass in
docs/reminders.md).
The clock, the lease check and a renewal come after `confirm` too (sending.py): whoever
reads the sender's clock finds every earlier mark committed.
"""
from __future__ import annotations

import select
from datetime import datetime, timezone

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql

from tracker.mail.claims import OURS
from tracker.mail.models import OutboxMessage, OutboxStatus


def _text(value: object) -> bytes | None:
    """A value as PostgreSQL's text format reads it (the prepared statement's parameters)."""
    if value is None:
        return None
    if isinstance(value, datetime):
        return value.astimezone(timezone.utc).isoformat().encode()
    return str(value.value if isinstance(value, OutboxStatus) else value).encode()

# Only while the row carries our claim (`claims.OURS`): compiled once per connection into the
# driver's own SQL and positional values, for libpq's prepared statement or sqlite3.
_MARK = (
    sa.update(OutboxMessage)
    .where(OutboxMessage.id == sa.bindparam("outbox_id"), OURS)
    .values(status=OutboxStatus.SENT, sent_at=sa.bindparam("sent_at"), attempts=OutboxMessage.attempts + 1,
            last_error="")
)
_PREPARED = b"tracker_mark_sent"


def _compiled(dialect: sa.Dialect, token: str, now: datetime) -> tuple[str, list, int]:
    """The mark's SQL for `dialect` (positional parameters), its values with the message's left
    None, and where that one goes."""
    compiled = _MARK.compile(dialect=dialect)
    values = compiled.construct_params({"outbox_id": None, "sent_at": now, "token": token})
    positional = []
    for name in compiled.positiontup:
        process = compiled.binds[name].type.bind_processor(dialect)
        value = values[name]
        positional.append(process(value) if process and value is not None else value)
    return compiled.string, positional, compiled.positiontup.index("outbox_id")


def wait_for_answer(pgconn) -> None:  # noqa: ANN001  (psycopg.pq.PGconn)
    """Until libpq holds the whole answer to what was sent: waiting on the socket, where the GIL
    is free, rather than in libpq. poll, not select(): a descriptor may be above 1024."""
    waiting = select.poll()
    waiting.register(pgconn.socket, select.POLLIN)
    while True:
        pgconn.consume_input()
        if not pgconn.is_busy():
            return
        waiting.poll()


class MarkFailed(Exception):
    """The database refused or lost the sender's own write (a mark, a renewal): the batch stops.

    Not a lost claim (that is a False `confirm`), and never blamed on the message in hand."""


class SentMarks:
    """One sender's "sent" marks, at most one queued or in flight at a time."""

    def __init__(self, conn: sa.Connection, token: str, now: datetime) -> None:
        self.conn = conn
        self._in_flight: int | None = None  # the message whose mark is queued or written, not confirmed
        self._written = False  # its mark went to the database (`write`)
        self._outcome: int | Exception | None = None  # SQLite: the row count, or what went wrong
        self._postgres = conn.dialect.name == "postgresql"
        if self._postgres:
            self._pgconn = conn.connection.driver_connection.pgconn
            sql, values, self._slot = _compiled(postgresql.psycopg.dialect(paramstyle="numeric_dollar"), token, now)
            self._sql = sql.encode()
            self._constant = [_text(value) for value in values]
            self._prepare()
        else:
            self._sql, self._constant, self._slot = _compiled(conn.dialect, token, now)
            self._driver = conn.engine.raw_connection()  # its own: the sender's may be in a claim

    def _prepare(self) -> None:
        """Parse and plan the mark once per connection, not once per message (the server's CPU
        is the relay's and ours on a small machine)."""
        from psycopg import pq

        result = self._pgconn.prepare(_PREPARED, self._sql)
        if result.status != pq.ExecStatus.COMMAND_OK and \
                result.error_field(pq.DiagnosticField.SQLSTATE) != b"42P05":  # prepared by an earlier batch
            raise MarkFailed((result.error_message or b"").decode("utf-8", "replace"))

    @property
    def in_flight(self) -> int | None:
        return self._in_flight

    def start(self, outbox_id: int) -> None:
        """Mark `outbox_id` sent (if it is still ours): queued now, written by `write` or `confirm`."""
        assert self._in_flight is None, "confirm the mark in flight first"
        self._in_flight, self._written, self._outcome = outbox_id, False, None

    def write(self) -> None:
        """Send the queued mark to the database, if any; its answer is read by `confirm`.

        Called while the relay works on a command (`SMTPConnection.envelope`): it never raises,
        whatever goes wrong is kept for `confirm`, which the sender calls before DATA.
        """
        if self._in_flight is None or self._written:
            return
        self._written = True
        params = list(self._constant)
        try:
            assert not self.conn.in_transaction(), "a mark is its own transaction"
            if self._postgres:
                from psycopg import pq

                if self._pgconn.transaction_status != pq.TransactionStatus.IDLE:
                    raise MarkFailed("the sender's connection is inside a transaction")
                params[self._slot] = str(self._in_flight).encode()
                self._pgconn.send_query_prepared(_PREPARED, params)  # blocking mode: the whole query is sent
            else:
                params[self._slot] = self._in_flight
                self._outcome = self._write(params)
        except Exception as error:  # noqa: BLE001  kept for confirm, which raises it as MarkFailed
            self._outcome = error

    def _write(self, params: list) -> int:
        """Execute and commit the mark on the marks' own connection (SQLite)."""
        driver = self._driver
        cursor = driver.cursor()
        try:
            cursor.execute(self._sql, params)
            rowcount = cursor.rowcount
            driver.commit()
            return rowcount
        except Exception:
            driver.rollback()
            raise
        finally:
            cursor.close()

    def close(self) -> None:
        """Give the marks' connection back (SQLite); `confirm` first."""
        if not self._postgres:
            self._driver.close()

    def confirm(self) -> bool:
        """Wait for the mark in flight (writing it first if it is only queued); False if the row
        was no longer ours (its claim was taken). True when nothing is in flight.
        """
        if self._in_flight is None:
            return True
        self.write()
        self._in_flight = None
        outcome, self._outcome = self._outcome, None
        if isinstance(outcome, MarkFailed):
            raise outcome
        if isinstance(outcome, Exception):  # the database's error, not the message's
            raise MarkFailed(f"the sent mark failed: {outcome}") from outcome
        if not self._postgres:
            return outcome == 1
        import psycopg
        from psycopg import pq

        pgconn = self._pgconn
        try:
            wait_for_answer(pgconn)
            result, rowcount, error = pgconn.get_result(), None, ""
            while result is not None:
                if result.status == pq.ExecStatus.COMMAND_OK:
                    rowcount = result.command_tuples
                else:
                    error = (result.error_message or b"").decode("utf-8", "replace") or result.status.name
                result = pgconn.get_result()
        except (psycopg.Error, OSError) as lost:
            raise MarkFailed(f"the database connection failed: {lost}") from lost
        if error or rowcount is None:
            raise MarkFailed(error or "no answer to the mark")
        return rowcount == 1
