"""Lawyers' deadline alerts: an email to each editor of a defendant whose custody measure
lapses soon with no hearing set before it. The other alerts to editors sit beside it
(transit_alerts.py, stale_list.py) and reach the same people (`active_editors`, `can_edit`).

They live with editing because they are for editors (who may edit that defendant:
access.can_edit), not for the volunteers the reminders serve; the scheduler's mail
planning job runs them after the reminders.
"""
from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Iterable
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from flask import current_app
from flask_babel import gettext as _
from sqlalchemy.orm import Session, selectinload

from tracker.access import can_edit
from tracker.auth.models import User
from tracker.links import external_url
from tracker.mail import language as lang
from tracker.mail.message import Mail, render_mail
from tracker.mail.models import OutboxMessage
from tracker.mail.outbox import enqueue_email, skip_on_error
from tracker.records.custody import measure_in_force
from tracker.records.enums import HearingStatus, MeasureKind
from tracker.records.models import CustodyMeasure, Defendant, Hearing, hearing_defendants
from tracker import formats

log = logging.getLogger(__name__)


def active_editors(session: Session) -> list[User]:
    """Everyone who may be alerted about a record, their cases loaded for `can_edit`: every
    alert to editors (deadlines, transits, the weekly stale facts) goes to those of them who
    may edit what it is about."""
    return list(session.scalars(
        sa.select(User).where(User.active.is_(True)).options(selectinload(User.cases)).order_by(User.id)
    ))


def deadline_mail(measure: CustodyMeasure, *, days_left: int, defendant_url: str, language: str) -> Mail:
    """The alert in the editor's language (`User.language`), the defendant's name in its script."""
    defendant = measure.defendant
    ends_on = measure.ends_on
    name = lang.name_for(defendant.name_latin, defendant.name_original, language)
    day = lang.long_day(ends_on, language) if ends_on else ""
    with lang.in_language(language):
        subject = _("%(measure)s of %(name)s ends in %(days)d days (%(day)s), no hearing scheduled",
                    measure=measure.kind.label.capitalize(), name=lang.short_form(name), days=days_left, day=day)
        return render_mail("deadline", subject, measure=measure, defendant=defendant, days_left=days_left,
                           defendant_url=defendant_url, person_name=name, day=day)



def enqueue_deadline_alerts(session: Session, now: datetime) -> int:
    """Warn editors DEADLINE_ALERT_DAYS before a custody measure lapses with no hearing set."""
    days = sorted(set(current_app.config["DEADLINE_ALERT_DAYS"]))
    if not days:
        return 0
    today = now.astimezone(ZoneInfo(current_app.config["DEFAULT_TIMEZONE"])).date()
    horizon = today + timedelta(days=max(days))
    ends_on = sa.func.coalesce(CustodyMeasure.until, CustodyMeasure.next_review_on)
    candidates = sa.select(CustodyMeasure.defendant_id).where(
        CustodyMeasure.kind != MeasureKind.RELEASED, ends_on >= today, ends_on <= horizon
    )
    defendants = list(session.scalars(
        sa.select(Defendant).where(Defendant.id.in_(candidates))
        .options(selectinload(Defendant.measures), selectinload(Defendant.decisions),
                 selectinload(Defendant.cases))
    ))
    lapsing: list[tuple[CustodyMeasure, int]] = []
    for defendant in defendants:
        measure = measure_in_force(defendant)  # not one a sentence replaced
        if measure is None or measure.ends_on is None:
            continue
        if not today <= measure.ends_on <= horizon:
            continue
        passed = [d for d in days if measure.ends_on - timedelta(days=d) <= today]
        if passed:
            lapsing.append((measure, min(passed)))
    if not lapsing:
        return 0
    # a hearing counts only if it comes before the measure lapses (checked per measure below)
    hearings_by_defendant: dict[int, list[Hearing]] = defaultdict(list)
    for defendant_id, hearing in session.execute(
        sa.select(hearing_defendants.c.defendant_id, Hearing)
        .join(Hearing, Hearing.id == hearing_defendants.c.hearing_id)
        .where(
            hearing_defendants.c.defendant_id.in_([m.defendant_id for m, _d in lapsing]),
            Hearing.status == HearingStatus.SCHEDULED,
            Hearing.starts_at >= now,
        )
    ):
        hearings_by_defendant[defendant_id].append(hearing)
    users = active_editors(session)
    done = set(session.scalars(
        sa.select(OutboxMessage.dedupe_key).where(OutboxMessage.dedupe_key.like("deadline:%"))
    ))
    written = 0
    for measure, days_before in lapsing:
        with skip_on_error("the deadline alerts of custody measure", measure.id):
            written += _alert_editors(session, measure, days_before, users, done,
                                      hearings_by_defendant.get(measure.defendant_id, ()), today=today, now=now)
    if written:
        log.info("recorded %d deadline alert(s)", written)
    return written


def _alert_editors(
    session: Session, measure: CustodyMeasure, days_before: int, users: list[User], done: set[str],
    hearings: Iterable[Hearing], *, today: date, now: datetime,
) -> int:
    """The alerts of one lapsing measure to each editor who may edit its defendant (none if a hearing comes first)."""
    defendant = measure.defendant
    if any(h.local_start.date() <= measure.ends_on for h in hearings):
        return 0
    written = 0
    mails: dict[str, Mail] = {}  # one per language
    for user in users:
        key = f"deadline:m{measure.id}:{days_before}d:u{user.id}"
        if key in done or not can_edit(user, defendant):
            continue
        if user.language not in mails:
            mails[user.language] = deadline_mail(
                measure, days_left=(measure.ends_on - today).days,
                defendant_url=external_url("records.defendant", slug=defendant.slug), language=user.language,
            )
        mail = mails[user.language]
        enqueue_email(
            session, dedupe_key=key, kind="deadline_alert", recipient=user.email, subject=mail.subject,
            text_body=mail.text_body, html_body=mail.html_body, now=now, check_existing=False,
        )
        written += 1
    return written
