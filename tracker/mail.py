"""The one SMTP sender: composing an RFC 5322 message and talking to the relay.

Everything about the wire lives here so the outbox logic stays about rows: which
errors are worth a retry (4xx, a dropped connection) and which are final (5xx).
"""
from __future__ import annotations

import logging
import smtplib
import ssl
from dataclasses import dataclass
from typing import Sequence
from datetime import datetime
from email.charset import QP, Charset
from email.encoders import encode_base64
from email.header import Header
from email.mime.base import MIMEBase
from email.mime.multipart import MIMEMultipart
from email.mime.text import MIMEText
from email.policy import compat32
from email.utils import format_datetime, formataddr, parseaddr
from urllib.parse import urlsplit

from tracker.edge import CONTROL_CHARACTERS

log = logging.getLogger(__name__)


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


def _address(value: str) -> str:
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


class ConnectionProblem(Exception):
    """The relay cannot be reached or dropped us: nothing is wrong with the message."""


class Refused(Exception):
    """The relay refused this message or recipient with an SMTP code."""

    def __init__(self, code: int, text: str) -> None:
        super().__init__(f"{code} {text}")
        self.code = code
        self.text = text

    @property
    def permanent(self) -> bool:
        return self.code >= 500


@dataclass
class SMTPSettings:
    host: str
    port: int
    user: str = ""
    password: str = ""
    starttls: bool = False
    timeout: float = 30.0
    helo_name: str | None = None

    @classmethod
    def from_config(cls, config) -> SMTPSettings:  # noqa: ANN001
        return cls(
            host=config["SMTP_HOST"], port=int(config["SMTP_PORT"]), user=config["SMTP_USER"],
            password=config["SMTP_PASSWORD"], starttls=bool(config["SMTP_STARTTLS"]),
            timeout=float(config["SMTP_TIMEOUT"]),
            # our own name in EHLO: never the machine's host name (and no slow DNS lookup)
            helo_name=urlsplit(config["BASE_URL"]).hostname or "localhost",
        )


def _decode(text: bytes | str) -> str:
    return text.decode("utf-8", "replace") if isinstance(text, bytes) else str(text)


class SMTPConnection:
    """One connection reused for a whole batch, opened on first use."""

    def __init__(self, settings: SMTPSettings) -> None:
        self.settings = settings
        self._smtp: smtplib.SMTP | None = None
        self._envelope_from: dict[str, str] = {}

    def __enter__(self) -> SMTPConnection:
        return self

    def __exit__(self, *exc) -> None:  # noqa: ANN002
        self.close()

    def _open(self) -> smtplib.SMTP:
        s = self.settings
        try:
            smtp = smtplib.SMTP(s.host, s.port, timeout=s.timeout, local_hostname=s.helo_name)
            if s.starttls:
                smtp.starttls(context=ssl.create_default_context())
            if s.user:
                smtp.login(s.user, s.password)
        except (OSError, smtplib.SMTPException) as error:
            raise ConnectionProblem(f"cannot connect to {s.host}:{s.port}: {error}") from error
        log.info("connected to SMTP %s:%s", s.host, s.port)
        return smtp

    def send(self, sender: str, recipient: str, raw: bytes) -> None:
        """Send one message to one recipient; raise Refused or ConnectionProblem."""
        if not recipient.isascii():
            # non-ASCII before the @ needs SMTPUTF8, which we do not use (sign-up refuses such addresses)
            raise Refused(553, f"address cannot be sent to without SMTPUTF8: {recipient!r}")
        if self._smtp is None:
            self._smtp = self._open()
        envelope_from = self._envelope_from.get(sender)
        if envelope_from is None:
            envelope_from = self._envelope_from[sender] = parseaddr(sender)[1] or sender
        try:
            refused = self._smtp.sendmail(envelope_from, [recipient], raw)
        except smtplib.SMTPRecipientsRefused as error:
            code, text = error.recipients.get(recipient, next(iter(error.recipients.values())))
            raise Refused(code, _decode(text)) from error
        except (smtplib.SMTPSenderRefused, smtplib.SMTPDataError) as error:
            raise Refused(error.smtp_code, _decode(error.smtp_error)) from error
        except smtplib.SMTPResponseException as error:
            if error.smtp_code in (421,):  # the server is closing the connection
                self.close()
                raise ConnectionProblem(f"{error.smtp_code} {_decode(error.smtp_error)}") from error
            raise Refused(error.smtp_code, _decode(error.smtp_error)) from error
        except (OSError, smtplib.SMTPException) as error:
            self.close()
            raise ConnectionProblem(str(error) or type(error).__name__) from error
        if refused:  # only some recipients refused: with one recipient, that one
            code, text = refused.get(recipient, next(iter(refused.values())))
            raise Refused(code, _decode(text))

    def close(self) -> None:
        if self._smtp is not None:
            try:
                self._smtp.quit()
            except (OSError, smtplib.SMTPException):
                self._smtp.close()
            self._smtp = None
