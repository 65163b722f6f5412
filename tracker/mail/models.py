"""The outbox: every email the app sends, first as a row.

A message is written in the same transaction as the change that causes it and sent
afterwards by the scheduler (sending.py), so a crash or an SMTP outage delays mail but
never loses or doubles it. `dedupe_key` makes recording the same email twice impossible.

The composed message lives in a table of its own (`OutboxBody`): the sender claims and
marks every message (two updates each), and with the 6-12 KiB message in the row each
update rewrote all of it (SQLite: the record and its overflow pages; PostgreSQL: a new
tuple). Now they rewrite a row of a few hundred bytes, and the body is written once.
"""
from __future__ import annotations

import enum
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, column_property, mapped_column, relationship

from tracker.extensions import UTCDateTime, db, string_enum, utcnow
from tracker.mail.message import read_part


class OutboxStatus(str, enum.Enum):
    PENDING = "pending"
    SENDING = "sending"  # claimed by the sender named in claim_token until next_attempt_at (a lease)
    SENT = "sent"
    FAILED = "failed"  # gave up after MAIL_MAX_ATTEMPTS or a permanent (5xx) refusal
    MISSED = "missed"  # its moment passed (the hearing started) before it could go out
    SUPERSEDED = "superseded"  # what it was about changed (a reminder's hearing moved): nothing to send


class OutboxMessage(db.Model):
    __tablename__ = "outbox"

    id: Mapped[int] = mapped_column(primary_key=True)
    dedupe_key: Mapped[str] = mapped_column(sa.String(255), unique=True)
    kind: Mapped[str] = mapped_column(sa.String(40))  # "invitation", "reminder", ...
    recipient: Mapped[str] = mapped_column(sa.String(254))
    subject: Mapped[str] = mapped_column(sa.String(300), default="")
    message_id: Mapped[str] = mapped_column(sa.String(255), unique=True)
    status: Mapped[OutboxStatus] = mapped_column(string_enum(OutboxStatus), default=OutboxStatus.PENDING)
    # Whose claim a `sending` row is (tracker/mail/claims.py): only that sender may mark
    # it sent or give it back, and a new leader can tell a dead owner from a live one.
    claim_token: Mapped[str | None] = mapped_column(sa.String(40))
    attempts: Mapped[int] = mapped_column(default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # Not sent after this moment (a reminder is useless once its hearing started).
    expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_error: Mapped[str] = mapped_column(sa.Text, default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # Set for mail to volunteers, so leaving cancels whatever is still pending.
    subscription_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("subscriptions.id", ondelete="SET NULL"), index=True
    )

    body: Mapped[OutboxBody | None] = relationship(cascade="all, delete-orphan", passive_deletes=True)

    # The sender's claim reads this index in order and stops at the first unlocked row;
    # without `id` in it, PostgreSQL sorts every row due at the same moment (10,000 at once).
    __table_args__ = (sa.Index("ix_outbox_due", "status", "next_attempt_at", "id"),)

    def __repr__(self) -> str:
        return f"<OutboxMessage {self.id} {self.kind} {self.status.value}>"

    @property
    def text_body(self) -> str:
        return self._part("plain") or ""

    @property
    def html_body(self) -> str | None:
        return self._part("html")

    def _part(self, subtype: str) -> str | None:
        """The text or HTML the message was composed from, read back from the composed message
        itself (what the relay got); a row written without it keeps the parts (`OutboxBody`)."""
        body = self.body
        if body is None:
            return None
        if body.raw is None:
            return body.text_body if subtype == "plain" else body.html_body
        return read_part(body.raw, subtype)


class OutboxBody(db.Model):
    """The message of an outbox row, written once and never updated by the sender.

    `raw` is the whole RFC 5322 message, composed once when the row is written: a resend
    after a crash is byte for byte the same message, Message-ID and Date included. The
    parts are kept only for a row written without `raw` (by hand, or by code older than
    composing at once), for the sender to compose it from; the text and HTML of any other
    message are read back from `raw` (`OutboxMessage.text_body`, `html_body`).
    """

    __tablename__ = "outbox_bodies"

    outbox_id: Mapped[int] = mapped_column(sa.ForeignKey("outbox.id", ondelete="CASCADE"), primary_key=True)
    raw: Mapped[bytes | None] = mapped_column(sa.LargeBinary)
    text_body: Mapped[str | None] = mapped_column(sa.Text)
    html_body: Mapped[str | None] = mapped_column(sa.Text)


# A body goes with its message. PostgreSQL: the foreign key's ON DELETE CASCADE. SQLite does not
# enforce foreign keys (the app leaves them off), so a trigger does it there: without it a
# deleted message's body (the volunteer's address in it) would stay, and SQLite, which reuses the
# highest id, would give the next message that id. (Alembic's batch mode on SQLite copies `outbox`
# into a new table and loses its triggers: a migration that alters `outbox` there creates it again.)
SQLITE_CASCADE = sa.DDL(
    "CREATE TRIGGER outbox_bodies_follow_outbox AFTER DELETE ON outbox "
    "BEGIN DELETE FROM outbox_bodies WHERE outbox_id = OLD.id; END"
)
sa.event.listen(OutboxBody.__table__, "after_create", SQLITE_CASCADE.execute_if(dialect="sqlite"))

# PostgreSQL compresses a message's body (5.5 KiB for a reminder) when it is written. With pglz,
# its default, that was half the cost of writing the bodies (10,000 reminders by COPY: 6.3 s
# against 3.3 s with lz4, the same as storing them uncompressed, at 42 MB against pglz's 32 MB
# and 70 MB uncompressed: third pass in docs/reminders.md). lz4 when the server has it (PostgreSQL
# 14 and later, built with lz4); reading either kind back needs nothing.
LZ4_AVAILABLE = ("SELECT coalesce((SELECT 'lz4' = ANY(enumvals) FROM pg_settings "
                 "WHERE name = 'default_toast_compression'), false)")
BODY_COMPRESSION = sa.DDL("ALTER TABLE outbox_bodies ALTER COLUMN raw SET COMPRESSION lz4")


def lz4_available(bind: sa.Connection) -> bool:
    return bind.dialect.name == "postgresql" and bool(bind.scalar(sa.text(LZ4_AVAILABLE)))


sa.event.listen(OutboxBody.__table__, "after_create", BODY_COMPRESSION.execute_if(
    dialect="postgresql", callable_=lambda _ddl, _target, bind, **_kw: lz4_available(bind)))

# Read-only: a row's composed message, for a query (`select(OutboxMessage.raw)`); write it
# through `OutboxMessage.body`.
OutboxMessage.raw = column_property(
    sa.select(OutboxBody.raw).where(OutboxBody.outbox_id == OutboxMessage.id).correlate_except(OutboxBody)
    .scalar_subquery(), deferred=True,
)
