"""Going to a hearing: the sign-up, its confirmation, the public count, withdrawing, and the
editors' list and message. Plain functions on a session, given `now`.

An attendance is a reminders subscription whose scope is one hearing ("hearing:<id>",
`Scope.HEARING`), with an optional first name. That is the whole trick: the reminders'
audience (tracker/reminders/audience.py) counts it among the hearing's followers, so
the reminder, the change notices, their exactly-once keys and the sender's fencing
reach those going without a line of their own, and an address that both follows the
defendant and goes gets one message, not two (docs/attendance.md).

Nothing here sends mail: every email becomes an outbox row in the caller's transaction,
through `mail_subscriber`, the one way mail reaches a volunteer.
"""
from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timedelta
from functools import lru_cache

import sqlalchemy as sa
from flask import current_app
from flask_babel import gettext as _
from sqlalchemy.orm import Session, selectinload

from tracker.auth.models import User
from tracker.generation import bump_generation
from tracker.id_lists import in_id_list
from tracker.editing import audit
from tracker.editing.models import AuditEntry
from tracker.mail.addresses import normalise_email
from tracker.mail.language import in_language, known_language, reads_latin
from tracker.mail.message import Mail, render_mail
from tracker.records.enums import HearingStatus
from tracker.records.lines import HearingLine, lines_of, lines_statement
from tracker.records.models import Hearing
from tracker.records.queries import public_hearing_clause
from tracker.reminders import compose
from tracker.reminders.models import Scope, Subscription
from tracker.reminders.subscriptions import (
    CONFIRM_DAYS, CONFIRM_RESEND, DEFAULT_LEADS, BadLink, check_confirm_link, confirm_url, mail_subscriber,
    manage_url, scope_key, unsubscribe,
)

MESSAGE_MAX_CHARS = 1000  # a note about the hearing ("moved to courtroom 4"), not a newsletter
MESSAGE_WINDOW = timedelta(hours=24)
MESSAGE_ACTION = "message_attendees"  # the audit trail's action for a message to those going


class TooManyMessages(ValueError):
    """Editors already sent ATTENDANCE_MESSAGES_PER_DAY messages about this hearing in 24 hours."""


def open_hearings_clause(now: datetime | sa.BindParameter) -> sa.ColumnElement[bool]:
    """Hearings one can still say one will go to: public, scheduled, not started."""
    return sa.and_(public_hearing_clause(), Hearing.status == HearingStatus.SCHEDULED, Hearing.starts_at > now)


def is_open(hearing: Hearing, now: datetime) -> bool:
    """The same rule on a loaded hearing (its defendants loaded)."""
    return (hearing.status is HearingStatus.SCHEDULED and hearing.starts_at > now
            and bool(hearing.public_defendants()))


def open_hearing(session: Session, hearing_id: int, now: datetime) -> Hearing | None:
    """The hearing, if one can still sign up to go to it; None for anything else (hidden too)."""
    return session.scalar(_open_hearing_statement(), {"hearing_id": hearing_id, "now": now})


def open_line(session: Session, hearing_id: int, now: datetime) -> HearingLine | None:
    """`open_hearing` as the sign-up page shows it: a line (`records.lines`, columns with its
    court and public defendants), in the same two statements. The entity, its court and its
    defendants as whole rows (bio, charges) cost the page more than anything but the layout;
    the sign-up itself (a POST) still reads the entity."""
    found = lines_of(session, _open_line_statement(), {"hearing_id": hearing_id, "now": now})
    return found[0] if found else None


@lru_cache(maxsize=1)
def _open_line_statement() -> sa.Select:
    return lines_statement(
        sa.select(Hearing.id).where(Hearing.id == sa.bindparam("hearing_id", type_=sa.Integer),
                                    open_hearings_clause(sa.bindparam("now", type_=Hearing.starts_at.type)))
        .scalar_subquery())


@lru_cache(maxsize=1)
def _open_hearing_statement() -> sa.Select:
    """Built once with bound parameters: building and keying it cost more (~0.3 ms) than running it."""
    return (sa.select(Hearing)
            .where(Hearing.id == sa.bindparam("hearing_id", type_=sa.Integer),
                   open_hearings_clause(sa.bindparam("now", type_=Hearing.starts_at.type)))
            .options(selectinload(Hearing.defendants)))


