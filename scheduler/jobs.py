"""The jobs the scheduler runs. Each is a thin wrapper: app context, read the clock once,
call a `tracker` function, commit. Feature packages add their entry to JOBS.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

from flask import Flask


@dataclass(frozen=True)
class Job:
    name: str
    seconds: int
    run: Callable[[Flask], None]


JOBS: list[Job] = []
