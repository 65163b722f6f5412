"""Keeping an upload between its dry run and the confirmation, and forgetting it afterwards."""
from __future__ import annotations

import hashlib
import secrets
from datetime import datetime, timedelta

import sqlalchemy as sa
from sqlalchemy.orm import Session

from tracker.auth.models import User
from tracker.exchange.models import ImportUpload
from tracker.exchange.reading import UploadedFile


def files_digest(files: list[UploadedFile]) -> str:
    """One hash for the files of an upload: their names and contents, in order."""
    digest = hashlib.sha256()
    for upload in files:
        digest.update(hashlib.sha256(upload.name.encode()).digest())
        digest.update(hashlib.sha256(upload.data).digest())
    return digest.hexdigest()


def store_upload(session: Session, files: list[UploadedFile], *, user: User, now: datetime) -> str:
    """Keep the files for the confirmation; returns the (secret, random) token naming them."""
    token = secrets.token_urlsafe(32)
    for position, upload in enumerate(files):
        session.add(ImportUpload(token=token, position=position, user_id=user.id, created_at=now,
                                 filename=upload.name[:255], sha256=hashlib.sha256(upload.data).hexdigest(),
                                 data=upload.data))
    session.flush()
    return token


def load_upload(session: Session, token: str, *, user: User, now: datetime, max_age: timedelta
                ) -> list[UploadedFile] | None:
    """The files of an upload of this user that has not expired; None otherwise."""
    rows = session.scalars(
        sa.select(ImportUpload)
        .where(ImportUpload.token == token, ImportUpload.user_id == user.id,
               ImportUpload.created_at > now - max_age)
        .order_by(ImportUpload.position)
    ).all()
    return [UploadedFile(r.filename, r.data) for r in rows] or None


def delete_upload(session: Session, token: str) -> None:
    session.execute(sa.delete(ImportUpload).where(ImportUpload.token == token))


def purge_uploads(session: Session, now: datetime, max_age: timedelta) -> int:
    """Delete uploads nobody confirmed in time: they hold private data. Returns how many files."""
    result = session.execute(sa.delete(ImportUpload).where(ImportUpload.created_at <= now - max_age))
    return result.rowcount or 0
