"""Writing due reminders: composed once per (hearing group, language), recorded in bulk.

Split from due.py (which decides what is due): this is the part that costs per message.
"""
from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from flask import current_app
from markupsafe import escape
from sqlalchemy.orm import Session

from tracker.feeds.calendars import hearing_ics
from tracker.links import external_url
from tracker.mail.message import MessageTemplate
from tracker.mail.message import compose as compose_message
from tracker.mail.models import OutboxBody, OutboxMessage, OutboxStatus
from tracker.mail.outbox import new_message_id, skip_on_error
from tracker.records.models import Hearing
from tracker.reminders import compose
from tracker.reminders.models import ReminderDelivery, Subscription
from tracker.reminders.subscriptions import page_endpoint

def hearing_calendars(hearings: list[Hearing]) -> list[tuple[str, bytes]]:
    """Each hearing as an .ics attachment, the same event (UID, SEQUENCE) as in the feeds."""
    base_url = current_app.config["BASE_URL"]
    return [
        (f"hearing-{h.id}.ics" if len(hearings) > 1 else "hearing.ics", hearing_ics(h, base_url))
        for h in hearings
    ]


# Stands for a volunteer's token in links of a message composed once for many volunteers: as
# long as the tokens `new_token` makes, of characters quoted-printable leaves alone.
TOKEN_SLOT = "~" * 32


class ReminderWriter:
    """Composes due reminders once per (hearing group, language) and records them in bulk.

    Many volunteers follow the same hearings: each group's text, calendar and MIME message
    are made once per language (`MessageTemplate`), and each volunteer's copy is those
    bytes with their address, Message-ID and links put in. The outbox rows and the
    deliveries that make each reminder exactly-once are inserted a few statements at a
    time, in the caller's transaction, as before.
    """

    def __init__(self, session: Session, now: datetime, notes: str) -> None:
        self.session, self.now, self.notes = session, now, notes
        self.sender = current_app.config["MAIL_FROM"]
        self.manage_prefix, self.manage_suffix = external_url("reminders.manage", token=TOKEN_SLOT).split(TOKEN_SLOT)
        self.link_parts: dict[str, list[str]] = {}
        self.templates: dict[tuple[tuple[int, ...], str], tuple[compose.Mail, list, MessageTemplate] | None] = {}
        self.calendars: dict[tuple[int, ...], list[tuple[str, bytes]]] = {}
        self.groups: dict[object, tuple[str, datetime]] = {}
        self.messages: list[tuple] = []  # in the order of _OUTBOX_COLUMNS
        self.bodies: list[bytes] = []  # each message's composed bytes (its row in outbox_bodies)
        self.deliveries: list[list[tuple]] = []  # in the order of _DELIVERY_COLUMNS

    def _template(self, hearings: list[Hearing], language: str):  # noqa: ANN202
        ids = tuple(h.id for h in hearings)
        key = (ids, language)
        if key not in self.templates:
            self.templates[key] = None  # a group that cannot be rendered is logged once and left out
            with skip_on_error("the reminders of hearing(s)", *ids):
                if ids not in self.calendars:
                    self.calendars[ids] = hearing_calendars(hearings)
                slot_url = self.manage_prefix + TOKEN_SLOT + self.manage_suffix
                mail = compose.reminder_mail(hearings, now=self.now, notes=self.notes, manage_url=slot_url,
                                             language=language)
                template = MessageTemplate(
                    sender=self.sender, subject=mail.subject, text_body=mail.text_body, html_body=mail.html_body,
                    date=self.now, body_slots=[slot_url], unsubscribe_slot="https://unsubscribe-slot.invalid/",
                    ics=self.calendars[ids],
                )
                self.templates[key] = (mail, self.calendars[ids], template)
        return self.templates[key]

    def _link(self, subscription: Subscription, page: str) -> str:
        """The volunteer's own link to `page`, at the endpoint its scope registered (those going
        to a hearing manage and withdraw on attendance's pages): url_for once per endpoint."""
        endpoint = page_endpoint(subscription, page)
        if endpoint not in self.link_parts:
            self.link_parts[endpoint] = external_url(endpoint, token=TOKEN_SLOT).split(TOKEN_SLOT)
        prefix, suffix = self.link_parts[endpoint]
        return prefix + subscription.token + suffix

    def add(self, subscription: Subscription, lead: int, hearings: list[Hearing]) -> None:
        """One volunteer's reminder of a group of hearings, with the deliveries that make it exactly-once."""
        made = self._template(hearings, subscription.language)
        if made is None:
            return
        mail, calendars, template = made
        ids = [h.id for h in hearings]
        with skip_on_error("the reminder of hearing(s)", *ids, "to subscription", subscription.id):
            manage, unsubscribe = self._link(subscription, "manage"), self._link(subscription, "unsubscribe")
            slot = self.manage_prefix + TOKEN_SLOT + self.manage_suffix
            message_id = new_message_id()
            raw = template.personalise(recipient=subscription.email, message_id=message_id, values=[manage],
                                       unsubscribe_url=unsubscribe)
            if raw is None:  # a token of another shape: this one composed in full
                raw = compose_message(
                    message_id=message_id, sender=self.sender, recipient=subscription.email, subject=mail.subject,
                    text_body=mail.text_body.replace(slot, manage),
                    html_body=mail.html_body.replace(slot, str(escape(manage))), date=self.now,
                    unsubscribe_url=unsubscribe, ics=calendars,
                )
            versions, expires_at = self._group(hearings)
            self.messages.append((
                f"reminder:{subscription.id}:{lead}:{versions}", "reminder", subscription.email, mail.subject,
                message_id, _PENDING, 0, self.now, self.now, "", expires_at, subscription.id,
            ))
            self.bodies.append(raw)
            self.deliveries.append([
                (subscription.id, h.id, lead, h.version, h.starts_at, self.now) for h in hearings
            ])

    def _group(self, hearings: list[Hearing]) -> tuple[str, datetime]:
        """The group's versions (for the dedupe key) and the moment its reminder is useless, once per group."""
        ids = tuple(h.id for h in hearings) if len(hearings) > 1 else hearings[0].id
        if ids not in self.groups:
            self.groups[ids] = (",".join(f"{h.id}v{h.version}" for h in hearings), max(h.starts_at for h in hearings))
        return self.groups[ids]

    def write(self, chunk: int = 1000) -> int:
        """Insert what was added (but keys already recorded), a chunk per statement; returns messages written."""
        session = self.session
        session.flush()  # anything the caller added before, in order
        postgres = session.get_bind().dialect.name == "postgresql"
        written = 0
        for start in range(0, len(self.messages), chunk):
            messages = self.messages[start:start + chunk]
            bodies = self.bodies[start:start + chunk]
            deliveries = self.deliveries[start:start + chunk]
            recorded = set(session.scalars(
                sa.select(OutboxMessage.dedupe_key).where(OutboxMessage.dedupe_key.in_([m[0] for m in messages]))
            ))
            keep = [i for i, m in enumerate(messages) if m[0] not in recorded]
            if not keep:
                continue
            if postgres:
                _copy_rows(session, [messages[i] for i in keep], [bodies[i] for i in keep],
                           [deliveries[i] for i in keep])
            else:
                outbox = OutboxMessage.__table__
                ids = session.execute(
                    sa.insert(outbox).returning(outbox.c.id, sort_by_parameter_order=True),
                    [dict(zip(_OUTBOX_COLUMNS, messages[i])) for i in keep],
                ).scalars().all()
                session.execute(sa.insert(OutboxBody.__table__),
                                [{"outbox_id": outbox_id, "raw": bodies[i]} for i, outbox_id in zip(keep, ids)])
                rows = [dict(zip(_DELIVERY_COLUMNS, d), outbox_id=outbox_id)
                        for i, outbox_id in zip(keep, ids) for d in deliveries[i]]
                session.execute(sa.insert(ReminderDelivery.__table__), rows)
            written += len(keep)
        self.messages, self.bodies, self.deliveries = [], [], []
        return written


