"""Mail still arriving: lets a sender start on the first committed chunk of a big batch.

Composing and recording 10,000 reminders takes a third of the time the relay needs to
take them. Run one after the other, "due" to "in the relay" cost their sum; run side by
side, the sender starts on the first chunk the writer commits and the composing hides
behind the sending. A writer that commits in chunks (`tracker.reminders.due.enqueue_due`
with `commit_every`) does so inside `writing()` and calls `grew()` after each commit; a
sender in the same process that runs out of claimable mail while a writer is at work
waits for the next chunk (`wait_for_more`) instead of ending its batch.

Nothing here decides what is sent: the outbox rows, their claims and leases do. Being
told is only about when to look; a sender in another process still finds the mail at
its next run.
"""
from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager

_changed = threading.Condition()
_writers = 0
_generation = 0
_waiting = 0
# Called (with no arguments) when a chunk is committed while no sender here waits for it:
# the scheduler sets it to run its send job at once rather than at its next interval.
on_first_chunk: list[Callable[[], None]] = []


@contextmanager
def writing() -> Iterator[None]:
    """A writer at work: senders in this process wait for its chunks instead of stopping."""
    global _writers
    with _changed:
        _writers += 1
    try:
        yield
    finally:
        with _changed:
            _writers -= 1
            _changed.notify_all()


def grew(first: bool = False) -> None:
    """A chunk was committed: wake the senders waiting here (and, for the first, start one)."""
    global _generation
    with _changed:
        _generation += 1
        _changed.notify_all()
    if first:
        for start in list(on_first_chunk):
            start()


def generation() -> int:
    """How many chunks were committed so far: read it before looking for mail, give it to `wait_for_more`."""
    return _generation


def wait_for_more(seen: int, timeout: float = 5.0) -> bool:
    """Wait while a writer is at work and has committed nothing since `seen`; True if there may be more mail.

    False at once when no writer is at work (the batch is over).
    """
    global _waiting
    with _changed:
        if _writers == 0:
            return False
        _waiting += 1
        try:
            _changed.wait_for(lambda: _generation != seen or _writers == 0, timeout=timeout)
        finally:
            _waiting -= 1
        return True


def waiting() -> int:
    """How many senders in this process wait for a writer's next chunk (for tests and logs)."""
    return _waiting
