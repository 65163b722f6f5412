"""The sender: one connection per batch, retries with backoff, refusals per recipient, give-up."""
from __future__ import annotations

from datetime import timedelta

import pytest
import sqlalchemy as sa

from tests.auth.support import csrf_token, new_client, post_form
from tests.conftest import free_port
from tests.reminders.helpers import minutes, outbox
from tracker.extensions import db, utcnow
from tracker.reminders.due import enqueue_due
from tracker.mail.models import OutboxStatus
from tracker.mail.outbox import enqueue_email
from tracker.mail.sending import backoff, send_pending


def queue(n: int, now, kind: str = "test") -> list[str]:
    recipients = [f"person{i}@example.org" for i in range(n)]
    for i, address in enumerate(recipients):
        enqueue_email(db.session, dedupe_key=f"{kind}:{i}", kind=kind, recipient=address,
                      subject=f"Message {i}", text_body="Hello", now=now)
    db.session.commit()
    return recipients


def test_smtp_down_then_back_every_message_arrives_once(app, now, smtp_server, make_hearing, make_subscription):
    hearing = make_hearing(starts_at=now + timedelta(hours=10))
    volunteers = [make_subscription(leads=(1440,)) for _ in range(5)]
    enqueue_due(db.session, now)
    db.session.commit()
    invitation = queue(1, now, kind="invitation")[0]  # other kinds go through the same sender

    real_port = app.config["SMTP_PORT"]
    app.config["SMTP_PORT"] = free_port()  # nothing listens there: the relay is down
    clock = now
    for _ in range(4):  # an outage of a few minutes
        report = send_pending(db.session, clock)
        assert report.sent == 0
        clock += minutes(1)
    pending = outbox(status=OutboxStatus.PENDING)
    assert len(pending) == 6
    assert all(m.attempts >= 1 and "SMTP unavailable" in m.last_error for m in pending)
    assert smtp_server.messages == []

    app.config["SMTP_PORT"] = real_port  # back
    clock += timedelta(minutes=30)
    for _ in range(3):
        send_pending(db.session, clock)
        clock += minutes(1)
    for volunteer in volunteers:
        assert len(smtp_server.received_by(volunteer.email)) == 1
    assert len(smtp_server.received_by(invitation)) == 1
    assert all(m.status is OutboxStatus.SENT for m in outbox())
    assert hearing.starts_at > clock


def test_one_connection_per_batch(now, smtp_server, monkeypatch):
    import smtplib

    opened = []
    original = smtplib.SMTP.connect

    def counting_connect(self, *args, **kwargs):  # noqa: ANN001, ANN002, ANN003
        opened.append(args)
        return original(self, *args, **kwargs)

    monkeypatch.setattr(smtplib.SMTP, "connect", counting_connect)
    queue(20, now)
    assert send_pending(db.session, now).sent == 20
    assert len(opened) == 1
    assert len(smtp_server.messages) == 20


def test_refused_recipients_only_those(app, now, smtp_server):
    recipients = queue(4, now)
    smtp_server.refuse[recipients[1]] = "450 4.2.1 Mailbox busy, try later"
    smtp_server.refuse[recipients[2]] = "550 5.1.1 No such user"
    report = send_pending(db.session, now)
    assert (report.sent, report.retried, report.failed) == (2, 1, 1)
    by_recipient = {m.recipient: m for m in outbox()}
    assert by_recipient[recipients[0]].status is OutboxStatus.SENT
    assert by_recipient[recipients[3]].status is OutboxStatus.SENT
    busy = by_recipient[recipients[1]]
    assert busy.status is OutboxStatus.PENDING and busy.attempts == 1
    assert busy.next_attempt_at == now + timedelta(seconds=app.config["MAIL_RETRY_BASE_SECONDS"])
    assert "450" in busy.last_error
    gone = by_recipient[recipients[2]]
    assert gone.status is OutboxStatus.FAILED and "550" in gone.last_error

    # the mailbox frees up: the retry goes through once its time comes, not before
    del smtp_server.refuse[recipients[1]]
    assert send_pending(db.session, now + timedelta(seconds=30)).sent == 0
    assert send_pending(db.session, busy.next_attempt_at).sent == 1
    assert len(smtp_server.received_by(recipients[1])) == 1
    assert smtp_server.received_by(recipients[2]) == []


def test_exponential_backoff_then_give_up(app, now, smtp_server):
    [address] = queue(1, now)
    smtp_server.refuse[address] = "451 4.3.0 Temporary failure"
    clock = now
    waits = []
    for attempt in range(1, app.config["MAIL_MAX_ATTEMPTS"] + 1):
        report = send_pending(db.session, clock)
        [message] = outbox()
        assert message.attempts == attempt
        if message.status is OutboxStatus.FAILED:
            break
        waits.append(message.next_attempt_at - clock)
        clock = message.next_attempt_at
    assert report.failed == 1
    assert message.status is OutboxStatus.FAILED and message.attempts == app.config["MAIL_MAX_ATTEMPTS"]
    base = app.config["MAIL_RETRY_BASE_SECONDS"]
    assert waits == [timedelta(seconds=base * 2**i) for i in range(len(waits))]
    assert backoff(30, base) == timedelta(hours=6)


