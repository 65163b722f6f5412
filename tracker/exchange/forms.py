"""The upload form and the confirmation of a dry run."""
from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf.file import MultipleFileField
from wtforms import HiddenField
from wtforms.validators import DataRequired, Length, Regexp

from tracker.forms import Form


class UploadForm(Form):
    files = MultipleFileField(
        _l("Spreadsheet (.xlsx) or CSV files"),
        description=_l("One .xlsx workbook, or one CSV file per table. Nothing is saved before you confirm the "
                       "dry run."),
    )


class ConfirmForm(Form):
    """Names the stored upload and the dry run shown, so only that dry run can be confirmed."""

    token = HiddenField(validators=[DataRequired(), Length(max=64), Regexp(r"^[A-Za-z0-9_-]+$")])
    files_sha256 = HiddenField(validators=[DataRequired(), Length(min=64, max=64)])
    plan_sha256 = HiddenField(validators=[DataRequired(), Length(min=64, max=64)])
