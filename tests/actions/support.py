"""Helpers the action tests share (fixtures are in conftest.py)."""
from __future__ import annotations

from datetime import datetime

CONTACT_MARKER = "PRIVATE-CONTACT-9e4b"


def local_input(moment: datetime) -> str:
    """What <input type="datetime-local"> sends."""
    return moment.strftime("%Y-%m-%dT%H:%M")
