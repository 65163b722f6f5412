"""Editing forms. They check types, lengths and plausible dates; the services check the rules.

Every form that edits an existing record carries the version the editor loaded in
a hidden field, so a save over someone else's newer change is refused.
"""
from __future__ import annotations

import re
from datetime import date
from typing import Any

from flask_babel import lazy_gettext as _l
from wtforms import (
    BooleanField,
    DateField,
    DateTimeLocalField,
    HiddenField,
    IntegerField,
    SelectChoice,
    SelectField,
    StringField,
    TextAreaField,
    URLField,
)
from wtforms.validators import DataRequired, InputRequired, Length, NumberRange, Optional, URL, ValidationError

from tracker.edge import LARGEST_ID
from tracker.forms import Form, OffsetField
from tracker.form_widgets import CheckboxListField
from tracker.records.enums import LABELS, DefendantStatus, HearingKind, Instance, LettersStatus, MeasureKind, Outcome
from tracker.formats import short_day

EARLIEST_EVENT = date(1990, 1, 1)  # the tracker follows current cases; older dates are typos
EARLIEST_BIRTH = date(1910, 1, 1)
LATEST = date(2100, 12, 31)
SLUG = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")


class Plausible:
    """A date (or datetime) within a range where a typo like 1900 or 2206 is caught."""

    def __init__(self, earliest: date = EARLIEST_EVENT, latest: date = LATEST) -> None:
        self.earliest, self.latest = earliest, latest

    def __call__(self, form, field) -> None:  # noqa: ANN001
        if field.data is None:
            return
        day = field.data.date() if hasattr(field.data, "date") else field.data
        if not self.earliest <= day <= self.latest:
            raise ValidationError(_l("Enter a date between %(start)s and %(end)s.",
                                     start=short_day(self.earliest), end=short_day(self.latest)))


def _slug(form, field) -> None:  # noqa: ANN001
    if field.data and not SLUG.match(field.data):
        raise ValidationError(_l("Use lowercase latin letters, digits and single hyphens, e.g. ivan-petrov."))


def _strip(value: Any) -> Any:
    return value.strip() if isinstance(value, str) else value


def _choices(enum_cls: type) -> list[SelectChoice]:
    """The members as options, their labels lazy: a class attribute is built once at import,
    so `m.label` (a plain string) would freeze them in the default language."""
    return [SelectChoice(m.value, LABELS[enum_cls][m.value]) for m in enum_cls]


STRIP = [_strip]




class VersionedForm(Form):
    version = HiddenField()

    def loaded_version(self) -> int | None:
        try:
            version = int(self.version.data)
        except (TypeError, ValueError):
            return None
        return version if 0 <= version <= LARGEST_ID else None

    def validate_version(self, field) -> None:  # noqa: ANN001
        """A version no record can have was not loaded from this page: refuse it rather than guess."""
        if field.data and self.loaded_version() is None:
            raise ValidationError(_l("This form was damaged on its way. Reload the page and make your change again."))

    def validate(self, extra_validators: dict | None = None) -> bool:
        valid = super().validate(extra_validators)
        self.form_errors.extend(self.version.errors)  # a hidden field has no place of its own to show it
        return valid


def optional_url(label: str) -> URLField:
    return URLField(label, filters=STRIP, validators=[Optional(), Length(max=500),
                                                      URL(message=_l("This is not a web address."))])


ORIGINAL_HINT = _l("In the script of the country (Cyrillic for Russia): what people type into a map or write "
                   "on an envelope. Each reader sees their own script first.")


class CaseForm(VersionedForm):
    title = StringField(_l("Title"), filters=STRIP, validators=[DataRequired(), Length(max=200)])
    title_original = StringField(_l("Title in the original script"), filters=STRIP,
                                 validators=[Optional(), Length(max=200)],
                                 description=_l("In the script of the country (Cyrillic for Russia), as the press "
                                                "there names the case. Each reader sees their own script first."))
    slug = StringField(_l("Address (slug)"), filters=STRIP, validators=[DataRequired(), Length(max=120), _slug],
                       description=_l("The end of the case's page address, e.g. /cases/bolotnaya."))
    case_number = StringField(_l("Case number"), filters=STRIP, validators=[Optional(), Length(max=100)])
    description = TextAreaField(_l("Description"), filters=STRIP, validators=[Length(max=20000)])
    charges = TextAreaField(_l("Charges"), filters=STRIP, validators=[Length(max=5000)])

    def values(self) -> dict[str, Any]:
        return {"title": self.title.data, "title_original": self.title_original.data or "", "slug": self.slug.data, "case_number": self.case_number.data or None,
                "description": self.description.data or "", "charges": self.charges.data or ""}


