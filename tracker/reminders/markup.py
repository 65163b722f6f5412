"""The reminders' sign-up form (and the manage page's choices) written in Python.

The form is on most public pages (home, case, defendant, hearings). As Jinja macros it cost
~12% of a defendant's page: five macro calls, a `_()` per text, WTForms' `html_params` for the
token, the return path and the email field. This writes the same HTML in one pass from the
bound form, errors included, so the blank form on a page and the form sent back with errors on
/reminders/signup are one code path. The CSRF token is the form's own (`PublicForm`: signed for
the time window, no session); `tests/reminders/test_signup_markup.py` holds the inputs to what
WTForms writes for them.
"""
from __future__ import annotations

from typing import Any

from flask import url_for
from markupsafe import Markup, escape

from tracker.i18n import catalogue, lazy_text


def field_errors(field: Any) -> Markup:
    """Each error of `field`, tied to it by id (aria-describedby points there)."""
    return Markup("".join(f'<p class="field-error" id="{escape(field.id)}-error" role="alert">{escape(error)}</p>'
                          for error in field.errors))


def _invalid(field: Any) -> dict[str, str]:
    return {"aria-invalid": "true", "aria-describedby": f"{field.id}-error"} if field.errors else {}


def options(field: Any) -> Markup:
    """A radio or checkbox group: a legend, the errors, each option's label wrapping its control."""
    attrs = _invalid(field)
    items = "".join(f"<label>{option(**attrs)} {escape(lazy_text(option.label.text))}</label>\n  " for option in field)
    return Markup(f'\n<fieldset class="choices{" has-error" if field.errors else ""}">\n'
                  f"  <legend>{escape(lazy_text(field.label.text))}</legend>\n  {field_errors(field)}\n  {items}\n</fieldset>\n")


def choices(form: Any) -> Markup:
    """How and when to be reminded (the sign-up and the manage page)."""
    return Markup(f"{options(form.mode)}\n{options(form.leads)}")


def _hidden(field: Any) -> str:
    return (f'<input id="{escape(field.id)}" name="{escape(field.name)}" type="hidden" '
            f'value="{escape(field._value())}">')  # noqa: SLF001 (what WTForms' HiddenInput writes)


def email_input(field: Any) -> str:
    """WTForms' `<input>` for the email field with `required` and `maxlength`, its attributes in
    `html_params`' order (sorted) and its `render_kw` (autocomplete, type=email)."""
    invalid = (f'aria-describedby="{escape(field.id)}-error" aria-invalid="true" ' if field.errors else "")
    return (f'<input {invalid}autocomplete="email" id="{escape(field.id)}" maxlength="254" '
            f'name="{escape(field.name)}" required type="email" value="{escape(field._value())}">')  # noqa: SLF001


def signup(form: Any) -> Markup:
    """The whole `<form>`: the token, where to go back, the address, what to follow, how and when."""
    email = form.email
    help_text = catalogue().ugettext("We send a link to confirm first. Your address is never shown to anyone, "
                                     "and every email has a link to stop.")
    return Markup(
        f'<form class="stacked reminders-signup" method="post" action="{escape(url_for("reminders.signup"))}" '
        f'novalidate>\n  {_hidden(form.csrf_token)}\n  {field_errors(form.csrf_token)}\n  {_hidden(form.next)}\n'
        f'  <div class="field{" has-error" if email.errors else ""}">\n'
        f'    <label for="{escape(email.id)}">{escape(lazy_text(email.label.text))}</label>\n'
        f"    {email_input(email)}\n    {field_errors(email)}\n  </div>\n"
        f"  {options(form.follow)}\n  {choices(form)}\n"
        f'  <p class="help">{help_text}</p>\n'
        f'  <p><button type="submit">{escape(lazy_text(form.submit.label.text))}</button></p>\n</form>\n')