_PENDING = OutboxStatus.PENDING.value
_OUTBOX_COLUMNS = ("dedupe_key", "kind", "recipient", "subject", "message_id", "status", "attempts", "next_attempt_at",
                   "created_at", "last_error", "expires_at", "subscription_id")
_DELIVERY_COLUMNS = ("subscription_id", "hearing_id", "lead_minutes", "hearing_version", "hearing_starts_at",
                     "created_at")
_NEW_OUTBOX_IDS = (f"SELECT nextval(pg_get_serial_sequence('{OutboxMessage.__tablename__}', 'id')) "
                   "FROM generate_series(1, %s)")
_COPY_OUTBOX = f"COPY {OutboxMessage.__tablename__} (id, {', '.join(_OUTBOX_COLUMNS)}) FROM STDIN"
_COPY_BODIES = f"COPY {OutboxBody.__tablename__} (outbox_id, raw) FROM STDIN"
_COPY_DELIVERIES = (f"COPY {ReminderDelivery.__tablename__} ({', '.join(_DELIVERY_COLUMNS)}, outbox_id) "
                    "FROM STDIN")


def _copy_rows(session: Session, messages: list[tuple], bodies: list[bytes], deliveries: list[list[tuple]]) -> None:
    """PostgreSQL: the rows through COPY, in the session's transaction, ids drawn from the table's sequence.

    A multi-row INSERT ... RETURNING of 1,000 rows of 6 KiB is a statement with 15,000
    placeholders that psycopg parses anew every time (a third of recording them); COPY
    sends the values as they are. The ids come from the outbox's own sequence (what
    the INSERT would have drawn), so concurrent writers never clash.
    """
    driver = session.connection().connection.driver_connection
    with driver.cursor() as cursor:
        ids = [row[0] for row in cursor.execute(_NEW_OUTBOX_IDS, (len(messages),)).fetchall()]
        with cursor.copy(_COPY_OUTBOX) as copy:
            for outbox_id, message in zip(ids, messages):
                copy.write_row((outbox_id, *message))
        with cursor.copy(_COPY_BODIES) as copy:
            for outbox_id, raw in zip(ids, bodies):
                copy.write_row((outbox_id, raw))
        with cursor.copy(_COPY_DELIVERIES) as copy:
            for outbox_id, rows in zip(ids, deliveries):
                for row in rows:
                    copy.write_row((*row, outbox_id))
