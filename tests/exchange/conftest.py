"""Account fixtures (tests/auth/support.py) and helpers to run an import as a user."""
from __future__ import annotations

import pytest

from tests.auth.support import *  # noqa: F401,F403
from tracker.exchange.apply import apply_plan, dry_run
from tracker.exchange.reading import UploadedFile
from tracker.extensions import db


def files(**named: str | bytes) -> list[UploadedFile]:
    """UploadedFile objects from name=content (text is UTF-8 encoded)."""
    return [UploadedFile(name.replace("__", "."), data if isinstance(data, bytes) else data.encode("utf-8"))
            for name, data in named.items()]


@pytest.fixture
def plan_import(now):
    """plan_import(user, files) -> the dry run; nothing written."""

    def run(user, uploaded, *, max_rows: int = 5000):  # noqa: ANN001
        plan = dry_run(db.session, uploaded, user=user, now=now, max_rows=max_rows,
                       default_timezone="Europe/Moscow")
        return plan

    return run


@pytest.fixture
def do_import(plan_import, now):
    """do_import(user, files) -> the plan, applied and committed (asserts it had no problems)."""

    def run(user, uploaded):  # noqa: ANN001
        plan = plan_import(user, uploaded)
        assert plan.ok, plan.problems
        apply_plan(db.session, plan, user=user, now=now)
        db.session.commit()
        return plan

    return run
