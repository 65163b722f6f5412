"""The base of every form in the app: what no text field may hold.

A single-line field (StringField and its kinds: hidden, email, password, URL, search)
refuses control characters, line breaks included. None belongs in a name, a title
or an address, and one there breaks whatever the value later goes into: a mail
header (a court's name is in reminders' subjects), a redirect, PostgreSQL (which
refuses NUL in text). A multi-line field (TextAreaField) keeps line breaks and tabs,
with the browser's CRLF made LF, and refuses the other control characters.

Every form derives from `Form`, so a new one cannot forget it; the refusal is a
message next to the field, like any other validation error, and the page shows
again with everything typed (tests/app/test_forms.py checks every form class).
"""
from __future__ import annotations

import re
from typing import Any

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import Field, SelectMultipleField, StringField, TextAreaField
from wtforms.validators import ValidationError
from wtforms.widgets import CheckboxInput, ListWidget

from tracker.edge import CONTROL_CHARACTERS, CONTROL_CHARACTERS_BUT_LINES

NEWLINES = re.compile(r"\r\n?")


def single_line(form: Any, field: Field) -> None:
    if isinstance(field.data, str) and CONTROL_CHARACTERS.search(field.data):
        # shown back without them: HTML forbids most control characters, even escaped
        field.data = CONTROL_CHARACTERS.sub(" ", field.data).strip()
        raise ValidationError(_l("Keep this on one line, without line breaks or other control characters."))


def multi_line(form: Any, field: Field) -> None:
    if isinstance(field.data, str) and CONTROL_CHARACTERS_BUT_LINES.search(field.data):
        raise ValidationError(_l("Remove the control characters (invisible characters other than line breaks "
                                 "and tabs)."))


class Form(FlaskForm):
    """FlaskForm whose text fields refuse control characters (see the module's docstring)."""

    def validate(self, extra_validators: dict | None = None) -> bool:
        extra = {name: list(checks) for name, checks in (extra_validators or {}).items()}
        for name, field in self._fields.items():
            if isinstance(field, TextAreaField):
                if isinstance(field.data, str):
                    field.data = NEWLINES.sub("\n", field.data)
                extra.setdefault(name, []).insert(0, multi_line)
            elif isinstance(field, StringField):
                extra.setdefault(name, []).insert(0, single_line)
        return super().validate(extra)


def form_status(form: Form) -> int:
    """The status of a page that shows `form`: 422 when it came back with errors, else 200."""
    return 422 if form.errors else 200


class CheckboxListField(SelectMultipleField):
    """A multiple choice as checkboxes: a multi-select box is unusable on a phone."""

    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()