def test_admins_see_failed_deliveries_and_can_send_again(app, now, smtp_server, admin_client):
    [address] = queue(1, now)
    smtp_server.refuse[address] = "550 5.1.1 No such user"
    send_pending(db.session, now)
    page = admin_client.get("/reminders/admin/outbox")
    assert page.status_code == 200
    assert address in page.text and "550 5.1.1 No such user" in page.text
    [message] = outbox()
    del smtp_server.refuse[address]
    token = csrf_token(admin_client, "/reminders/admin/outbox")
    response = admin_client.post(f"/reminders/admin/outbox/{message.id}/retry", data={"csrf_token": token})
    assert response.status_code == 302
    db.session.expire_all()
    assert outbox()[0].status is OutboxStatus.PENDING and outbox()[0].attempts == 0
    # the view read the clock: the message is due from the moment the admin pressed the button
    assert send_pending(db.session, utcnow() + minutes(1)).sent == 1
    assert len(smtp_server.received_by(address)) == 1
    assert admin_client.post("/reminders/admin/outbox/999999/retry", data={"csrf_token": token}).status_code == 404


def test_admins_edit_the_practical_notes(admin_client):
    response = post_form(admin_client, "/reminders/admin/notes", {"notes": "Bring your passport."})
    assert response.status_code == 302
    assert "Bring your passport." in admin_client.get("/reminders/admin/notes").text
    assert post_form(admin_client, "/reminders/admin/notes", {"notes": "x" * 6000}).status_code == 400


def test_editors_and_strangers_may_not_see_the_outbox(app, editor_client):
    assert new_client(app).get("/reminders/admin/outbox").status_code == 302  # to the login page
    assert editor_client.get("/reminders/admin/outbox").status_code == 403
    assert editor_client.get("/reminders/admin/notes").status_code == 403


def test_a_claim_reads_the_due_index_in_order_however_stale_the_statistics(app, now, is_postgres):
    """Planned from statistics that know nothing of a burst of reminders (never analyzed, as after a
    restore or pg_upgrade, or written since the last ANALYZE), a claim read every pending row and sorted
    them all to keep 20 (1.3-1.6 ms more per claim at 5,000 pending: fourth pass in
    docs/reminders.md). On the sender's connection the only plan is the due index, read in order."""
    if not is_postgres:
        pytest.skip("SQLite has one plan for the claim")
    import json

    from tracker.mail.claims import _CLAIM_WITH_BODIES, LEASE, SENDER_SETTINGS
    from tracker.mail.models import OutboxMessage

    claim = _CLAIM_WITH_BODIES.params(now=now, chunk=20, lease_until=now + LEASE, token="1-00000000")
    sql = str(claim.compile(dialect=db.engine.dialect, compile_kwargs={"literal_binds": True}))
    rows = [dict(id=i, dedupe_key=f"reminder:{i}:60:1v1", kind="reminder", recipient=f"volunteer{i}@example.org",
                 subject="Напоминание: заседание по делу Максима Лузянина, Московский городской суд, 11:00",
                 message_id=f"<{i}.reminder.0123456789abcdef@tracker.example.org>", status="pending", attempts=0,
                 next_attempt_at=now, created_at=now, last_error="") for i in range(10_000)]
    with db.engine.connect() as conn:
        # A burst of reminders in an outbox never analyzed (or not since the burst): a copy of the outbox,
        # which the claim's unqualified `outbox` names in this session (temporary tables come first).
        conn.exec_driver_sql("CREATE TEMPORARY TABLE outbox (LIKE public.outbox INCLUDING ALL) ON COMMIT DROP")
        conn.execute(OutboxMessage.__table__.insert(), rows)
        plans = []
        for on in (False, True):
            for name, value in SENDER_SETTINGS:  # as `sender_settings` makes them, for this transaction
                conn.exec_driver_sql(f"SET LOCAL {name} TO {value if on else 'DEFAULT'}")
            plans.append(json.dumps(conn.exec_driver_sql(f"EXPLAIN (FORMAT JSON) {sql}").scalar()))
        conn.rollback()
    stale, sender = plans
    assert '"Node Type": "Sort"' in stale  # what a claim did before: if not, this test shows nothing
    due_index = '"Index Name": "outbox_status_next_attempt_at_id_idx"'  # the copy's ix_outbox_due
    assert f'"Node Type": "Index Scan", {due_index}' not in stale.replace('"Parent Relationship": "Outer", ', '')
    assert '"Node Type": "Sort"' not in sender and "Bitmap" not in sender and "Seq Scan" not in sender
    assert due_index in sender


def test_a_claim_is_committed_alone_and_leaves_the_connection_transactional(now, is_postgres):
    """On PostgreSQL a claim is one statement sent outside a transaction (one round trip, not BEGIN,
    the claim and COMMIT); the connection must come back to transactions for what follows it (a
    refused message's record, the outage's back-off: several statements that stand or fall together)."""
    if not is_postgres:
        pytest.skip("SQLite claims in a transaction: it has no round trips to save")
    from tracker.mail.claims import new_claim_token
    from tracker.mail.pgclaims import claim
    from tracker.mail.models import OutboxMessage

    queue(3, now)
    with db.engine.connect() as conn:
        claimed = claim(conn, now, 20, new_claim_token())
        assert len(claimed) == 3 and all(message.raw for message in claimed)
        assert not conn.connection.driver_connection.autocommit
        with db.engine.connect() as other:  # committed: another connection sees the claims
            assert other.scalar(sa.select(sa.func.count()).where(OutboxMessage.status == OutboxStatus.SENDING)) == 3
        conn.execute(sa.update(OutboxMessage).values(last_error="undone"))
        conn.rollback()
    assert not db.session.scalar(sa.select(sa.func.count()).where(OutboxMessage.last_error == "undone"))
