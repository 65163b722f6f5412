"""Talking to the SMTP relay: one connection for a whole batch, and what its answers mean.

Everything about the wire lives here so the outbox logic stays about rows: which
errors are worth a retry (4xx, a dropped connection) and which are final (5xx).
"""
from __future__ import annotations

import logging
import re
import smtplib
import ssl
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from email.utils import parseaddr
from urllib.parse import urlsplit

log = logging.getLogger(__name__)

_DOT_LINE = re.compile(rb"(?m)^\.")  # smtplib's _quote_periods


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


# An address smtplib's `quoteaddr` (email.utils.parseaddr) gives back unchanged: dot-separated
# atoms of letters, digits and a few symbols, one "@". Such an address is quoted without
# parsing it (parseaddr costs more than a round trip's worth of our own work); any other goes
# through smtplib.
_SIMPLE_ADDRESS = re.compile(r"[A-Za-z0-9_+-]+(?:\.[A-Za-z0-9_+-]+)*@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*")


def _path(address: str) -> str:
    """The address as SMTP's MAIL FROM and RCPT TO take it (`<...>`), as smtplib quotes it."""
    return f"<{address}>" if _SIMPLE_ADDRESS.fullmatch(address) else smtplib.quoteaddr(address)


def _decode(text: bytes | str) -> str:
    return text.decode("utf-8", "replace") if isinstance(text, bytes) else str(text)


class SMTPConnection:
    """One connection reused for a whole batch, opened on first use."""

    def __init__(self, settings: SMTPSettings) -> None:
        self.settings = settings
        self._smtp: smtplib.SMTP | None = None
        self._envelope_from: dict[str, str] = {}
        self._mail_from: dict[str, str] = {}  # envelope sender -> "FROM:<...>", once per connection
        self._size = False

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
        self.envelope(sender, recipient, len(raw))
        self.data(raw)

    def envelope(self, sender: str, recipient: str, size: int,
                 meanwhile: Callable[[], None] | None = None) -> None:
        """MAIL FROM and RCPT TO of one message: nothing is delivered until `data`.

        Split from `data` so the sender can write the previous message's "sent" mark while
        these two round trips go on (`meanwhile`, called once MAIL FROM is written and before
        its answer is read: the relay and the database work at the same time; it must not
        raise), and still learn the mark's fate before the relay takes this message (`data`),
        or give it up (`abandon`) if the mark failed. The errors are those of
        `smtplib.sendmail`, mapped as `send` maps them.
        """
        if not recipient.isascii():
            # non-ASCII before the @ needs SMTPUTF8, which we do not use (sign-up refuses such addresses)
            raise Refused(553, f"address cannot be sent to without SMTPUTF8: {recipient!r}")
        if self._smtp is None:
            self._smtp = self._open()
            self._mail_from = {}
        envelope_from = self._envelope_from.get(sender)
        if envelope_from is None:
            envelope_from = self._envelope_from[sender] = parseaddr(sender)[1] or sender
        with self._wire(recipient):
            smtp = self._smtp
            if self._mail_from.get(envelope_from) is None:
                smtp.ehlo_or_helo_if_needed()
                self._size = smtp.does_esmtp and smtp.has_extn("size")
                self._mail_from[envelope_from] = f"FROM:{_path(envelope_from)}"
            # smtplib's mail() and rcpt(), the addresses quoted without parsing them when they are
            # plain; putcmd still refuses a line break in a command
            command = self._mail_from[envelope_from]
            smtp.putcmd("mail", f"{command} size={size}" if self._size else command)
            if meanwhile is not None:
                meanwhile()
            code, text = smtp.getreply()
            if code != 250:
                if code == 421:
                    smtp.close()
                else:
                    smtp._rset()  # noqa: SLF001  (what sendmail does)
                raise smtplib.SMTPSenderRefused(code, text, envelope_from)
            smtp.putcmd("rcpt", f"TO:{_path(recipient)}")
            code, text = smtp.getreply()
            if code not in (250, 251):
                if code == 421:
                    smtp.close()
                else:
                    smtp._rset()  # noqa: SLF001
                raise smtplib.SMTPRecipientsRefused({recipient: (code, text)})

    def data(self, raw: bytes) -> None:
        """DATA of the message whose `envelope` was accepted: "250" means the relay has it.

        smtplib's data(), but the dot-stuffing regex runs only when a line starts with a dot
        (composed messages have none: quoted-printable and base64 lines never start with one
        unless the text does) and the terminator is added in one copy.
        """
        with self._wire(None):
            smtp = self._smtp
            smtp.putcmd("data")
            code, text = smtp.getreply()
            if code != 354:  # as smtplib's data(): nothing of the message was sent
                raise smtplib.SMTPDataError(code, text)
            if raw.startswith(b".") or b"\n." in raw:
                raw = _DOT_LINE.sub(b"..", raw)
            smtp.send(b"".join((raw, b".\r\n" if raw.endswith(b"\r\n") else b"\r\n.\r\n")))
            code, text = smtp.getreply()
            if code != 250:
                if code == 421:
                    smtp.close()
                else:
                    smtp._rset()  # noqa: SLF001
                raise smtplib.SMTPDataError(code, text)

    def abandon(self) -> None:
        """Give up a message whose envelope was sent (RSET): the relay delivers nothing of it."""
        if self._smtp is not None:
            with self._wire(None):
                self._smtp.rset()

    @contextmanager
    def _wire(self, recipient: str | None) -> Iterator[None]:
        """smtplib's exceptions as Refused (this message) or ConnectionProblem (the relay)."""
        try:
            yield
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

    def close(self) -> None:
        if self._smtp is not None:
            try:
                self._smtp.quit()
            except (OSError, smtplib.SMTPException):
                self._smtp.close()
            self._smtp = None
