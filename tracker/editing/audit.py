"""Writing and reading the audit trail.

Every service that changes a record calls `record(...)` in the same transaction,
with each changed field's old and new value in JSON-friendly form: datetimes as
ISO-8601 UTC strings, dates as ISO dates, enums as their values. The reminders
feature reads hearing entries to tell volunteers that a hearing moved.
"""
from __future__ import annotations

import enum
from datetime import date, datetime, timezone
from typing import Any, Iterable

import sqlalchemy as sa
from sqlalchemy.orm import Session, joinedload

from tracker.auth.models import User
from tracker.editing.models import AuditEntry


def plain(value: Any) -> Any:
    """A value as it is stored in `AuditEntry.changes`."""
    if isinstance(value, enum.Enum):
        return value.value
    if isinstance(value, datetime):
        return value.astimezone(timezone.utc).isoformat()
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, (list, tuple, set)):
        return sorted(plain(v) for v in value)
    return value


def snapshot(obj: object, fields: Iterable[str]) -> dict[str, Any]:
    return {name: plain(getattr(obj, name)) for name in fields}


def diff(before: dict[str, Any], after: dict[str, Any]) -> dict[str, list[Any]]:
    """{"field": [old, new]} for the fields whose value changed."""
    return {k: [before.get(k), v] for k, v in after.items() if before.get(k) != v}


def record(
    session: Session,
    *,
    action: str,
    entity_type: str,
    entity_id: int,
    changes: dict[str, list[Any]],
    by: User | None,
    now: datetime,
    defendant_id: int | None = None,
    note: str = "",
) -> AuditEntry:
    entry = AuditEntry(
        at=now,
        user_id=by.id if by is not None else None,
        action=action,
        entity_type=entity_type,
        entity_id=entity_id,
        defendant_id=defendant_id,
        changes=changes,
        note=note,
    )
    session.add(entry)
    return entry


def history(session: Session, entity_type: str, entity_id: int, limit: int = 200) -> list[AuditEntry]:
    """One record's changes, newest first."""
    return list(
        session.scalars(
            sa.select(AuditEntry)
            .where(AuditEntry.entity_type == entity_type, AuditEntry.entity_id == entity_id)
            .options(joinedload(AuditEntry.user))
            .order_by(AuditEntry.id.desc())
            .limit(limit)
        )
    )


def defendant_history(session: Session, defendant_id: int, limit: int = 200) -> list[AuditEntry]:
    """Changes to a defendant and to its measures and decisions, newest first."""
    return list(
        session.scalars(
            sa.select(AuditEntry)
            .where(AuditEntry.defendant_id == defendant_id)
            .options(joinedload(AuditEntry.user))
            .order_by(AuditEntry.id.desc())
            .limit(limit)
        )
    )


def recent(session: Session, *, before_id: int | None = None, limit: int = 100) -> list[AuditEntry]:
    """The admins' feed of every change, newest first, paged by id."""
    query = sa.select(AuditEntry).options(joinedload(AuditEntry.user)).order_by(AuditEntry.id.desc())
    if before_id is not None:
        query = query.where(AuditEntry.id < before_id)
    return list(session.scalars(query.limit(limit)))


def changes_since(
    session: Session, entity_type: str, entity_id: int, count: int, *, defendant_id: int | None = None
) -> list[AuditEntry]:
    """The last `count` changes of a record: what another editor saved since a form was loaded.

    Each service call raises the record's version exactly once and writes one entry
    for it, so a form loaded at version v of a record now at version V missed the
    last V - v entries.
    """
    if count <= 0:
        return []
    if defendant_id is not None:
        # a defendant's version covers its measures and decisions too
        query = sa.select(AuditEntry).where(AuditEntry.defendant_id == defendant_id)
    else:
        query = sa.select(AuditEntry).where(
            AuditEntry.entity_type == entity_type, AuditEntry.entity_id == entity_id
        )
    return list(
        session.scalars(
            query.options(joinedload(AuditEntry.user)).order_by(AuditEntry.id.desc()).limit(count)
        )
    )
