"""Building messages: the text of an email from its templates, and the RFC 5322 bytes.

Every header is built here, so that nothing a user typed can break out of one
(`compose`); talking to the relay is smtp.py's job.
"""
from __future__ import annotations

import email.policy
import re
from dataclasses import dataclass
from datetime import datetime
from email import message_from_bytes
from email.charset import QP, Charset
from email.encoders import encode_base64
from email.header import Header
from email.mime.base import MIMEBase
from email.mime.multipart import MIMEMultipart
from email.mime.text import MIMEText
from email.policy import compat32
from email.utils import format_datetime, formataddr, parseaddr
from typing import Sequence

from flask import render_template

from tracker.edge import CONTROL_CHARACTERS


_UTF8_QP = Charset("utf-8")
_UTF8_QP.header_encoding = QP
_UTF8_QP.body_encoding = QP
# CRLF line ends for SMTP. Bodies are encoded for 76-column lines (quoted-printable,
# base64); headers may run to RFC 5322's hard limit rather than be folded oddly.
_WIRE = compat32.clone(linesep="\r\n", max_line_length=998)


class UnsafeHeader(ValueError):
    """An address, id or link for a header holds a line break or another control character."""


def _one_line(text: str) -> str:
    """Text for a header (the subject) on one line: each control character becomes a space.

    Text comes from what editors typed (a court's name is in reminders' subjects);
    a line break left in it would end the header and start another (Reply-To, say)
    or push the rest of the headers into the body.
    """
    return " ".join(CONTROL_CHARACTERS.sub(" ", text).split())


def _verbatim(value: str, what: str) -> str:
    """A value that must go into a header as it is (an address, a Message-ID, a link): refused if unsafe."""
    if CONTROL_CHARACTERS.search(value):
        raise UnsafeHeader(f"{what} holds a control character: {value!r}")
    return value


def _header(value: str) -> str | Header:
    value = _one_line(value)
    return value if value.isascii() else Header(value, _UTF8_QP)


# An address with no display name that parseaddr and formataddr give back unchanged (and with
# no control character): `_address` returns it as it is, without parsing it.
_PLAIN_ADDRESS = re.compile(r"[A-Za-z0-9_+-]+(?:\.[A-Za-z0-9_+-]+)*@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*")


def _address(value: str) -> str:
    if _PLAIN_ADDRESS.fullmatch(value):
        return value
    name, address = parseaddr(_verbatim(value, "an address"))
    if not address:
        raise UnsafeHeader(f"not an address: {value!r}")
    return formataddr((name, address), charset="utf-8") if name else address


def compose(
    *,
    message_id: str,
    sender: str,
    recipient: str,
    subject: str,
    text_body: str,
    html_body: str | None,
    date: datetime,
    unsubscribe_url: str | None = None,
    ics: bytes | Sequence[tuple[str, bytes]] | None = None,
) -> bytes:
    """The complete message as bytes, so a resend is identical to the first try.

    Every header is built so that no value can break out of it: the subject (text
    editors typed is in it) is put on one line; addresses, ids and links with a
    control character in them are refused (`UnsafeHeader`).

    Built with the classic `email.mime` classes: the policy-based `EmailMessage`
    API produces the same structure but takes about ten times as long, and the
    scheduler composes one message per volunteer.
    """
    text_part = MIMEText(text_body, "plain", _UTF8_QP)
    body: MIMEBase = text_part
    if html_body:
        body = MIMEMultipart("alternative", _subparts=[text_part, MIMEText(html_body, "html", _UTF8_QP)])
    if isinstance(ics, bytes):
        ics = [("hearing.ics", ics)]
    if ics:
        message: MIMEBase = MIMEMultipart("mixed", _subparts=[body])
        for filename, calendar in ics:
            part = MIMEBase("text", "calendar", method="PUBLISH", charset="utf-8")
            part.set_payload(calendar)
            encode_base64(part)
            part.add_header("Content-Disposition", "attachment", filename=filename)
            message.attach(part)
    else:
        message = body
    message["From"] = _address(sender)
    message["To"] = _address(recipient)
    message["Subject"] = _header(subject)
    message["Date"] = format_datetime(date)
    message["Message-ID"] = _verbatim(message_id, "a Message-ID")
    message["Auto-Submitted"] = "auto-generated"
    if unsubscribe_url:
        # RFC 8058: mail providers POST "List-Unsubscribe=One-Click" to this URL.
        message["List-Unsubscribe"] = f"<{_verbatim(unsubscribe_url, 'an unsubscribe link')}>"
        message["List-Unsubscribe-Post"] = "List-Unsubscribe=One-Click"
    return message.as_bytes(policy=_WIRE)


def read_part(raw: bytes, subtype: str) -> str | None:
    """The text ("plain") or "html" a composed message was made from, as `compose` was given it;
    None when it has no such part. The outbox keeps only the composed message."""
    found = message_from_bytes(raw, policy=email.policy.default).get_body(preferencelist=(subtype,))
    return None if found is None else found.get_content().replace("\r\n", "\n")


