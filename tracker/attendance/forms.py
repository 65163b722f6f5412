"""The "I'll be there" form and the editors' message to those going."""
from __future__ import annotations

from flask_babel import lazy_gettext as _l
from wtforms import StringField, SubmitField, TextAreaField
from wtforms.validators import DataRequired, Email, Length

from tracker.attendance.logic import MESSAGE_MAX_CHARS
from tracker.forms import Form, PublicForm

STRIP = [lambda value: value.strip() if isinstance(value, str) else value]


class AttendForm(PublicForm):
    """On a public page that caches share: its CSRF token needs no session (PublicForm)."""

    email = StringField(
        _l("Your email"), filters=STRIP,
        validators=[DataRequired(_l("Enter your email address.")), Length(max=254),
                    Email(_l("This is not an email address."))],
        render_kw={"autocomplete": "email", "type": "email"},
    )
    first_name = StringField(
        _l("Your first name (optional)"), filters=STRIP, validators=[Length(max=60)],
        description=_l("Only the hearing's organisers see it, so they can greet you at the courthouse."),
        render_kw={"autocomplete": "given-name"},
    )
    submit = SubmitField(_l("I'll be there"))


class MessageForm(Form):
    text = TextAreaField(
        _l("Message to everyone going"), filters=STRIP,
        validators=[DataRequired(_l("Write the message.")),
                    Length(max=MESSAGE_MAX_CHARS, message=_l("At most %(max)d characters."))],
        description=_l("A short note, e.g. “The hearing moved to courtroom 4”. It goes by email to everyone "
                       "who confirmed, with a link to withdraw."),
    )
    submit = SubmitField(_l("Send to those going"))
