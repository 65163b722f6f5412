"""Carrying out a plan: every change through the editing services, in the caller's transaction.

So an imported change is audited, raises the record's version and reaches the feeds
and the reminders exactly as a hand edit does. The caller commits, or rolls back when
`ImportFailed` is raised: an import is all or nothing.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from types import ModuleType
from typing import Callable, Iterator

from flask_babel import gettext as _
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from tracker.actions.logic import ActionErrors
from tracker.auth.models import User
from tracker.editing import services
from tracker.exchange.plan import Item, Plan
from tracker.exchange.planner import make_plan
from tracker.exchange.reading import read_files

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


def apply_steps(session: Session, plan: Plan, *, user: User | None, now: datetime) -> Iterator[tuple[int, int]]:
    """Run the plan's steps in order, yielding (done, total) now and then, so callers can show progress.

    The caller commits once the iteration ends, or rolls back on ImportFailed.
    """
    if not plan.ok:
        raise ImportFailed(None, _("The dry run has problems; nothing can be imported until they are fixed."))
    applier = Applier(session, user, now)
    total, done = plan.changes, 0  # the changes the dry run listed; internal steps are not counted
    yield done, total
    for step in plan.ordered_steps():
        if step.item is not None:
            done += 1
            if done % PROGRESS_EVERY == 0 and done < total:
                yield done, total
        try:
            step.run(applier)
        except services.DomainError as error:
            raise ImportFailed(step.item, error.message) from None
        except ActionErrors as error:  # an action's rules, checked by tracker.actions.logic
            raise ImportFailed(step.item, str(error)) from None
        except services.EditConflict:
            raise ImportFailed(step.item, _("Someone changed this record while it was being imported.")) from None
        except IntegrityError:
            # a unique key taken since the plan was made (by a concurrent import, say)
            raise ImportFailed(step.item, _("Someone changed the records while they were being imported.")) from None
    session.flush()
    yield total, total


def apply_plan(
    session: Session, plan: Plan, *, user: User | None, now: datetime,
    progress: Callable[[int, int], None] | None = None,
) -> int:
    """Run the plan's steps in order; returns how many changes were made. The caller commits."""
    for done, total in apply_steps(session, plan, user=user, now=now):
        if progress is not None:
            progress(done, total)
    return plan.changes


class DryRunChanged(Exception):
    """The plan made at confirmation differs from the dry run the editor saw."""

    def __init__(self, plan: Plan) -> None:
        super().__init__("the dry run changed")
        self.plan = plan


def dry_run(session: Session, files: list, *, user: User | None, now: datetime, max_rows: int,
            default_timezone: str) -> Plan:
    """Read the files and plan their import; raises FileRejected for a file that cannot be read."""
    book = read_files(files, max_rows=max_rows)
    return make_plan(session, book, user=user, now=now, default_timezone=default_timezone)


def replan(session: Session, files: list, *, user: User | None, now: datetime, max_rows: int,
           default_timezone: str, expected_digest: str | None) -> Plan:
    """The plan made again at confirmation; DryRunChanged unless it is the dry run the editor saw."""
    plan = dry_run(session, files, user=user, now=now, max_rows=max_rows, default_timezone=default_timezone)
    if expected_digest is not None and plan.digest != expected_digest:
        raise DryRunChanged(plan)
    return plan
