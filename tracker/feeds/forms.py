"""Forms of the private-feed page: buttons only, but each POST carries a CSRF token."""
from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import SubmitField


class RegenerateTokenForm(FlaskForm):
    submit = SubmitField()


class RevokeTokenForm(FlaskForm):
    submit = SubmitField()
