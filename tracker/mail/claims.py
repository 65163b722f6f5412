"""Claims on outbox rows: which sender may send a message, and for how long.

A sender claims a few due messages at a time (status `sending`, its own claim token,
and a lease in `next_attempt_at`; on PostgreSQL `FOR UPDATE SKIP LOCKED`, so two
senders never claim the same row). A claim belongs to its sender until the sender
gives it back or the lease runs out:
- the sender renews its lease while it works, and never starts a message unless the
  renewal proved every claim it holds is still its own;
- "sent", "retry" and "give back" only touch rows that carry the sender's token (`OURS`),
  and the row count of "sent" is checked: a claim taken away stops the batch;
- a new leader takes back at once only the claims whose owner has provably stopped
  (`release_abandoned_claims`); a sender that is alive keeps its claims even if it
  lost the leader lock (it stops at its next claim and gives them back itself).
  Taking its claims would send them twice.
"""
from __future__ import annotations

import logging
import os
import secrets
from datetime import datetime, timedelta

import sqlalchemy as sa
from sqlalchemy.orm import Session

from typing import NamedTuple

from tracker.mail.models import OutboxBody, OutboxMessage, OutboxStatus

log = logging.getLogger(__name__)

CLAIM_CHUNK = 20  # messages claimed at once: one statement instead of one per message
# A claim's lease. Renewed while at most half of it is left, which is always longer than
# one message can take (a few SMTP_TIMEOUTs): a message is never started on a lease that
# could run out, and so could be taken back, before it is marked.
LEASE = timedelta(minutes=5)
RENEW_WHEN_LEFT = LEASE / 2

# Built once: these run for every message, and building a statement costs more than running it.
_DUE = (
    sa.select(OutboxMessage.id)
    .where(OutboxMessage.status == OutboxStatus.PENDING, OutboxMessage.next_attempt_at <= sa.bindparam("now"))
    .order_by(OutboxMessage.next_attempt_at, OutboxMessage.id)
    # Written into the statement, not a parameter: PostgreSQL's generic plan for a prepared claim
    # then knows it takes 20 rows (with "LIMIT $n" it planned for 100 and scanned all of `outbox`).
    .limit(sa.bindparam("chunk", type_=sa.Integer, literal_execute=True))
    .with_for_update(skip_locked=True)
    .scalar_subquery()
)
_CLAIM = (
    sa.update(OutboxMessage)
    .where(OutboxMessage.id.in_(_DUE))
    .values(status=OutboxStatus.SENDING, next_attempt_at=sa.bindparam("lease_until"),
            claim_token=sa.bindparam("token"))
    .returning(OutboxMessage.id, OutboxMessage.recipient, OutboxMessage.attempts, OutboxMessage.kind)
)
# The claimed messages' bodies (never updated): on PostgreSQL in the claim's own statement (the
# UPDATE as a CTE), one round trip per claim, sent by pgclaims.py; SQLite has no UPDATE in a CTE
# and no round trips to save, so it reads them after the claim, in its transaction.
_CLAIMED = _CLAIM.cte("claimed")
_CLAIM_WITH_BODIES = sa.select(  # one index probe per claimed row, whatever the planner thinks of the CTE
    _CLAIMED.c.id, _CLAIMED.c.recipient, _CLAIMED.c.attempts, _CLAIMED.c.kind,
    sa.select(OutboxBody.raw).where(OutboxBody.outbox_id == _CLAIMED.c.id).scalar_subquery(),
)
_BODIES = sa.select(OutboxBody.outbox_id, OutboxBody.raw).where(OutboxBody.outbox_id.in_(sa.bindparam("ids",
                                                                                                     expanding=True)))
# The sender's connection on PostgreSQL, for as long as it sends (`sender_settings`, then RESET):
# - "Sent" marks need not wait for the WAL to reach the disk: if the scheduler dies, PostgreSQL
#   still writes them (within ~0.6 s); only a crash of the database server itself could lose the
#   last few, and those are resent with the same Message-ID. It halves the cost of each message.
# - No sorting: the claim's plan comes from the outbox's statistics, and they are stale exactly
#   when a claim matters most. Right after a burst is written (10,000 reminders by COPY, before
#   autovacuum's ANALYZE), the planner expects a handful of pending rows, reads *all* of them
#   (a bitmap scan) and sorts them to keep 20: 1.3-1.6 ms more per claim at 5,000 pending, growing
#   with the backlog, on the sender's path. With sorting ruled out, the plan left is
#   `ix_outbox_due` read in order, stopping at the 20th unlocked row (fourth pass in
#   docs/reminders.md). Nothing else the sender runs needs a sort.
SENDER_SETTINGS = ("synchronous_commit", "off"), ("enable_sort", "off")
OURS = sa.and_(OutboxMessage.status == OutboxStatus.SENDING, OutboxMessage.claim_token == sa.bindparam("token"))
_RENEW = sa.update(OutboxMessage).where(OURS).values(next_attempt_at=sa.bindparam("lease_until"))

# --- who owns a claim ---------------------------------------------------------------------
#
# A claim token is "<pid>-<random>". Another process must be able to tell whether its
# owner is still running, without trusting the leader lock (whose connection can be cut
# while its holder lives):
# - PostgreSQL: the sender holds an advisory lock named after its token on the very
#   connection it claims and marks with, for as long as it sends. The lock goes when
#   that connection goes (the process died, or cannot reach the database to mark
#   anything either); if it can be taken, the owner has stopped.
# - SQLite (one machine, one scheduler): the owner is gone when its process is gone.
#   Within one process, a token is live while its `send_pending` runs.

