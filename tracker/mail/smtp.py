"""Talking to the SMTP relay: one connection for a whole batch, and what its answers mean.

Everything about the wire lives here so the outbox logic stays about rows: which
errors are worth a retry (4xx, a dropped connection) and which are final (5xx).
"""
from __future__ import annotations

import logging
import smtplib
import ssl
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
