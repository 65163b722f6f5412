"""The admins' outbox page speaks the admin's language: states and kinds of mail as words, not the
codes the outbox stores ("sent: 8", "attendance_confirm" on a Russian page, found walking the demo)."""
from __future__ import annotations

import re
from pathlib import Path

from tests.auth.support import log_in, new_client
from tracker.admin.outbox_labels import KIND_LABELS, STATUS_LABELS
from tracker.extensions import db
from tracker.mail.models import OutboxStatus
from tracker.mail.outbox import enqueue_email
from tracker.mail.sending import send_pending

TRACKER = Path(__file__).resolve().parents[2] / "tracker"
WRITES_MAIL = re.compile(r"\b(enqueue_email|mail_subscriber|_mail_link)\(|OutboxMessage\(")
KIND_SET = re.compile(r'\bkind(?:, \w+)?\s*=\s*("[a-z_]+"(?:\s+if\s+[\w.]+\s+else\s+"[a-z_]+")?)')


def kinds_written() -> set[str]:
    """Every kind of mail the app's code records (the literal kinds next to a call that writes mail)."""
    kinds: set[str] = set()
    for path in TRACKER.rglob("*.py"):
        text = path.read_text(encoding="utf-8")
        if WRITES_MAIL.search(text):
            for match in KIND_SET.finditer(text):
                kinds.update(re.findall(r'"([a-z_]+)"', match.group(1)))
    return kinds


def test_every_kind_and_state_of_mail_has_a_label():
    written = kinds_written()
    assert {"reminder", "hearing_change", "invitation", "attendance_confirm"} <= written  # the scan finds them
    assert written - set(KIND_LABELS) == set()
    assert {status.value for status in OutboxStatus} == set(STATUS_LABELS)


def test_the_outbox_page_names_states_and_kinds_in_the_admins_language(app, now, smtp_server, admin):
    addresses = [f"person{i}@example.org" for i in range(2)]
    for i, address in enumerate(addresses):
        enqueue_email(db.session, dedupe_key=f"reminder:{i}", kind="reminder", recipient=address,
                      subject=f"Message {i}", text_body="Hello", now=now)
    db.session.commit()
    smtp_server.refuse[addresses[0]] = "550 5.1.1 No such user"
    send_pending(db.session, now)
    for language, words in (
        ("ru", ["отправлено: 1", "не доставлено: 1", "напоминание о заседании"]),
        ("en", ["sent: 1", "failed: 1", "court-date reminder"]),
    ):
        client = new_client(app)
        client.environ_base["HTTP_ACCEPT_LANGUAGE"] = language
        assert log_in(client, admin.email).status_code == 302
        page = client.get("/reminders/admin/outbox").text
        for word in words:
            assert word in page, (language, word)
        assert ">reminder<" not in page
        if language == "ru":
            assert "sent: " not in page and "failed: " not in page
