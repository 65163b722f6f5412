"""The audit trail: who changed what, when, from which value to which."""
from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from tracker.auth.models import User
from tracker.extensions import UTCDateTime, db, utcnow


class AuditEntry(db.Model):
    __tablename__ = "audit_entries"

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
    user_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id", ondelete="SET NULL"))
    action: Mapped[str] = mapped_column(sa.String(60))  # "create", "update", "postpone", ...
    entity_type: Mapped[str] = mapped_column(sa.String(40))  # "hearing", "defendant", ...
    entity_id: Mapped[int] = mapped_column()
    # The defendant the change concerns, so each defendant's history is one indexed query.
    defendant_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("defendants.id", ondelete="SET NULL"), index=True
    )
    # {"field": [old, new], ...} with JSON-friendly values (dates as ISO strings)
    changes: Mapped[dict] = mapped_column(sa.JSON, default=dict)
    note: Mapped[str] = mapped_column(sa.Text, default="")

    user: Mapped[User | None] = relationship()

    __table_args__ = (sa.Index("ix_audit_entries_entity", "entity_type", "entity_id"),)
