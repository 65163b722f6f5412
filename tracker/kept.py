"""One thing made, kept while what it was made of stays the same.

For what a page writes from rows it still reads on every request (the action form's 2,000
people, its cases): the rows are compared with the last ones (a tuple comparison, which
short-cuts on the very same objects) and the list or markup made from them is given again
when they are equal. One slot, not a cache: a change replaces it, so it can never hold more
than one thing or anything stale.
"""
from __future__ import annotations

from collections.abc import Callable
from typing import Generic, TypeVar

T = TypeVar("T")


class KeptWhileSame(Generic[T]):
    """`get(made_of, make)`: the last thing `make` made if `made_of` equals what it was made of."""

    __slots__ = ("_kept",)

    def __init__(self) -> None:
        self._kept: tuple[tuple, T] | None = None

    def get(self, made_of: tuple, make: Callable[[], T]) -> T:
        kept = self._kept  # read once: another thread may replace it meanwhile
        if kept is not None and kept[0] == made_of:
            return kept[1]
        made = make()
        self._kept = (made_of, made)
        return made
