"""Forms for logging in, setting passwords and managing accounts."""
from __future__ import annotations

from flask_babel import lazy_gettext as _l
from wtforms import BooleanField, EmailField, PasswordField, SelectChoice, SelectField, StringField
from wtforms.validators import DataRequired, Email, EqualTo, Length, Optional

from tracker.auth.logic import MIN_PASSWORD_LENGTH
from tracker.auth.models import Role
from tracker.forms import Form
from tracker.form_widgets import CheckboxListField


class LoginForm(Form):
    email = EmailField(_l("Email"), validators=[DataRequired(), Length(max=254)])
    password = PasswordField(_l("Password"), validators=[DataRequired(), Length(max=1000)])
    remember = BooleanField(_l("Stay logged in on this device"))


class SetPasswordForm(Form):
    password = PasswordField(
        _l("New password"),
        validators=[DataRequired(), Length(min=MIN_PASSWORD_LENGTH, max=1000)],
        description=_l("At least %(num)d characters. A few unrelated words make a good one.",
                       num=MIN_PASSWORD_LENGTH),
    )
    confirm = PasswordField(
        _l("The same password again"),
        validators=[DataRequired(), EqualTo("password", message=_l("The two passwords differ."))],
    )


class ResetRequestForm(Form):
    email = EmailField(
        _l("Email"),
        validators=[DataRequired(), Length(max=254), Email(message=_l("This is not an email address."))],
    )


ROLE_CHOICES = [
    SelectChoice(Role.EDITOR.value, _l("editor (case data)")),
    SelectChoice(Role.ADMIN.value, _l("admin (also accounts)")),
]


class InviteForm(Form):
    email = EmailField(
        _l("Email"),
        validators=[DataRequired(), Length(max=254), Email(message=_l("This is not an email address."))],
    )
    name = StringField(_l("Name"), validators=[Optional(), Length(max=200)])
    role = SelectField(_l("Role"), choices=ROLE_CHOICES, default=Role.EDITOR.value)
    # choices from the app's LANGUAGES (tracker.mail.language.language_choices), set by the view
    language = SelectField(_l("Language of their emails"),
                           description=_l("The invitation and every alert go in it; they can change it later."))
    cases = CheckboxListField(
        _l("Limit to these cases"), coerce=int,
        description=_l("Leave all unticked to let the editor edit every case."),
    )


class AccountForm(Form):
    role = SelectField(_l("Role"), choices=ROLE_CHOICES)
    active = BooleanField(_l("Active (may log in)"))
    cases = CheckboxListField(
        _l("Limit to these cases"), coerce=int,
        description=_l("Leave all unticked to let the editor edit every case."),
    )


class LanguageForm(Form):
    """The account page's choice of the language its emails are written in."""

    # choices from the app's LANGUAGES (tracker.mail.language.language_choices), set by the view
    language = SelectField(_l("Language of your emails"),
                           description=_l("Deadline and transit alerts, the weekly list and password resets."))