CLAIM_LOCK_CLASS = 0x6F75_7462  # "outb": the first key of the two-key advisory locks on claims
LIVE_TOKENS: set[str] = set()


def new_claim_token() -> str:
    return f"{os.getpid()}-{secrets.token_hex(8)}"


def _claim_lock_key(token: str) -> int:
    """The second advisory-lock key (a signed 32-bit int) of a token."""
    return int(token.rsplit("-", 1)[-1][:8], 16) - 2**31


def hold_claim_lock(conn: sa.Connection, token: str) -> bool:
    if conn.dialect.name != "postgresql":
        return True
    with conn.begin():
        return bool(conn.scalar(sa.text("SELECT pg_try_advisory_lock(:c, :k)"),
                                {"c": CLAIM_LOCK_CLASS, "k": _claim_lock_key(token)}))


def sender_settings(conn: sa.Connection, on: bool) -> None:
    """Apply (`on`) or reset the sender's settings on its PostgreSQL connection (`SENDER_SETTINGS`)."""
    if conn.dialect.name != "postgresql":
        return
    for name, value in SENDER_SETTINGS:
        conn.exec_driver_sql(f"SET {name} TO {value}" if on else f"RESET {name}")
    conn.commit()


def drop_claim_lock(conn: sa.Connection, token: str) -> None:
    if conn.dialect.name == "postgresql":
        with conn.begin():
            conn.execute(sa.text("SELECT pg_advisory_unlock(:c, :k)"),
                         {"c": CLAIM_LOCK_CLASS, "k": _claim_lock_key(token)})


def _owner_stopped(session: Session, token: str) -> bool:
    """True only when the sender that claimed with `token` has provably stopped."""
    if session.get_bind().dialect.name == "postgresql":
        key = {"c": CLAIM_LOCK_CLASS, "k": _claim_lock_key(token)}
        if not session.scalar(sa.text("SELECT pg_try_advisory_xact_lock(:c, :k)"), key):
            return False  # its sending connection is alive and holds it
        return True  # released with this transaction
    pid_text = token.split("-", 1)[0]
    if not pid_text.isdigit():
        return False
    pid = int(pid_text)
    if pid == os.getpid():
        return token not in LIVE_TOKENS
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    except PermissionError:  # a process with that pid exists (perhaps another one): wait for the lease
        return False
    return False


class Claimed(NamedTuple):
    id: int
    recipient: str
    attempts: int
    kind: str
    raw: bytes | None  # None: a row written without its composed message (sending.py composes it)


def claim_chunk(conn: sa.Connection, now: datetime, size: int, token: str) -> list[Claimed]:
    """Claim up to `size` due messages for this sender, oldest first, and commit the claim.

    In a transaction, the way SQLite claims; on PostgreSQL the sender claims through
    `pgclaims.claim` (one statement outside a transaction, answered in binary), which builds on
    this module's statement and so is not called from here."""
    values = {"now": now, "chunk": size, "lease_until": now + LEASE, "token": token}
    with conn.begin():
        rows = conn.execute(_CLAIM, values).all()
        raws = dict(conn.execute(_BODIES, {"ids": [row.id for row in rows]}).all()) if rows else {}
        claimed = [Claimed(*row, raws.get(row.id)) for row in rows]
    return sorted(claimed, key=lambda message: message.id)


def renew(conn: sa.Connection, token: str, now: datetime, holding: int) -> bool:
    """Extend the lease of every claim we hold; False if any of them is no longer ours."""
    with conn.begin():
        renewed = conn.execute(_RENEW, {"token": token, "lease_until": now + LEASE}).rowcount
    if renewed != holding:
        log.error("%d of our %d claimed message(s) were taken back: stopping this batch", holding - renewed, holding)
        return False
    return True


def release(conn: sa.Connection, ids: list[int], now: datetime, token: str) -> None:
    """Give back claimed messages we did not try (stop, outage, lost lock): due again at once."""
    if ids:
        with conn.begin():
            conn.execute(
                sa.update(OutboxMessage)
                .where(OutboxMessage.id.in_(ids), OURS)
                .values(status=OutboxStatus.PENDING, next_attempt_at=now, claim_token=None),
                {"token": token},
            )


def expire_leases(session: Session | sa.Connection, now: datetime) -> int:
    result = session.execute(
        sa.update(OutboxMessage)
        .where(OutboxMessage.status == OutboxStatus.SENDING, OutboxMessage.next_attempt_at <= now)
        .values(status=OutboxStatus.PENDING, claim_token=None)
        .execution_options(synchronize_session=False)
    )
    return result.rowcount or 0


def release_abandoned_claims(session: Session, now: datetime) -> int:
    """Claims of senders that stopped are due again; a new leader calls this first.

    Only claims whose lease ran out or whose owner has provably stopped (see
    `_owner_stopped`). Becoming the leader does not prove the old leader is gone: a cut
    connection frees the leader lock while its holder lives and sends.
    """
    released = expire_leases(session, now)
    tokens = session.scalars(
        sa.select(OutboxMessage.claim_token).distinct()
        .where(OutboxMessage.status == OutboxStatus.SENDING, OutboxMessage.claim_token.is_not(None))
    ).all()
    for token in tokens:
        if _owner_stopped(session, token):
            released += session.execute(
                sa.update(OutboxMessage)
                .where(OutboxMessage.status == OutboxStatus.SENDING, OutboxMessage.claim_token == token)
                .values(status=OutboxStatus.PENDING, next_attempt_at=now, claim_token=None)
                .execution_options(synchronize_session=False)
            ).rowcount or 0
    if released:
        log.warning("%d message(s) claimed by a sender that stopped are due again", released)
    return released
