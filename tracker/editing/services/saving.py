"""How every change is saved: the version check, one version bump, and the two refusals
(`DomainError` for a change the rules forbid, `EditConflict` for a save over a newer one).
"""
from __future__ import annotations

from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, Iterator

import sqlalchemy as sa
from flask_babel import gettext as _
from sqlalchemy.orm import Session
from sqlalchemy.orm.attributes import flag_modified
from sqlalchemy.orm.exc import StaleDataError

from tracker.editing import audit
from tracker.records.models import Case, Defendant, Hearing


class DomainError(ValueError):
    """A change the rules forbid; `field` names the form field the message belongs next to."""

    def __init__(self, field: str | None, message: str) -> None:
        super().__init__(message)
        self.field = field
        self.message = message


@dataclass
class EditConflict(Exception):
    """Someone saved the record after the editor loaded it."""

    entity_type: str
    entity_id: int
    loaded_version: int
    defendant_id: int | None = None


def check_version(obj: Case | Defendant | Hearing, expected: int | None, entity_type: str) -> None:
    if expected is not None and obj.version != expected:
        raise EditConflict(entity_type, obj.id, expected, obj.id if entity_type == "defendant" else None)


@contextmanager
def guard(session: Session, obj: Case | Defendant | Hearing, entity_type: str) -> Iterator[None]:
    """Run a change and flush it, turning a lost race on the version column into an EditConflict.

    Any flush inside (autoflush on a lazy load, say) may be the one that loses; the
    transaction is rolled back then, so nothing of this change is kept.
    """
    loaded, obj_id = obj.version, obj.id
    try:
        with session.no_autoflush:  # one UPDATE at the end: the version goes up exactly once
            yield
            touch(obj)
        session.flush()
    except StaleDataError:
        session.rollback()
        raise EditConflict(
            entity_type, obj_id, loaded, obj_id if entity_type == "defendant" else None
        ) from None


def touch(obj: Case | Defendant | Hearing) -> None:
    """Make the ORM update the row (and so raise its version) even when no column of it changed.

    Flagged rather than compared: `updated_at = now` is no change when two edits share a `now`.
    """
    flag_modified(obj, "updated_at")


def assign(obj: object, values: dict[str, Any], allowed: tuple[str, ...]) -> None:
    for name, value in values.items():
        if name not in allowed:
            raise TypeError(f"{type(obj).__name__} has no editable field {name!r}")
        setattr(obj, name, value)


def check_slug(session: Session, model: type, slug: str, own_id: int | None) -> None:
    clash = session.scalar(sa.select(model.id).where(model.slug == slug, model.id != (own_id or -1)))
    if clash is not None:
        raise DomainError("slug", _("This address is already used by another record."))


@dataclass
class ConflictReport:
    current_version: int
    entries: list  # AuditEntry, newest first


def explain_conflict(session: Session, conflict: EditConflict) -> ConflictReport:
    """What was saved between the editor loading the form and pressing save."""
    model = {"case": Case, "defendant": Defendant, "hearing": Hearing}[conflict.entity_type]
    current = session.scalar(sa.select(model.version).where(model.id == conflict.entity_id)) or 0
    entries = audit.changes_since(
        session, conflict.entity_type, conflict.entity_id, current - conflict.loaded_version,
        defendant_id=conflict.defendant_id,
    )
    return ConflictReport(current_version=current, entries=entries)
