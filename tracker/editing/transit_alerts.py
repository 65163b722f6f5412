"""Transit alerts: an email to each editor of a prisoner who has been in transit ("на этапе")
for TRANSIT_ALERT_DAYS with no destination recorded, and again every TRANSIT_ALERT_REPEAT_DAYS
until one is.

A transfer between colonies can take weeks through transit prisons; a prisoner missing for longer
than that needs the lawyer's inquiries. The alert stops by itself once a destination (a placement
with a facility) or a release is recorded: the transit is read from the records on every run
(records.transit). Each alert's dedupe key names the placement, the alert's number and the
editor, so each goes once per interval, whenever the planner runs.
"""
from __future__ import annotations

import logging
from datetime import date, datetime, timedelta

import sqlalchemy as sa
from flask import current_app
from flask_babel import ngettext
from sqlalchemy.orm import Session, contains_eager, selectinload

from tracker.access import can_edit
from tracker.auth.models import User
from tracker.editing.alerts import active_editors
from tracker.links import external_url
from tracker.mail import language as lang
from tracker.mail.message import Mail, render_mail
from tracker.mail.models import OutboxMessage
from tracker.mail.outbox import enqueue_email, skip_on_error
from tracker.records.models import Defendant, Placement
from tracker.records.staleness import site_today
from tracker.records.transit import transits_query

log = logging.getLogger(__name__)


def alert_number(since: date, today: date, *, first: int, repeat: int) -> int | None:
    """Which alert of a transit is due on `today`: 0 from day `first`, 1 from `first + repeat`, ...
    None before the first."""
    days = (today - since).days
    if days < first:
        return None
    return (days - first) // repeat


def transit_mail(placement: Placement, *, today: date, language: str) -> Mail:
    """The alert in the editor's language (`User.language`), the name in its script."""
    person = placement.defendant
    days = (today - placement.since).days
    name = lang.name_for(person.name_latin, person.name_original, language)
    earlier = [p for p in person.placements if p is not placement and not p.in_transit
               and (p.since, p.id) < (placement.since, placement.id)]
    with lang.in_language(language):
        subject = ngettext("%(name)s in transit for %(num)d day, no destination recorded",
                           "%(name)s in transit for %(num)d days, no destination recorded", days,
                           name=lang.short_form(name))
        return render_mail(
            "transit", subject, defendant=person, person_name=name, since=lang.medium_day(placement.since, language),
            days=days, last_place=earlier[-1] if earlier else None,
            repeat_days=current_app.config["TRANSIT_ALERT_REPEAT_DAYS"],
            transfer_url=external_url("editing.record_transfer", defendant_id=person.id),
        )


def enqueue_transit_alerts(session: Session, now: datetime) -> int:
    """Alert the editors of every prisoner in transit for TRANSIT_ALERT_DAYS or more, once per interval."""
    first = current_app.config["TRANSIT_ALERT_DAYS"]
    repeat = current_app.config["TRANSIT_ALERT_REPEAT_DAYS"]
    today = site_today(now)
    placements = session.scalars(
        transits_query(since_on_or_before=today - timedelta(days=first))
        .options(contains_eager(Placement.defendant).options(selectinload(Defendant.cases),
                                                             selectinload(Defendant.placements)))
    ).all()
    if not placements:
        return 0
    users = active_editors(session)
    done = set(session.scalars(
        sa.select(OutboxMessage.dedupe_key).where(OutboxMessage.dedupe_key.like("transit:%"))
    ))
    written = 0
    for placement in placements:
        number = alert_number(placement.since, today, first=first, repeat=repeat)
        if number is None:
            continue
        with skip_on_error("the transit alerts of placement", placement.id):
            written += _alert_editors(session, placement, number, users, done, today=today, now=now)
    if written:
        log.info("recorded %d transit alert(s)", written)
    return written


def _alert_editors(
    session: Session, placement: Placement, number: int, users: list[User], done: set[str], *,
    today: date, now: datetime,
) -> int:
    mails: dict[str, Mail] = {}  # one per language
    written = 0
    for user in users:
        key = f"transit:p{placement.id}:{number}:u{user.id}"
        if key in done or not can_edit(user, placement.defendant):
            continue
        if user.language not in mails:
            mails[user.language] = transit_mail(placement, today=today, language=user.language)
        mail = mails[user.language]
        enqueue_email(session, dedupe_key=key, kind="transit_alert", recipient=user.email, subject=mail.subject,
                      text_body=mail.text_body, html_body=mail.html_body, now=now, check_existing=False)
        written += 1
    return written