class DefendantForm(VersionedForm):
    name_latin = StringField(_l("Name in latin letters"), filters=STRIP,
                             validators=[DataRequired(), Length(max=200)])
    name_original = StringField(_l("Name as written originally"), filters=STRIP,
                                validators=[DataRequired(), Length(max=200)])
    slug = StringField(_l("Address (slug)"), filters=STRIP, validators=[DataRequired(), Length(max=120), _slug],
                       description=_l("The end of the public page's address, e.g. /defendants/ivan-petrov."))
    cases = CheckboxListField(_l("Cases"), coerce=int)
    status = SelectField(_l("Status"), choices=_choices(DefendantStatus))
    is_public = BooleanField(_l("Public (shown on the site)"), default=True)
    birth_date = DateField(_l("Born on"), validators=[Optional(), Plausible(EARLIEST_BIRTH)])
    arrested_on = DateField(_l("Arrested on"), validators=[Optional(), Plausible()])
    bio = TextAreaField(_l("Biography"), filters=STRIP, validators=[Length(max=20000)])
    charges = TextAreaField(_l("Charges (one article per line)"), filters=STRIP, validators=[Length(max=5000)])
    letters_address = TextAreaField(_l("Address for letters"), filters=STRIP, validators=[Length(max=2000)],
                                    description=_l("In latin letters, for readers abroad."))
    letters_address_original = TextAreaField(_l("Address for letters as written originally"), filters=STRIP,
                                             validators=[Length(max=2000)], description=ORIGINAL_HINT)
    letters_status = SelectField(_l("Letters"), choices=_choices(LettersStatus))
    lawyer_contacts = TextAreaField(_l("Lawyers' contacts (private: editors only)"), filters=STRIP,
                                    validators=[Length(max=5000)])
    internal_notes = TextAreaField(_l("Internal notes (private: editors only)"), filters=STRIP,
                                   validators=[Length(max=20000)])

    def values(self) -> dict[str, Any]:
        return {
            "name_latin": self.name_latin.data, "name_original": self.name_original.data,
            "slug": self.slug.data, "status": DefendantStatus(self.status.data),
            "is_public": self.is_public.data, "birth_date": self.birth_date.data,
            "arrested_on": self.arrested_on.data, "bio": self.bio.data or "",
            "charges": self.charges.data or "", "letters_address": self.letters_address.data or "",
            "letters_address_original": self.letters_address_original.data or "",
            "letters_status": LettersStatus(self.letters_status.data),
            "lawyer_contacts": self.lawyer_contacts.data or "", "internal_notes": self.internal_notes.data or "",
        }


class MeasureForm(VersionedForm):
    kind = SelectField(_l("Measure"), choices=_choices(MeasureKind))
    starts_on = DateField(_l("From"), validators=[InputRequired(message=_l("Enter a date.")), Plausible()])
    until = DateField(_l("Until"), validators=[Optional(), Plausible()])
    next_review_on = DateField(_l("Next review"), validators=[Optional(), Plausible()],
                               description=_l("For measures without an end date, e.g. treatment."))
    ordered_by = StringField(_l("Ordered by (court)"), filters=STRIP, validators=[Optional(), Length(max=200)])
    note = TextAreaField(_l("Note"), filters=STRIP, validators=[Length(max=5000)])
    source_url = optional_url(_l("Source (web address)"))

    def values(self) -> dict[str, Any]:
        return {"kind": MeasureKind(self.kind.data), "starts_on": self.starts_on.data, "until": self.until.data,
                "next_review_on": self.next_review_on.data, "ordered_by": self.ordered_by.data or "",
                "note": self.note.data or "", "source_url": self.source_url.data or None}


class ExtendForm(VersionedForm):
    until = DateField(_l("Extended until"), validators=[InputRequired(message=_l("Enter a date.")), Plausible()])
    ordered_by = StringField(_l("Ordered by (court)"), filters=STRIP, validators=[Optional(), Length(max=200)])
    note = StringField(_l("Note"), filters=STRIP, validators=[Optional(), Length(max=2000)])
    source_url = optional_url(_l("Source (web address)"))