@dataclass
class Mail:
    """What an email says: its subject and its text, and the same as HTML when it has one."""

    subject: str
    text_body: str
    html_body: str | None = None


def render_mail(name: str, subject: str, **context: object) -> Mail:
    """The mail templates/mail/<name>.txt and .html make, with `subject` in their context too."""
    return Mail(
        subject,
        render_template(f"mail/{name}.txt", subject=subject, **context),
        render_template(f"mail/{name}.html", subject=subject, **context),
    )


# --- one message for many recipients ---------------------------------------------------------

_RECIPIENT_SLOT = "recipient-slot@slot.invalid"
_MESSAGE_ID_SLOT = "<message-id-slot@slot.invalid>"
_RECIPIENT_SLOT_BYTES, _MESSAGE_ID_SLOT_BYTES = _RECIPIENT_SLOT.encode(), _MESSAGE_ID_SLOT.encode()
_SOFT_BREAK = b"=\r\n"  # quoted-printable's soft line break: the encoder may put one anywhere in a slot


def _slot_pattern(slot: str) -> re.Pattern[bytes]:
    """`slot` as the encoded body holds it: a soft line break may fall between any two characters."""
    return re.compile(b"(?:=\r\n)?".join(re.escape(bytes([c])) for c in slot.encode("ascii")))


class MessageTemplate:
    """A message composed once for many recipients, personalised per recipient in bytes.

    A reminder of one hearing group says the same to every volunteer in one language but
    their address, Message-ID and links. Composing it (email.mime's generator) costs far
    more than the rest of recording it, so it is composed once with stand-ins (`slots`)
    and each copy is the template's bytes with the stand-ins replaced: `personalise`
    gives byte for byte what `compose` gives for that recipient (the MIME boundary aside).

    Body slots must be as long as the values put in them and made of characters
    quoted-printable leaves as they are, so the encoded lines keep their layout (a soft
    line break inside a slot is put back at the same place); `personalise` returns None
    for a value that does not fit, and the caller composes that one message in full.
    """

    def __init__(
        self, *, sender: str, subject: str, text_body: str, html_body: str | None, date: datetime,
        body_slots: Sequence[str] = (), unsubscribe_slot: str | None = None,
        ics: bytes | Sequence[tuple[str, bytes]] | None = None,
    ) -> None:
        raw = compose(message_id=_MESSAGE_ID_SLOT, sender=sender, recipient=_RECIPIENT_SLOT, subject=subject,
                      text_body=text_body, html_body=html_body, date=date, unsubscribe_url=unsubscribe_slot, ics=ics)
        head, _sep, body = raw.partition(b"\r\n\r\n")
        self.body_slots = tuple(body_slots)
        # the head: the three per-recipient values, each in its own header, unfolded (998 columns)
        self._head = head + b"\r\n\r\n"
        self._unsubscribe_slot = unsubscribe_slot
        self._unsubscribe_slot_bytes = unsubscribe_slot.encode() if unsubscribe_slot is not None else None
        # the body: static pieces and, between them, (slot index, offsets of soft breaks)
        pieces: list[bytes | tuple[int, tuple[int, ...]]] = []
        found = sorted(
            (match.start(), match.end(), index)
            for index, slot in enumerate(self.body_slots) for match in _slot_pattern(slot).finditer(body)
        )
        at = 0
        for start, end, index in found:
            pieces.append(body[at:start])
            breaks, offset = [], 0
            for chunk in body[start:end].split(_SOFT_BREAK)[:-1]:
                offset += len(chunk)
                breaks.append(offset)
            pieces.append((index, tuple(breaks)))
            at = end
        pieces.append(body[at:])
        self._pieces = pieces

    def personalise(self, *, recipient: str, message_id: str, values: Sequence[str] = (),
                    unsubscribe_url: str | None = None) -> bytes | None:
        """This recipient's copy, or None if a value cannot take its slot's place (compose it then)."""
        encoded = []
        for slot, value in zip(self.body_slots, values, strict=True):
            if len(value) != len(slot) or not _QP_LITERAL.fullmatch(value):
                return None
            encoded.append(value.encode("ascii"))
        head = self._head.replace(_RECIPIENT_SLOT_BYTES, _address(recipient).encode("ascii"), 1)
        head = head.replace(_MESSAGE_ID_SLOT_BYTES, _verbatim(message_id, "a Message-ID").encode("ascii"), 1)
        if self._unsubscribe_slot_bytes is not None:
            link = _verbatim(unsubscribe_url or "", "an unsubscribe link")
            head = head.replace(self._unsubscribe_slot_bytes, link.encode("ascii"), 1)
        out = [head]
        for piece in self._pieces:
            if isinstance(piece, bytes):
                out.append(piece)
                continue
            index, breaks = piece
            value, at = encoded[index], 0
            for cut in breaks:
                out.append(value[at:cut])
                out.append(_SOFT_BREAK)
                at = cut
            out.append(value[at:])
        return b"".join(out)


# What quoted-printable writes as it is (no "=", no space or control character): a link's characters.
_QP_LITERAL = re.compile(r"[!-<>-~]*")
