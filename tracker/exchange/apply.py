"""Carrying out a plan: every change through the editing services, in the caller's transaction.

So an imported change is audited, raises the record's version and reaches the feeds
and the reminders exactly as a hand edit does. The caller commits, or rolls back when
`ImportFailed` is raised: an import is all or nothing.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from types import ModuleType
from typing import Callable

from flask_babel import gettext as _
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from tracker.auth.models import User
from tracker.editing import services
from tracker.exchange.plan import Item, Plan

PROGRESS_EVERY = 250  # steps between two progress reports


class ImportFailed(Exception):
    """A change the plan did not foresee was refused; nothing of the import may be kept."""

    def __init__(self, item: Item | None, message: str) -> None:
        super().__init__(message)
        self.item = item
        self.message = message


@dataclass
class Applier:
    """What a plan's steps are called with."""

    session: Session
    user: User | None
    now: datetime
    services: ModuleType = services


def apply_plan(
    session: Session, plan: Plan, *, user: User | None, now: datetime,
    progress: Callable[[int, int], None] | None = None,
) -> int:
    """Run the plan's steps in order; returns how many changes were made. The caller commits."""
    if not plan.ok:
        raise ImportFailed(None, _("The dry run has problems; nothing can be imported until they are fixed."))
    applier = Applier(session, user, now)
    steps = plan.ordered_steps()
    for done, step in enumerate(steps):
        if progress is not None and done % PROGRESS_EVERY == 0:
            progress(done, len(steps))
        try:
            step.run(applier)
        except services.DomainError as error:
            raise ImportFailed(step.item, error.message) from None
        except services.EditConflict:
            raise ImportFailed(step.item, _("Someone changed this record while it was being imported.")) from None
        except IntegrityError:
            # a unique key taken since the plan was made (by a concurrent import, say)
            raise ImportFailed(step.item, _("Someone changed the records while they were being imported.")) from None
    session.flush()
    if progress is not None:
        progress(len(steps), len(steps))
    return len(steps)


class DryRunChanged(Exception):
    """The plan made at confirmation differs from the dry run the editor saw."""

    def __init__(self, plan: Plan) -> None:
        super().__init__("the dry run changed")
        self.plan = plan


def dry_run(session: Session, files: list, *, user: User | None, now: datetime, max_rows: int,
            default_timezone: str) -> Plan:
    """Read the files and plan their import; raises FileRejected for a file that cannot be read."""
    from tracker.exchange.plan import make_plan
    from tracker.exchange.reading import read_files

    book = read_files(files, max_rows=max_rows)
    return make_plan(session, book, user=user, now=now, default_timezone=default_timezone)


def import_files(
    session: Session, files: list, *, user: User | None, now: datetime, max_rows: int, default_timezone: str,
    expected_digest: str | None, progress: Callable[[int, int], None] | None = None,
) -> Plan:
    """Plan again and, when the plan is the one the editor confirmed, apply it. The caller commits.

    Raises DryRunChanged when the records changed since the dry run (or the files differ),
    ImportFailed when a change is refused; the caller then rolls back.
    """
    plan = dry_run(session, files, user=user, now=now, max_rows=max_rows, default_timezone=default_timezone)
    if expected_digest is not None and plan.digest != expected_digest:
        raise DryRunChanged(plan)
    apply_plan(session, plan, user=user, now=now, progress=progress)
    return plan
