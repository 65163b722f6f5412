"""Practical notes for hearing-goers (what to bring, how to get in): one text admins edit,
carried by every reminder, notice and digest."""
from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.orm import Session

from tracker.records.models import SiteSetting

NOTES_KEY = "hearing_notes"


def practical_notes(session: Session) -> str:
    return session.scalar(sa.select(SiteSetting.value).where(SiteSetting.key == NOTES_KEY)) or ""


def save_practical_notes(session: Session, text: str) -> None:
    setting = session.get(SiteSetting, NOTES_KEY)
    if setting is None:
        setting = SiteSetting(key=NOTES_KEY, value="")
        session.add(setting)
    setting.value = text.strip()
