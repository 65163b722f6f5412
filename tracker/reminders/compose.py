"""What volunteers and editors read: subjects and bodies of every email we write.

Times are always in the court's own time zone with the zone named, because that is
where the volunteer has to be; "Today"/"Tomorrow" are counted in that zone too.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Sequence

import sqlalchemy as sa
from flask import current_app, render_template
from markupsafe import escape
from flask_babel import gettext as _
from sqlalchemy.orm import Session

from tracker.links import external_url
from tracker.records.models import CustodyMeasure, Defendant, Hearing, SiteSetting

NOTES_KEY = "hearing_notes"


def short_name(defendant: Defendant) -> str:
    """"Maksim Luzyanin" -> "M. Luzyanin": short enough for a subject line."""
    parts = defendant.name_latin.split()
    if len(parts) < 2:
        return defendant.name_latin
    return f"{parts[0][0]}. {parts[-1]}"


def day_word(local_day: date, today: date) -> str:
    delta = (local_day - today).days
    if delta == 0:
        return _("Today")
    if delta == 1:
        return _("Tomorrow")
    return local_day.strftime("%a %d %b")


def zone_label(hearing: Hearing) -> str:
    """"MSK, Europe/Moscow": the abbreviation people know and the unambiguous name."""
    local = hearing.local_start
    return f"{local.tzname()}, {hearing.court.timezone}"


def local_when(hearing: Hearing) -> str:
    local = hearing.local_start
    return f"{local.strftime('%a %d %b %Y, %H:%M')} ({zone_label(hearing)})"


def practical_notes(session: Session) -> str:
    return session.scalar(sa.select(SiteSetting.value).where(SiteSetting.key == NOTES_KEY)) or ""


@dataclass
class Mail:
    subject: str
    text_body: str
    html_body: str


# Stands for a volunteer's own manage link in a mail rendered once for many volunteers.
MANAGE_URL_SLOT = "https://manage-url.invalid/slot"


def personalised(mail: Mail, *, manage_url: str) -> Mail:
    """A mail rendered with MANAGE_URL_SLOT, with one volunteer's link put in."""
    return Mail(
        mail.subject,
        mail.text_body.replace(MANAGE_URL_SLOT, manage_url),
        mail.html_body.replace(MANAGE_URL_SLOT, str(escape(manage_url))),
    )


def _render(name: str, **context: object) -> tuple[str, str]:
    return (
        render_template(f"mail/{name}.txt", **context),
        render_template(f"mail/{name}.html", **context),
    )


def _names(hearings: Sequence[Hearing]) -> str:
    seen: list[str] = []
    for hearing in hearings:
        for defendant in hearing.public_defendants():
            name = short_name(defendant)
            if name not in seen:
                seen.append(name)
    return ", ".join(seen)


def _hearing_context(hearing: Hearing) -> dict[str, object]:
    return {
        "hearing": hearing,
        "when": local_when(hearing),
        "defendants": [
            (d.name_latin, d.name_original, external_url("records.defendant", slug=d.slug))
            for d in hearing.public_defendants()
        ],
    }


def reminder_mail(
    hearings: Sequence[Hearing], *, now: datetime, notes: str, manage_url: str
) -> Mail:
    """One reminder for one or more hearings on the same day at the same court."""
    first = hearings[0]
    court = first.court
    today = now.astimezone(court.tz).date()
    times = ", ".join(dict.fromkeys(h.local_start.strftime("%H:%M") for h in hearings))
    when = f"{day_word(first.local_start.date(), today)} {times}"
    if len(hearings) == 1:
        what = _("hearing of %(names)s", names=_names(hearings))
    else:
        what = _("%(count)d hearings of %(names)s", count=len(hearings), names=_names(hearings))
    subject = f"{when}: {what}, {court.name}"
    text, html = _render(
        "reminder", subject=subject, items=[_hearing_context(h) for h in hearings], court=court,
        notes=notes, manage_url=manage_url,
    )
    return Mail(subject, text, html)


def change_mail(
    hearing: Hearing, change: str, *, old_starts_at: datetime, old_court_name: str, now: datetime,
    manage_url: str, reminder: bool = False, notes: str = "",
) -> Mail:
    """"Moved" / "postponed" / "cancelled": short, with the old and the new time.

    `reminder`: a move close to a reminder time for the new start (logic.COMBINE_WITHIN);
    this one message is then the notice and the reminder: "Tomorrow 12:30" in the
    subject, the practical notes in the body.
    """
    old_local = old_starts_at.astimezone(hearing.court.tz)
    old_when = f"{old_local.strftime('%a %d %b %Y, %H:%M')} ({old_local.tzname()}, {hearing.court.timezone})"
    names = _names([hearing])
    if change == "cancelled":
        subject = _("Cancelled: hearing of %(names)s on %(when)s, %(court)s",
                    names=names, when=old_local.strftime("%a %d %b %H:%M"), court=old_court_name)
    elif change == "postponed":
        subject = _("Postponed, no new date yet: hearing of %(names)s on %(when)s, %(court)s",
                    names=names, when=old_local.strftime("%a %d %b %H:%M"), court=old_court_name)
    else:
        new_local = hearing.local_start
        when = new_local.strftime("%a %d %b %H:%M")
        if reminder:
            when = f"{day_word(new_local.date(), now.astimezone(hearing.court.tz).date())} {new_local:%H:%M}"
        subject = _("Moved to %(when)s: hearing of %(names)s, %(court)s",
                    when=when, names=names, court=hearing.court.name)
    text, html = _render(
        "change", subject=subject, change=change, old_when=old_when, old_court_name=old_court_name,
        manage_url=manage_url, reminder=reminder, notes=notes, **_hearing_context(hearing),
    )
    return Mail(subject, text, html)


def digest_mail(
    hearings: Sequence[Hearing], *, first_day: date, last_day: date, notes: str, manage_url: str
) -> Mail:
    subject = _("This week's hearings, %(first)s to %(last)s: %(count)d",
                first=first_day.strftime("%d %b"), last=last_day.strftime("%d %b"), count=len(hearings))
    text, html = _render(
        "digest", subject=subject, items=[_hearing_context(h) for h in hearings], notes=notes,
        manage_url=manage_url,
    )
    return Mail(subject, text, html)


def confirm_mail(*, confirm_url: str, what: str, valid_days: int) -> Mail:
    subject = _("Confirm your court-date reminders")
    text, html = _render("confirm", subject=subject, confirm_url=confirm_url, what=what, valid_days=valid_days)
    return Mail(subject, text, html)


def known_mail(*, manage_url: str, what: str) -> Mail:
    """For a sign-up with an address that already follows this: no change, a link instead."""
    subject = _("You already get these court-date reminders")
    text, html = _render("known", subject=subject, manage_url=manage_url, what=what)
    return Mail(subject, text, html)


def deadline_mail(measure: CustodyMeasure, *, days_left: int, defendant_url: str) -> Mail:
    defendant = measure.defendant
    ends_on = measure.ends_on
    subject = _("%(measure)s of %(name)s ends in %(days)d days (%(day)s), no hearing scheduled",
                measure=measure.kind.label.capitalize(), name=short_name(defendant), days=days_left,
                day=ends_on.strftime("%a %d %b %Y") if ends_on else "")
    text, html = _render(
        "deadline", subject=subject, measure=measure, defendant=defendant, days_left=days_left,
        defendant_url=defendant_url,
    )
    return Mail(subject, text, html)