def going_counts(session: Session, hearing_ids: Iterable[int]) -> dict[int, int]:
    """Confirmed attendances of these hearings, in one query on the attendances' hearing
    index (those with none are left out): what the public sees."""
    ids = sorted(set(hearing_ids))
    if not ids:
        return {}
    return dict(session.connection().execute(_going_statement(), {"ids": ids}).all())


@lru_cache(maxsize=1)
def _going_statement() -> sa.Select:
    """Built once and run on the connection: building it and loading its rows through the ORM
    cost ~0.4 ms a list page, for ~0.03 ms of SQL; the ids are one parameter (`in_id_list`)."""
    return (sa.select(Subscription.hearing_id, sa.func.count(Subscription.id))
            .where(in_id_list(Subscription.hearing_id, "ids"),
                   Subscription.scope == Scope.HEARING, Subscription.confirmed_at.is_not(None))
            .group_by(Subscription.hearing_id))


def names_of(hearing: Hearing, language: str) -> str:
    return ", ".join(compose.person_name(d, language)
                     for d in hearing.public_defendants(not reads_latin(language)))


def _what(hearing: Hearing, language: str) -> str:
    """The hearing in words, in `language` (called under `in_language(language)`)."""
    return _("the hearing of %(names)s on %(when)s at %(court)s", names=names_of(hearing, language),
             when=compose.local_when(hearing, language), court=compose.court_name(hearing.court, language))


