"""What the outbox page calls each message's state and kind, in the admin's language.

The outbox stores both as short English codes ("sent", "attendance_confirm"): stable values for
queries and logs, not words for a Russian admin. A kind this table does not know (one added
later) is shown as its code rather than failing the page; tests/admin check that every kind the
app writes has a label.
"""
from __future__ import annotations

from flask_babel import lazy_gettext as _l

from tracker.mail.models import OutboxStatus

STATUS_LABELS = {
    OutboxStatus.PENDING.value: _l("waiting to be sent"),
    OutboxStatus.SENDING.value: _l("being sent"),
    OutboxStatus.SENT.value: _l("sent"),
    OutboxStatus.FAILED.value: _l("failed"),
    OutboxStatus.MISSED.value: _l("too late to send"),
    OutboxStatus.SUPERSEDED.value: _l("no longer needed"),
}

KIND_LABELS = {
    "reminder": _l("court-date reminder"),
    "hearing_change": _l("hearing changed"),
    "digest": _l("weekly digest"),
    "subscription_confirm": _l("reminders: confirm the address"),
    "subscription_known": _l("reminders: already signed up"),
    "attendance_confirm": _l("going: confirm the address"),
    "attendance_known": _l("going: already signed up"),
    "attendance_message": _l("message to those going"),
    "transit_alert": _l("to editors: long in transit, destination unknown"),
    "deadline_alert": _l("to editors: a custody term ends soon"),
    "stale_facts": _l("to editors: weekly list of facts to check"),
    "invitation": _l("account invitation"),
    "password_reset": _l("password reset"),
}


def status_label(status: str) -> str:
    return str(STATUS_LABELS.get(status, status))


def kind_label(kind: str) -> str:
    return str(KIND_LABELS.get(kind, kind))
