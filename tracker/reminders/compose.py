"""What volunteers read: the subjects and bodies of reminders, notices, digests and sign-up mail.

Times are always in the court's own time zone with the zone named, because that is
where the volunteer has to be; "Today"/"Tomorrow" are counted in that zone too.
"""
from __future__ import annotations

from datetime import date, datetime
from typing import Sequence

from flask_babel import gettext as _

from tracker.links import external_url
from tracker.mail import language as lang
from tracker.mail.language import in_language
from tracker.mail.message import Mail, render_mail
from tracker.records.models import Court, Defendant, Hearing


def day_word(local_day: date, today: date, language: str) -> str:
    """"Today", "Tomorrow" or the day itself ("Wed, Dec 2"), for a subject."""
    delta = (local_day - today).days
    if delta == 0:
        return _("Today")
    if delta == 1:
        return _("Tomorrow")
    return lang.short_day(local_day, language)


def local_when(hearing: Hearing, language: str) -> str:
    """"Wed, Dec 2, 2026, 11:00 (MSK, Moscow Standard Time)", in the court's zone."""
    return lang.when(hearing.starts_at, hearing.court.tz, language)


def court_name(court: Court, language: str) -> str:
    """The court's name in the reader's script where the record has it (a subject line's
    "Мосгорсуд"), the Latin one otherwise."""
    return lang.name_for(court.name, court.name_original, language)


def person_name(defendant: Defendant, language: str) -> str:
    """The full name in the reader's script."""
    return lang.name_for(defendant.name_latin, defendant.name_original, language)


def short_name(defendant: Defendant, language: str) -> str:
    """"M. Luzyanin" / "М. Лузянин": short enough for a phone's preview of the subject."""
    return lang.short_form(person_name(defendant, language))


def _names(hearings: Sequence[Hearing], language: str) -> str:
    seen: list[str] = []
    for hearing in hearings:
        for defendant in hearing.public_defendants(not lang.reads_latin(language)):
            name = short_name(defendant, language)
            if name not in seen:
                seen.append(name)
    return ", ".join(seen)


def _hearing_context(hearing: Hearing, language: str) -> dict[str, object]:
    """One hearing as the mail templates show it: names in the reader's script first."""
    latin = lang.reads_latin(language)
    return {
        "hearing": hearing,
        "when": local_when(hearing, language),
        "court_name": court_name(hearing.court, language),
        "defendants": [
            (d.name_latin, d.name_original, external_url("records.defendant", slug=d.slug)) if latin
            else (d.name_original or d.name_latin, d.name_latin, external_url("records.defendant", slug=d.slug))
            for d in hearing.public_defendants(not latin)
        ],
    }


def reminder_mail(
    hearings: Sequence[Hearing], *, now: datetime, notes: str, manage_url: str, language: str
) -> Mail:
    """One reminder for one or more hearings on the same day at the same court, in `language`.

    The subject is built for a phone's preview, the most urgent first: "Tomorrow 11:00:
    hearing of M. Luzyanin, Moscow City Court".
    """
    with in_language(language):
        first = hearings[0]
        court = first.court
        today = now.astimezone(court.tz).date()
        times = ", ".join(dict.fromkeys(lang.time_of_day(h.starts_at, court.tz, language) for h in hearings))
        when = f"{day_word(first.local_start.date(), today, language)} {times}"
        names = _names(hearings, language)
        if len(hearings) == 1:
            what = _("hearing of %(names)s", names=names)
        else:
            what = _("%(count)d hearings of %(names)s", count=len(hearings), names=names)
        subject = f"{when}: {what}, {court_name(court, language)}"
        return render_mail("reminder", subject, items=[_hearing_context(h, language) for h in hearings],
                           court=court, notes=notes, manage_url=manage_url)


def change_mail(
    hearing: Hearing, change: str, *, old_starts_at: datetime, old_court_name: str, now: datetime,
    manage_url: str, language: str, reminder: bool = False, notes: str = "",
) -> Mail:
    """"Moved" / "postponed" / "cancelled": short, with the old and the new time, in `language`.

    `reminder`: a move close to a reminder time for the new start (changes.COMBINE_WITHIN);
    this one message is then the notice and the reminder: "Tomorrow 12:30" in the
    subject, the practical notes in the body.
    """
    with in_language(language):
        tz = hearing.court.tz
        old_when = lang.when(old_starts_at, tz, language)
        old_short = lang.short_when(old_starts_at, tz, language)
        names = _names([hearing], language)
        if change == "cancelled":
            subject = _("Cancelled: hearing of %(names)s on %(when)s, %(court)s",
                        names=names, when=old_short, court=old_court_name)
        elif change == "postponed":
            subject = _("Postponed, no new date yet: hearing of %(names)s on %(when)s, %(court)s",
                        names=names, when=old_short, court=old_court_name)
        else:
            when = lang.short_when(hearing.starts_at, tz, language)
            if reminder:
                today = now.astimezone(tz).date()
                when = (f"{day_word(hearing.local_start.date(), today, language)} "
                        f"{lang.time_of_day(hearing.starts_at, tz, language)}")
            subject = _("Moved to %(when)s: hearing of %(names)s, %(court)s",
                        when=when, names=names, court=court_name(hearing.court, language))
        return render_mail("change", subject, change=change, old_when=old_when, old_court_name=old_court_name,
                           manage_url=manage_url, reminder=reminder, notes=notes,
                           **_hearing_context(hearing, language))


def digest_mail(
    hearings: Sequence[Hearing], *, first_day: date, last_day: date, notes: str, manage_url: str, language: str
) -> Mail:
    with in_language(language):
        subject = _("This week's hearings, %(days)s: %(count)d",
                    days=lang.day_range(first_day, last_day, language), count=len(hearings))
        return render_mail("digest", subject, items=[_hearing_context(h, language) for h in hearings],
                           notes=notes, manage_url=manage_url)


def confirm_mail(*, confirm_url: str, what: str, valid_days: int, language: str) -> Mail:
    with in_language(language):
        subject = _("Confirm your court-date reminders")
        return render_mail("confirm", subject, confirm_url=confirm_url, what=what, valid_days=valid_days)


def known_mail(*, manage_url: str, what: str, language: str) -> Mail:
    """For a sign-up with an address that already follows this: no change, a link instead."""
    with in_language(language):
        subject = _("You already get these court-date reminders")
        return render_mail("known", subject, manage_url=manage_url, what=what)
