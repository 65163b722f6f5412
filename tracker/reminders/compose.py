"""What volunteers read: the subjects and bodies of reminders, notices, digests and sign-up mail.

Times are always in the court's own time zone with the zone named, because that is
where the volunteer has to be; "Today"/"Tomorrow" are counted in that zone too.
"""
from __future__ import annotations

from datetime import date, datetime
from typing import Sequence

from flask_babel import gettext as _
from markupsafe import escape

from tracker.links import external_url
from tracker.mail.message import Mail, render_mail
from tracker.records.models import Hearing


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


# Stands for a volunteer's own manage link in a mail rendered once for many volunteers.
MANAGE_URL_SLOT = "https://manage-url.invalid/slot"


def personalised(mail: Mail, *, manage_url: str) -> Mail:
    """A mail rendered with MANAGE_URL_SLOT, with one volunteer's link put in."""
    return Mail(
        mail.subject,
        mail.text_body.replace(MANAGE_URL_SLOT, manage_url),
        mail.html_body.replace(MANAGE_URL_SLOT, str(escape(manage_url))),
    )


def _names(hearings: Sequence[Hearing]) -> str:
    seen: list[str] = []
    for hearing in hearings:
        for defendant in hearing.public_defendants():
            name = defendant.short_name
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
    return render_mail("reminder", subject, items=[_hearing_context(h) for h in hearings], court=court,
                       notes=notes, manage_url=manage_url)


def change_mail(
    hearing: Hearing, change: str, *, old_starts_at: datetime, old_court_name: str, now: datetime,
    manage_url: str, reminder: bool = False, notes: str = "",
) -> Mail:
    """"Moved" / "postponed" / "cancelled": short, with the old and the new time.

    `reminder`: a move close to a reminder time for the new start (changes.COMBINE_WITHIN);
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
    return render_mail("change", subject, change=change, old_when=old_when, old_court_name=old_court_name,
                       manage_url=manage_url, reminder=reminder, notes=notes, **_hearing_context(hearing))


def digest_mail(
    hearings: Sequence[Hearing], *, first_day: date, last_day: date, notes: str, manage_url: str
) -> Mail:
    subject = _("This week's hearings, %(first)s to %(last)s: %(count)d",
                first=first_day.strftime("%d %b"), last=last_day.strftime("%d %b"), count=len(hearings))
    return render_mail("digest", subject, items=[_hearing_context(h) for h in hearings], notes=notes,
                       manage_url=manage_url)


def confirm_mail(*, confirm_url: str, what: str, valid_days: int) -> Mail:
    subject = _("Confirm your court-date reminders")
    return render_mail("confirm", subject, confirm_url=confirm_url, what=what, valid_days=valid_days)


def known_mail(*, manage_url: str, what: str) -> Mail:
    """For a sign-up with an address that already follows this: no change, a link instead."""
    subject = _("You already get these court-date reminders")
    return render_mail("known", subject, manage_url=manage_url, what=what)