class TransferForm(VersionedForm):
    in_transit = BooleanField(_l("Destination not yet known (in transit)"),
                              description=_l("Taken from the last place and not yet known to have arrived anywhere. "
                                             "Leave the facility empty; record the destination as a new transfer "
                                             "once it is known."))
    facility = StringField(_l("Now held at"), filters=STRIP, validators=[Length(max=300)],
                           description=_l("E.g. SIZO-5, Moscow"))
    facility_original = StringField(_l("Facility as written originally"), filters=STRIP,
                                    validators=[Length(max=300)], description=_l("E.g. СИЗО-5, Москва"))
    since = DateField(_l("Since"), validators=[InputRequired(message=_l("Enter a date.")), Plausible()])
    letters_address = TextAreaField(_l("New address for letters (leave empty to keep the current one)"),
                                    filters=STRIP, validators=[Length(max=2000)])
    letters_address_original = TextAreaField(_l("The new address as written originally"), filters=STRIP,
                                             validators=[Length(max=2000)])
    letters_status = SelectField(
        _l("Letters"), default="",
        choices=[SelectChoice("", _l("as the transfer implies")), *_choices(LettersStatus)],
        description=_l("In transit, letters are marked as not delivered; at the first facility after a transit, "
                       "as unknown until you say; otherwise they stay as they are."))
    note = StringField(_l("Note"), filters=STRIP, validators=[Optional(), Length(max=2000)])
    source_url = optional_url(_l("Source (web address)"))

    def validate_facility(self, field) -> None:  # noqa: ANN001
        if self.in_transit.data and field.data:
            raise ValidationError(_l("Leave the facility empty while the destination is not known."))
        if not self.in_transit.data and not field.data:
            raise ValidationError(_l("Name the facility."))

    def validate_facility_original(self, field) -> None:  # noqa: ANN001
        if self.in_transit.data and field.data:
            raise ValidationError(_l("Leave the facility empty while the destination is not known."))

    def validate_letters_status(self, field) -> None:  # noqa: ANN001
        if self.in_transit.data and field.data == LettersStatus.REACH.value:
            raise ValidationError(_l("Letters cannot reach someone whose whereabouts are unknown."))

    def chosen_letters_status(self) -> LettersStatus | None:
        return LettersStatus(self.letters_status.data) if self.letters_status.data else None

    def values(self) -> dict[str, Any]:
        return {"facility": "" if self.in_transit.data else self.facility.data,
                "facility_original": "" if self.in_transit.data else (self.facility_original.data or ""),
                "since": self.since.data,
                "in_transit": bool(self.in_transit.data), "note": self.note.data or "",
                "source_url": self.source_url.data or None}


class DecisionForm(VersionedForm):
    decided_on = DateField(_l("Decided on"), validators=[InputRequired(message=_l("Enter a date.")), Plausible()])
    court = StringField(_l("Court"), filters=STRIP, validators=[Optional(), Length(max=200)])
    instance = SelectField(_l("Instance"), choices=_choices(Instance))
    outcome = SelectField(_l("Outcome"), choices=_choices(Outcome))
    term_years = IntegerField(_l("Term: years"), default=0, validators=[
        Optional(), NumberRange(min=0, max=99, message=_l("Enter a number from 0 to 99."))])
    term_months = IntegerField(_l("Term: months"), default=0, validators=[
        Optional(), NumberRange(min=0, max=11 * 12, message=_l("Enter a number from 0 to 132."))])
    term_days = IntegerField(_l("Term: days"), default=0, validators=[
        Optional(), NumberRange(min=0, max=3650, message=_l("Enter a number from 0 to 3650."))])
    regime = StringField(_l("Regime (e.g. general regime colony)"), filters=STRIP,
                         validators=[Optional(), Length(max=200)])
    credited_days = IntegerField(_l("Days already served, credited"), default=0, validators=[
        Optional(), NumberRange(min=0, max=36500, message=_l("This cannot be negative."))])
    release_override = DateField(_l("Release date, if the court stated one"), validators=[Optional(), Plausible()])
    under_appeal = BooleanField(_l("Under appeal"))
    note = TextAreaField(_l("Note"), filters=STRIP, validators=[Length(max=5000)])
    source_url = optional_url(_l("Source (web address)"))

    def values(self) -> dict[str, Any]:
        return {
            "decided_on": self.decided_on.data, "court": self.court.data or "",
            "instance": Instance(self.instance.data), "outcome": Outcome(self.outcome.data),
            "term_years": self.term_years.data or 0, "term_months": self.term_months.data or 0,
            "term_days": self.term_days.data or 0, "regime": self.regime.data or "",
            "credited_days": self.credited_days.data or 0, "release_override": self.release_override.data,
            "under_appeal": self.under_appeal.data, "note": self.note.data or "",
            "source_url": self.source_url.data or None,
        }


LOCAL_TIME = _l("In the court's own time zone.")


