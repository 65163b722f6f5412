"""A message composed once for many recipients is, for each, the message composed for them alone."""
from __future__ import annotations

import re

import pytest

from tracker.mail.message import MessageTemplate, compose

BOUNDARY = re.compile(rb"===============\d+==")
SLOT = "https://tracker.test/reminders/manage/" + "~" * 32


def _same(a: bytes, b: bytes) -> bool:
    return BOUNDARY.sub(b"B", a) == BOUNDARY.sub(b"B", b)


@pytest.mark.parametrize("text", [
    "Short.\n\nChange: {url}\n",
    # the link far along a long line: quoted-printable breaks it, and the copy must break it the same way
    "Завтра 11:00: заседание — М. Лузянин, Мосгорсуд. " * 3 + "Изменить подписку или отписаться: {url} и ещё {url}\n",
    "x" * 70 + "{url}\n",
])
def test_each_copy_is_the_message_composed_for_that_recipient(app, now, text):
    html = "<p>" + text.replace("{url}", '<a href="{url}">link</a>') + "</p>"
    ics = [("hearing.ics", b"BEGIN:VCALENDAR\r\nEND:VCALENDAR\r\n")]
    template = MessageTemplate(sender="Tracker <mail@tracker.test>", subject="Завтра 11:00: заседание", date=now,
                               text_body=text.format(url=SLOT), html_body=html.format(url=SLOT), body_slots=[SLOT],
                               unsubscribe_slot="https://slot.invalid/u", ics=ics)
    for n, token in enumerate(["A" * 32, "abc-_9" + "Z" * 26]):
        url = "https://tracker.test/reminders/manage/" + token
        recipient, message_id = f"volunteer{n}@example.org", f"<{n}.x@tracker.test>"
        copy = template.personalise(recipient=recipient, message_id=message_id, values=[url],
                                    unsubscribe_url=f"https://tracker.test/reminders/unsubscribe/{token}")
        alone = compose(message_id=message_id, sender="Tracker <mail@tracker.test>", recipient=recipient,
                        subject="Завтра 11:00: заседание", text_body=text.format(url=url),
                        html_body=html.format(url=url), date=now,
                        unsubscribe_url=f"https://tracker.test/reminders/unsubscribe/{token}", ics=ics)
        assert _same(copy, alone)


def test_a_value_that_does_not_fit_its_slot_is_refused(app, now):
    template = MessageTemplate(sender="mail@tracker.test", subject="s", date=now, text_body=f"go: {SLOT}\n",
                               html_body=None, body_slots=[SLOT])
    assert template.personalise(recipient="v@example.org", message_id="<1@t>", values=["https://short"]) is None
    assert template.personalise(recipient="v@example.org", message_id="<1@t>",
                                values=["https://tracker.test/reminders/manage/" + "=" * 32]) is None
