"""Forms of the private-feed page: buttons only, but each POST carries a CSRF token."""
from __future__ import annotations

from wtforms import SubmitField

from tracker.forms import Form


class RegenerateTokenForm(Form):
    submit = SubmitField()


class RevokeTokenForm(Form):
    submit = SubmitField()
