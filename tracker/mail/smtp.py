"""Talking to the SMTP relay: one connection for a whole batch, and what its answers mean.

Everything about the wire lives here so the outbox logic stays about rows: which
errors are worth a retry (4xx, a dropped connection) and which are final (5xx).
"""
from __future__ import annotations

import logging
import smtplib
import ssl
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from email.utils import parseaddr
from urllib.parse import urlsplit

log = logging.getLogger(__name__)


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
        self.envelope(sender, recipient, len(raw))
        self.data(raw)

    def envelope(self, sender: str, recipient: str, size: int) -> None:
        """MAIL FROM and RCPT TO of one message: nothing is delivered until `data`.

        Split from `data` so the sender can finish writing the previous message's "sent"
        mark while these two round trips go on, and still learn the mark's fate before
        the relay takes this message (`data`), or give it up (`abandon`) if the mark
        failed. The errors are those of `smtplib.sendmail`, mapped as `send` maps them.
        """
        if not recipient.isascii():
            # non-ASCII before the @ needs SMTPUTF8, which we do not use (sign-up refuses such addresses)
            raise Refused(553, f"address cannot be sent to without SMTPUTF8: {recipient!r}")
        if self._smtp is None:
            self._smtp = self._open()
        envelope_from = self._envelope_from.get(sender)
        if envelope_from is None:
            envelope_from = self._envelope_from[sender] = parseaddr(sender)[1] or sender
        with self._wire(recipient):
            smtp = self._smtp
            smtp.ehlo_or_helo_if_needed()
            options = [f"size={size}"] if smtp.does_esmtp and smtp.has_extn("size") else []
            code, text = smtp.mail(envelope_from, options)
            if code != 250:
                if code == 421:
                    smtp.close()
                else:
                    smtp._rset()  # noqa: SLF001  (what sendmail does)
                raise smtplib.SMTPSenderRefused(code, text, envelope_from)
            code, text = smtp.rcpt(recipient)
            if code not in (250, 251):
                if code == 421:
                    smtp.close()
                else:
                    smtp._rset()  # noqa: SLF001
                raise smtplib.SMTPRecipientsRefused({recipient: (code, text)})

    def data(self, raw: bytes) -> None:
        """DATA of the message whose `envelope` was accepted: "250" means the relay has it."""
        with self._wire(None):
            code, text = self._smtp.data(raw)
            if code != 250:
                if code == 421:
                    self._smtp.close()
                else:
                    self._smtp._rset()  # noqa: SLF001
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
