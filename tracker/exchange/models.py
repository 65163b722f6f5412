"""Uploaded files waiting for their dry run to be confirmed.

Kept in the database rather than on a disk so any web worker on any host can confirm
what another one showed. They hold private data: only their uploader may use them,
they are never served back, and they are deleted once imported or when they expire
(`IMPORT_UPLOAD_MAX_AGE_MINUTES`).
"""
from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from tracker.extensions import UTCDateTime, db, utcnow


class ImportUpload(db.Model):
    """One uploaded file; the files of one upload share its `token`."""

    __tablename__ = "import_uploads"

    id: Mapped[int] = mapped_column(primary_key=True)
    token: Mapped[str] = mapped_column(sa.String(64), index=True)
    position: Mapped[int] = mapped_column(default=0)
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id", ondelete="CASCADE"), index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
    filename: Mapped[str] = mapped_column(sa.String(255))
    sha256: Mapped[str] = mapped_column(sa.String(64))
    data: Mapped[bytes] = mapped_column(sa.LargeBinary)
