"""Secrets in URLs stay out of every log line the app writes.

A private feed token, a reminder manage link, a confirmation link, an invitation or a
password-reset link is a credential in the path: whoever reads a log that holds one can
read an editor's private calendar or take over an account. Request logs print paths
(werkzeug's under `make run`, gunicorn's access log if enabled), and so do the app's error
log and the tracebacks in it.

Rather than a filter on each handler (a handler added later, by gunicorn or a test, would
lack it), `install()` wraps the log record factory: every record made in the process has
its message, and its traceback, redacted before any handler sees it. nginx's own access log
needs its own log format: see docs/accounts.md, "Logs".
"""
from __future__ import annotations

import logging
import re

REDACTED = "[redacted]"
# The paths whose next segment is a secret (tracker/auth/views.py, tracker/feeds/views.py,
# tracker/reminders/views.py), with "/" also found percent-encoded (in a ?next= value).
_SLASH = r"(?:/|%2[fF])"
SECRET_PREFIXES = ("feeds/private", "reminders/manage", "reminders/unsubscribe", "reminders/confirm",
                   "invitation", "password-reset")
_SECRET = re.compile(
    rf"({_SLASH}(?:{'|'.join(p.replace('/', _SLASH) for p in SECRET_PREFIXES)}){_SLASH})"
    r"[^/?&#%\s\"'<>]+"
)


def redact(text: str) -> str:
    """`text` with the secret segment of every such path replaced by [redacted]."""
    return _SECRET.sub(rf"\1{REDACTED}", text)


def redact_record(record: logging.LogRecord) -> None:
    try:
        message = record.getMessage()
    except Exception:  # bad arguments: logging reports that itself when the record is emitted
        return
    clean = redact(message)
    if clean != message:
        record.msg, record.args = clean, None
    if record.exc_info and not record.exc_text:
        # formatters reuse exc_text rather than formatting the traceback again
        record.exc_text = redact(logging.Formatter().formatException(record.exc_info))


def install() -> None:
    """Redact every log record of this process from now on (idempotent)."""
    factory = logging.getLogRecordFactory()
    if getattr(factory, "redacts", False):
        return

    def make_record(*args, **kwargs) -> logging.LogRecord:  # noqa: ANN002, ANN003
        record = factory(*args, **kwargs)
        redact_record(record)
        return record

    make_record.redacts = True  # type: ignore[attr-defined]
    logging.setLogRecordFactory(make_record)
