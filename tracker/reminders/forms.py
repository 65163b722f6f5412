"""The sign-up and manage forms."""
from __future__ import annotations

from flask import request
from flask_babel import lazy_gettext as _l
from wtforms import HiddenField, SelectChoice, SelectField, StringField, SubmitField, TextAreaField
from wtforms.validators import DataRequired, Email, Length, ValidationError

from tracker.forms import Form, PublicForm

from tracker.form_widgets import CheckboxListField, ChoiceRadioField
from tracker.links import safe_next
from tracker.reminders.subscriptions import DEFAULT_LEADS, LEAD_CHOICES


MODE_CHOICES = [SelectChoice("each", _l("An email before each hearing")), SelectChoice("digest", _l("A weekly digest instead"))]


class ChoicesMixin:
    mode = ChoiceRadioField(_l("How"), choices=MODE_CHOICES, default="each")
    leads = CheckboxListField(_l("When"), choices=[SelectChoice(m, label) for m, label in LEAD_CHOICES], coerce=int, default=DEFAULT_LEADS)

    def validate_leads(self, field):  # noqa: ANN001
        if self.mode.data == "each" and not field.data:
            raise ValidationError(_l("Choose at least one time to be reminded, or the weekly digest."))


class SafeNextField(HiddenField):
    """Where to go back after the form: a path on this site, or nothing.

    A hostile value (another site, a line break) is dropped rather than refused: it
    comes from a crafted link, not from the volunteer, whose sign-up must still work.
    """

    def process_formdata(self, valuelist: list[str]) -> None:
        super().process_formdata(valuelist)
        self.data = safe_next(self.data, request.host_url) if self.data else None


class SignupForm(ChoicesMixin, PublicForm):
    """On every public page, which caches share: its CSRF token needs no session (PublicForm)."""

    email = StringField(
        _l("Your email"),
        validators=[DataRequired(_l("Enter your email address.")), Length(max=254), Email(_l("This is not an email address."))],
        render_kw={"autocomplete": "email", "type": "email"},
    )
    # "all", "case:<slug>" or "defendant:<slug>"
    follow = ChoiceRadioField(_l("Follow"), validators=[DataRequired()])
    next = SafeNextField()
    submit = SubmitField(_l("Remind me"))


class ManageForm(ChoicesMixin, Form):
    # choices from the app's LANGUAGES (tracker.mail.language.language_choices), set by the view
    language = SelectField(_l("Language of the emails"))
    submit = SubmitField(_l("Save"))


class NotesForm(Form):
    notes = TextAreaField(_l("Practical notes for hearing-goers"), validators=[Length(max=5000)])
    submit = SubmitField(_l("Save"))
