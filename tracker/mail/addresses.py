"""Email addresses as the app stores and compares them: one rule for accounts and volunteers."""
from __future__ import annotations

from email_validator import EmailNotValidError, validate_email


class InvalidEmail(ValueError):
    """The address cannot receive mail; the message says why, for the form."""


def normalise_email(raw: str) -> str:
    """The address as stored and compared: checked, its domain in ASCII, all lower-case.

    ASCII before the @ (mail relays rarely speak SMTPUTF8); an internationalised domain
    is kept in its ASCII (punycode) form, which every relay accepts. Lower-case as a
    whole, because no mail provider tells "Ann@" from "ann@": one person, one account
    and one sign-up per scope, and accounts made before this rule (stored lower-cased)
    are found as they were.
    """
    try:
        found = validate_email(raw.strip(), check_deliverability=False, allow_smtputf8=False)
    except EmailNotValidError as error:
        raise InvalidEmail(str(error)) from None
    return found.ascii_email.lower()
