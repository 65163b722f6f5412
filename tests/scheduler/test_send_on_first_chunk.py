"""The send job starts when the planning job commits the first chunk of reminders, not at its interval."""
from __future__ import annotations

import signal
from collections import Counter
from datetime import timedelta

import pytest
import sqlalchemy as sa

from tests.scheduler.conftest import wait_for
from tracker.extensions import db, utcnow
from tracker.reminders.models import Scope, Subscription, new_token

pytestmark = pytest.mark.slow


def test_the_first_chunk_of_reminders_starts_the_send_job_at_once(smtp_server, scheduler_process, make_hearing):
    make_hearing(starts_at=utcnow() + timedelta(hours=10))  # the real clock: this scheduler runs for ever
    stamp = utcnow() - timedelta(days=1)
    emails = [f"volunteer{i}@example.org" for i in range(30)]
    db.session.execute(sa.insert(Subscription), [
        {"email": email, "scope": Scope.ALL, "scope_key": "all", "lead_minutes": [1440], "digest": False,
         "token": new_token(), "created_at": stamp, "confirmed_at": stamp, "language": "en"}
        for email in emails
    ])
    db.session.commit()
    # The send job's own interval is an hour: only the first chunk can make it send within seconds.
    child = scheduler_process("--job", "plan-mail", "--job", "send-mail", SEND_MAIL_EVERY_SECONDS="3600")
    wait_for(lambda: len(smtp_server.messages) >= len(emails), timeout=60, what="the reminders to be sent")
    child.popen.send_signal(signal.SIGTERM)
    assert child.wait(30) == 0, child.log
    received = Counter(rcpts[0] for _from, rcpts in smtp_server.envelopes)
    assert received == Counter(emails)  # each once
