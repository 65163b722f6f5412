"""The sender's own MAIL FROM / RCPT TO / DATA (smtp.py) against a real relay.

smtp.py builds the envelope commands without parsing plain addresses and skips the
dot-stuffing regex when no line starts with a dot: these prove the bytes still arrive as
smtplib would deliver them, and that an address with a line break in it still reaches the relay as one address.
"""
from __future__ import annotations

from tracker.mail.smtp import SMTPConnection, SMTPSettings

RAW = (b"From: mail@tracker.test\r\nTo: v@example.org\r\nSubject: dots\r\n\r\n"
       b"first\r\n.\r\n..two dots\r\n.one dot\r\nlast\r\n")


def test_lines_starting_with_a_dot_arrive_intact(app, smtp_server):
    with SMTPConnection(SMTPSettings.from_config(app.config)) as smtp:
        smtp.send("Tracker <mail@tracker.test>", "v.x+1@example.org", RAW)
        # a message starting with a dot, and one not ending in a line break
        smtp.send("Tracker <mail@tracker.test>", "w@example.org", b".\r\nSubject: s\r\n\r\nbody")
    first, second = smtp_server.messages
    assert first.get_content().splitlines() == ["first", ".", "..two dots", ".one dot", "last"]
    assert second.get_payload().splitlines() == [".", "Subject: s", "", "body"]  # no header: all body
    assert smtp_server.envelopes == [("mail@tracker.test", ["v.x+1@example.org"]),
                                     ("mail@tracker.test", ["w@example.org"])]


def test_an_address_that_is_not_plain_goes_through_smtplib(app, smtp_server):
    with SMTPConnection(SMTPSettings.from_config(app.config)) as smtp:
        smtp.send("mail@tracker.test", "Volunteer <v@example.org>", RAW)
        # smtplib's quoteaddr keeps the address it can parse; nothing after the line break is a command
        smtp.send("mail@tracker.test", "w@example.org>\r\nRCPT TO:<evil@example.org", RAW)
    assert smtp_server.envelopes == [("mail@tracker.test", ["v@example.org"]), ("mail@tracker.test", ["w@example.org"])]
