"""State of the running scheduler process that long jobs consult (a stop request)."""
from __future__ import annotations

import threading

# Set on SIGTERM/SIGINT: long jobs finish the message in hand and return.
stopping = threading.Event()
