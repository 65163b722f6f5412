"""State of the running scheduler process that long jobs consult (a stop request, the leader lock)."""
from __future__ import annotations

import logging
import threading
from typing import Callable

log = logging.getLogger("scheduler")

# Set on SIGTERM/SIGINT, or when the leader lock is lost: long jobs finish the message in hand and return.
stopping = threading.Event()
# Set when the leader lock is lost: the process exits with status 1 so its supervisor restarts it.
lock_lost = threading.Event()
# Set while the send job runs: a chunk of new reminders then needs no extra run of it.
sending = threading.Event()
_lock_held: Callable[[], bool] = lambda: True  # noqa: E731  (until main() takes a lock)


def lead_with(held: Callable[[], bool]) -> None:
    """From now on `still_leading` asks `held` (the leader lock's own check)."""
    global _lock_held
    _lock_held = held


def still_leading() -> bool:
    """Whether this process still holds the leader lock; losing it stops the process.

    The sender asks before every claim, so a leader whose lock connection was cut stops
    at once instead of at the main loop's next check, while a standby already leads.
    """
    if lock_lost.is_set():
        return False
    if _lock_held():
        return True
    if not lock_lost.is_set():
        log.error("the leader lock is lost: stopping so that another instance can lead")
        lock_lost.set()
        stopping.set()
    return False
