"""Only one scheduler works at a time; any other waits as a hot standby.

PostgreSQL: a session-level advisory lock held on a dedicated connection. If the
leader dies, PostgreSQL drops its connection and the lock with it, and a standby
takes over within its polling interval. If the leader loses its connection, it
stops (it can no longer be sure it is alone) and its supervisor restarts it; its
sender checks the lock before every claim of mail (scheduler/runtime.py), and a new
leader never takes the claims of a sender that is still alive (tracker/mail/claims.py).

SQLite: one scheduler per database file is supported. An exclusive `flock` on a
file beside the database keeps a second one on the same machine waiting, the same
way; SQLite cannot be shared between machines anyway.
"""
from __future__ import annotations

import fcntl
import logging
import os
import threading
from pathlib import Path

import sqlalchemy as sa
from sqlalchemy.engine import make_url

log = logging.getLogger("scheduler.leader")

# An arbitrary 64-bit key: "reminders-scheduler" hashed by hand, the same in every process.
ADVISORY_KEY = 0x7472_6163_6B65_7231 & 0x7FFF_FFFF_FFFF_FFFF


class LeaderLock:
    """`acquire(stop)` blocks until this process leads (True) or `stop` is set (False)."""

    # how often a standby tries the lock (seconds)
    poll_seconds = float(os.environ.get("SCHEDULER_STANDBY_POLL_SECONDS", "5"))

    def try_acquire(self) -> bool:
        raise NotImplementedError

    def still_held(self) -> bool:
        return True

    def release(self) -> None:
        pass

    def describe(self) -> str:
        return type(self).__name__

    def acquire(self, stop: threading.Event) -> bool:
        announced = False
        while not stop.is_set():
            if self.try_acquire():
                log.info("leader lock taken (%s): this scheduler does the work", self.describe())
                return True
            if not announced:
                log.info("another scheduler leads (%s): waiting as a hot standby", self.describe())
                announced = True
            stop.wait(self.poll_seconds)
        return False


class PostgresLeaderLock(LeaderLock):
    def __init__(self, url: str) -> None:
        # Its own engine, with one connection that lives as long as the lock.
        self.engine = sa.create_engine(url, poolclass=sa.pool.NullPool)
        self.connection: sa.Connection | None = None
        # The main loop and the sender (before every claim) both check the lock.
        self.guard = threading.Lock()

    def describe(self) -> str:
        return f"PostgreSQL advisory lock {ADVISORY_KEY}"

    def try_acquire(self) -> bool:
        try:
            if self.connection is None:
                self.connection = self.engine.connect().execution_options(isolation_level="AUTOCOMMIT")
            return bool(self.connection.scalar(sa.text("SELECT pg_try_advisory_lock(:k)"), {"k": ADVISORY_KEY}))
        except sa.exc.DBAPIError as error:
            log.warning("cannot reach PostgreSQL for the leader lock: %s", error)
            self._drop()
            return False

    def still_held(self) -> bool:
        with self.guard:
            return self._still_held()

    def _still_held(self) -> bool:
        if self.connection is None:
            return False
        try:
            return bool(self.connection.scalar(
                sa.text("SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND pid = pg_backend_pid() "
                        "AND granted AND ((classid::bigint << 32) | objid::bigint) = :k"),
                {"k": ADVISORY_KEY},
            ))
        except sa.exc.DBAPIError as error:
            log.error("lost the connection that holds the leader lock: %s", error)
            self._drop()
            return False

    def _drop(self) -> None:
        if self.connection is not None:
            try:
                self.connection.close()
            except sa.exc.DBAPIError:
                pass
            self.connection = None

    def release(self) -> None:
        with self.guard:
            if self.connection is not None:
                try:
                    self.connection.scalar(sa.text("SELECT pg_advisory_unlock(:k)"), {"k": ADVISORY_KEY})
                except sa.exc.DBAPIError:
                    pass
            self._drop()
        self.engine.dispose()


class FileLeaderLock(LeaderLock):
    def __init__(self, path: Path) -> None:
        self.path = path
        self.handle = None

    def describe(self) -> str:
        return f"file lock {self.path}"

    def try_acquire(self) -> bool:
        handle = open(self.path, "a+")  # noqa: SIM115 (kept open while we lead)
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            handle.close()
            return False
        handle.seek(0)
        handle.truncate()
        handle.write(f"{os.getpid()}\n")
        handle.flush()
        self.handle = handle
        return True

    def release(self) -> None:
        if self.handle is not None:
            fcntl.flock(self.handle, fcntl.LOCK_UN)
            self.handle.close()
            self.handle = None


class NoLock(LeaderLock):
    def try_acquire(self) -> bool:
        return True

    def describe(self) -> str:
        return "no leader lock (tests only)"


def leader_lock_for(database_uri: str) -> LeaderLock:
    url = make_url(database_uri)
    if url.get_backend_name() == "postgresql":
        return PostgresLeaderLock(database_uri)
    if url.get_backend_name() == "sqlite" and url.database and url.database != ":memory:":
        return FileLeaderLock(Path(url.database + ".scheduler.lock"))
    log.warning("no leader lock for %s: run a single scheduler", url.get_backend_name())
    return NoLock()
