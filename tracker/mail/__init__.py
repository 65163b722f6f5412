"""Mail: every email the app sends (reminders, notices, invitations, password resets).

Features put their emails in the outbox (`outbox.enqueue_email`) in the transaction of
the change that causes them; the scheduler sends them (`sending.send_pending`). This
package knows nothing of hearings or accounts: `message` builds the bytes, `smtp` talks
to the relay, `claims` keeps two senders from sending one message, `addresses` is the
one rule for email addresses. `/dev/mail` (devmail) shows what `make run` caught.
"""
from __future__ import annotations

from flask import Flask

from tracker.mail import devmail, models  # noqa: F401  (models: tables known to Alembic)


def init_app(app: Flask) -> None:
    if app.config.get("DEV_MAIL_DIR"):
        app.register_blueprint(devmail.bp)

    @app.context_processor
    def mail_context() -> dict[str, object]:
        return {"dev_mail": bool(app.config.get("DEV_MAIL_DIR"))}