def sign_up(session: Session, *, hearing: Hearing, email: str, first_name: str, now: datetime,
            language: str | None = None) -> Subscription:
    """Record that someone will go, and write the email that answers it.

    Like the reminders' sign-up: whatever the address's history the caller shows the same
    page; a new or unconfirmed sign-up gets a confirmation link (at most one per
    CONFIRM_RESEND), a confirmed one a note with the link to withdraw. Someone who merely
    knows an address cannot change a confirmed attendance's name or language. `language` is
    the sign-up page's: every mail to those going is in it.
    """
    address = normalise_email(email)
    language = known_language(language)
    key = scope_key(Scope.HEARING, hearing=hearing)
    attendance = session.scalar(
        sa.select(Subscription).where(sa.func.lower(Subscription.email) == address, Subscription.scope_key == key)
    )
    if attendance is None:
        attendance = Subscription(
            email=address, scope=Scope.HEARING, hearing=hearing, scope_key=key, lead_minutes=list(DEFAULT_LEADS),
            digest=False, first_name=first_name.strip(), created_at=now, language=language,
        )
        session.add(attendance)
        session.flush()
    elif not attendance.is_confirmed:
        attendance.first_name = first_name.strip()
        attendance.language = language
    bucket = int(now.timestamp() // CONFIRM_RESEND.total_seconds())
    with in_language(attendance.language):
        if attendance.is_confirmed:
            mail = render_mail("attend_known", _("You already said you will go to this hearing"),
                               what=_what(hearing, attendance.language), withdraw_url=_withdraw_url(attendance))
            kind, prefix = "attendance_known", "attend-known"
        else:
            mail = render_mail("attend_confirm", _("Confirm that you will go to the hearing"),
                               what=_what(hearing, attendance.language), confirm_url=confirm_url(attendance),
                               valid_days=CONFIRM_DAYS)
            kind, prefix = "attendance_confirm", "attend-confirm"
    mail_subscriber(session, attendance, mail, dedupe_key=f"{prefix}:{attendance.id}:{bucket}", kind=kind,
                    now=now, unsubscribe=False)
    return attendance


def _withdraw_url(attendance: Subscription) -> str:
    """The page to withdraw: an attendance's manage page (registered in attendance/__init__.py)."""
    return manage_url(attendance)


def check_link(session: Session, signed: str, now: datetime) -> Subscription:
    """The attendance a confirmation link belongs to (BadLink/ExpiredLink otherwise)."""
    attendance = check_confirm_link(session, signed, now)
    if attendance.scope is not Scope.HEARING:
        raise BadLink(_("This confirmation link is not valid."))
    return attendance


def confirm(session: Session, signed: str, now: datetime) -> Subscription:
    """Confirm from the emailed link; twice is harmless. Counted from now on."""
    attendance = check_link(session, signed, now)
    if attendance.confirmed_at is None:
        attendance.confirmed_at = now
        bump_generation(session)  # one more in the public count: cached pages must notice
    return attendance


def find(session: Session, token: str) -> Subscription | None:
    """The attendance whose withdraw link holds this token."""
    if not token or len(token) > 64:
        return None
    return session.scalar(sa.select(Subscription).where(Subscription.token == token,
                                                        Subscription.scope == Scope.HEARING))


def withdraw(session: Session, attendance: Subscription) -> None:
    """Not going after all: the address and every mail to it on file are deleted (the
    reminders' unsubscribe), so the count drops and nothing more is sent."""
    unsubscribe(session, attendance)


def attendees(session: Session, hearing: Hearing) -> list[Subscription]:
    """Everyone who said they will go, confirmed first, then by sign-up: for the hearing's editors only."""
    return list(session.scalars(
        sa.select(Subscription)
        .where(Subscription.scope == Scope.HEARING, Subscription.hearing_id == hearing.id)
        .order_by(Subscription.confirmed_at.is_(None), Subscription.created_at, Subscription.id)
    ))


def messages_sent(session: Session, hearing: Hearing, limit: int = 50) -> list[AuditEntry]:
    """The messages editors sent to those going, newest first (they are audit entries)."""
    return list(session.scalars(
        sa.select(AuditEntry).where(AuditEntry.action == MESSAGE_ACTION, AuditEntry.entity_type == "hearing",
                                    AuditEntry.entity_id == hearing.id)
        .options(selectinload(AuditEntry.user)).order_by(AuditEntry.id.desc()).limit(limit)
    ))


def message_mail(hearing: Hearing, text: str, *, withdraw_url: str, language: str) -> Mail:
    subject = _("About the hearing of %(names)s, %(when)s", names=names_of(hearing, language),
                when=compose.local_when(hearing, language))
    return render_mail("attend_message", subject, text=text, what=_what(hearing, language), withdraw_url=withdraw_url,
                       hearing=hearing)


def message_those_going(session: Session, hearing: Hearing, text: str, *, by: User, now: datetime) -> int:
    """Write `text` to everyone confirmed as going, in their language; returns the number written.

    Recorded in the hearing's audit trail (who, when, what, to how many) in the same
    transaction. At most ATTENDANCE_MESSAGES_PER_DAY per hearing in 24 hours: an editor's
    slip or a stolen account cannot flood those going.
    """
    text = text.strip()
    if not text or len(text) > MESSAGE_MAX_CHARS:
        raise ValueError("a message is 1 to MESSAGE_MAX_CHARS characters")
    limit = current_app.config["ATTENDANCE_MESSAGES_PER_DAY"]
    recent = session.scalar(sa.select(sa.func.count(AuditEntry.id)).where(
        AuditEntry.action == MESSAGE_ACTION, AuditEntry.entity_type == "hearing", AuditEntry.entity_id == hearing.id,
        AuditEntry.at > now - MESSAGE_WINDOW,
    ))
    if recent >= limit:
        raise TooManyMessages(_("%(num)d messages about this hearing were sent in the last 24 hours; "
                                "that is the limit. Try again later.", num=limit))
    going = [a for a in attendees(session, hearing) if a.is_confirmed]
    entry = audit.record(session, action=MESSAGE_ACTION, entity_type="hearing", entity_id=hearing.id,
                         changes={"recipients": [None, len(going)]}, by=by, now=now, note=text)
    session.flush()
    written = 0
    for attendance in going:
        with in_language(attendance.language):
            mail = message_mail(hearing, text, withdraw_url=_withdraw_url(attendance), language=attendance.language)
        if mail_subscriber(session, attendance, mail, dedupe_key=f"attend-message:{entry.id}:s{attendance.id}",
                           kind="attendance_message", now=now, expires_at=hearing.ends_at):
            written += 1
    return written
