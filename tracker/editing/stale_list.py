"""Editors' weekly list of facts that can no longer be true (the rules: records/staleness.py).

One email a week to each editor with findings about the records they may edit (`can_edit`;
a hidden defendant only to those who may edit them), on Monday from STALE_FACTS_HOUR, and
the same list on their dashboard whenever they look. An editor with nothing to check gets no
mail. The dedupe key holds the editor and the ISO week, so the list goes once a week however
often the planner runs; next week's list replaces it (the mail expires then).
"""
from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa
from flask import current_app, url_for
from flask_babel import ngettext
from sqlalchemy.orm import Session

from tracker.access import can_edit, can_see
from tracker.editing.alerts import active_editors
from tracker.links import external_url
from tracker.mail import language as lang
from tracker.mail.message import Mail, render_mail
from tracker.records.models import Defendant
from tracker.records.names import first_script, reader_reads_original
from tracker.mail.models import OutboxMessage
from tracker.mail.outbox import enqueue_email, skip_on_error, weekly_slot
from tracker.records.staleness import StaleFact, site_today, site_zone, stale_facts

log = logging.getLogger(__name__)

SHOWN = 200  # findings one list shows at most; the rest are counted ("and 40 more")


@dataclass(frozen=True)
class Entry:
    """A finding as an editor reads it: about whom (only the names they may see), why, and where
    to correct it."""

    finding: StaleFact
    title: str
    edit_url: str


def describe(finding: StaleFact, user: Any, *, absolute: bool) -> Entry:
    """What the list says about one finding, for `user` (absolute links for mail)."""
    def link(endpoint: str, **kw: Any) -> str:
        return external_url(endpoint, **kw) if absolute else url_for(endpoint, **kw)

    if finding.defendant is not None:
        person = finding.defendant
        return Entry(finding, first_script(person.name_latin, person.name_original),
                     link("editing.edit_defendant", defendant_id=person.id))
    hearing = finding.hearing
    reads_original = reader_reads_original()
    seen = Defendant.in_reading_order((d for d in hearing.defendants if can_see(user, d)), reads_original)
    names = ", ".join(first_script(d.name_latin, d.name_original, reads_original) for d in seen)
    court = first_script(hearing.court.name, hearing.court.name_original)
    title = f"{hearing.kind.label.capitalize()}: {names}, {court}" if names else f"{hearing.kind.label.capitalize()}, {court}"
    return Entry(finding, title, link("editing.edit_hearing", hearing_id=hearing.id))


def for_editor(findings: list[StaleFact], user: Any) -> list[StaleFact]:
    return [f for f in findings if can_edit(user, f.record)]


def stale_list_mail(entries: list[Entry], total: int, *, week_of: datetime, language: str) -> Mail:
    """The list in the editor's language; call `describe` for its entries in that language too."""
    with lang.in_language(language):
        subject = ngettext("%(num)d fact in the tracker may no longer be true (week of %(day)s)",
                           "%(num)d facts in the tracker may no longer be true (week of %(day)s)", total,
                           day=lang.medium_day(week_of.date(), language))
        return render_mail("stale_list", subject, entries=entries, more=total - len(entries),
                           dashboard_url=external_url("editing.dashboard"))


def enqueue_stale_lists(session: Session, now: datetime) -> int:
    """This week's list to each editor who has something to check, once per week."""
    slot = weekly_slot(now, site_zone(), current_app.config["STALE_FACTS_HOUR"])
    if slot is None:
        return 0
    start, week_key = slot
    users = active_editors(session)
    done = set(session.scalars(
        sa.select(OutboxMessage.dedupe_key).where(OutboxMessage.dedupe_key.like(f"stale:%:{week_key}"))
    ))
    waiting = [u for u in users if f"stale:u{u.id}:{week_key}" not in done]
    if not waiting:
        return 0
    findings = stale_facts(session, site_today(now))
    written = 0
    for user in waiting:
        own = for_editor(findings, user)
        if not own:
            continue
        with skip_on_error("the weekly stale-facts list of user", user.id):
            with lang.in_language(user.language):  # each finding's reason is worded in the editor's language
                entries = [describe(f, user, absolute=True) for f in own[:SHOWN]]
            mail = stale_list_mail(entries, len(own), week_of=start, language=user.language)
            enqueue_email(session, dedupe_key=f"stale:u{user.id}:{week_key}", kind="stale_facts",
                          recipient=user.email, subject=mail.subject, text_body=mail.text_body,
                          html_body=mail.html_body, now=now, expires_at=start + timedelta(days=7),
                          check_existing=False)
            written += 1
    if written:
        log.info("recorded %d weekly stale-facts list(s) for %s", written, week_key)
    return written


def dashboard_entries(session: Session, user: Any, now: datetime) -> tuple[list[Entry], int]:
    """The editor's list as their dashboard shows it now (at most SHOWN), and how many there are."""
    own = stale_facts(session, site_today(now), user=user)
    return [describe(f, user, absolute=False) for f in own[:SHOWN]], len(own)