class HearingForm(VersionedForm):
    kind = SelectField(_l("Kind"), choices=_choices(HearingKind))
    starts_at = DateTimeLocalField(_l("Date and time"), format=["%Y-%m-%dT%H:%M", "%Y-%m-%dT%H:%M:%S"],
                                   validators=[InputRequired(message=_l("Enter a date and time.")), Plausible()],
                                   description=LOCAL_TIME)
    starts_at_offset = OffsetField()
    defendants = CheckboxListField(_l("Defendants"), coerce=int, validators=[
        DataRequired(message=_l("Choose at least one defendant."))])
    case = SelectField(_l("Case"), coerce=int)
    court = SelectField(_l("Court"), coerce=int, validate_choice=True)
    new_court_name = StringField(_l("…or a court not in the list: its name"), filters=STRIP,
                                 validators=[Optional(), Length(max=200)])
    new_court_name_original = StringField(_l("New court's name as written originally"), filters=STRIP,
                                          validators=[Optional(), Length(max=200)])
    new_court_address = StringField(_l("New court's address"), filters=STRIP, validators=[Optional(), Length(max=300)])
    new_court_address_original = StringField(_l("New court's address as written originally"), filters=STRIP,
                                             validators=[Optional(), Length(max=300)])
    new_court_timezone = StringField(_l("New court's time zone"), filters=STRIP, default="Europe/Moscow",
                                     validators=[Optional(), Length(max=64)])
    duration_minutes = IntegerField(_l("Expected duration (minutes)"), default=120, validators=[
        DataRequired(), NumberRange(min=1, max=24 * 60, message=_l("Enter 1 to 1440 minutes."))])
    courtroom = StringField(_l("Courtroom"), filters=STRIP, validators=[Optional(), Length(max=100)])
    seats = IntegerField(_l("Seats for the public in the courtroom"), validators=[
        Optional(), NumberRange(min=1, max=10000, message=_l("Enter 1 to 10000, or leave empty if not known."))],
        description=_l("Optional. Shown beside the number of people going, so supporters know whether to come early."))
    judge = StringField(_l("Judge"), filters=STRIP, validators=[Optional(), Length(max=200)])
    is_open = BooleanField(_l("Open to the public"), default=True)
    video_link_note = StringField(_l("Video link or broadcast note"), filters=STRIP,
                                  validators=[Optional(), Length(max=500)])
    outcome_note = TextAreaField(_l("Outcome note (public)"), filters=STRIP, validators=[Length(max=5000)])
    source_url = optional_url(_l("Source (web address)"))

    def validate_court(self, field) -> None:  # noqa: ANN001
        if not field.data and not self.new_court_name.data:
            raise ValidationError(_l("Choose a court or name a new one."))

    def values(self) -> dict[str, Any]:
        return {"kind": HearingKind(self.kind.data), "duration_minutes": self.duration_minutes.data,
                "courtroom": self.courtroom.data or "", "seats": self.seats.data, "judge": self.judge.data or "",
                "is_open": self.is_open.data, "video_link_note": self.video_link_note.data or "",
                "outcome_note": self.outcome_note.data or "", "source_url": self.source_url.data or None}


class PostponeForm(VersionedForm):
    to = DateTimeLocalField(_l("New date and time"), format=["%Y-%m-%dT%H:%M", "%Y-%m-%dT%H:%M:%S"],
                            validators=[Optional(), Plausible()],
                            description=_l("In the court's own time zone. Leave empty if no new date is fixed yet."))
    to_offset = OffsetField()
    reason = StringField(_l("Reason (kept in the history, for editors)"), filters=STRIP,
                         validators=[Optional(), Length(max=2000)])


class CancelForm(VersionedForm):
    reason = StringField(_l("Why it is cancelled (shown publicly)"), filters=STRIP, validators=[
        DataRequired(message=_l("Say why the hearing was cancelled.")), Length(max=2000)])


class MarkHeldForm(VersionedForm):
    outcome_note = TextAreaField(_l("What happened (public)"), filters=STRIP, validators=[Length(max=5000)])


class CourtForm(Form):
    """A court is shared by every hearing there: no version of its own (see services.update_court)."""

    name = StringField(_l("Name in latin letters"), filters=STRIP, validators=[DataRequired(), Length(max=200)],
                       description=_l("E.g. Moscow City Court"))
    name_original = StringField(_l("Name as written originally"), filters=STRIP,
                                validators=[Optional(), Length(max=200)], description=_l("E.g. Мосгорсуд"))
    address = StringField(_l("Address in latin letters"), filters=STRIP, validators=[Optional(), Length(max=300)])
    address_original = StringField(_l("Address as written originally"), filters=STRIP,
                                   validators=[Optional(), Length(max=300)],
                                   description=_l("As people type it into a map, e.g. ул. Татарская, 1, Москва"))
    timezone = StringField(_l("Time zone"), filters=STRIP, validators=[DataRequired(), Length(max=64)],
                           description=_l("The IANA name, e.g. Europe/Moscow or Asia/Yekaterinburg. A new zone "
                                          "corrects a wrong one: each hearing keeps the local time typed for it "
                                          "and moves, and volunteers are told."))

    def values(self) -> dict[str, Any]:
        return {"name": self.name.data, "name_original": self.name_original.data or "",
                "address": self.address.data or "", "address_original": self.address_original.data or "",
                "timezone": self.timezone.data}
