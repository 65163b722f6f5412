"""The organisers' submission form and the editors' forms.

Types, lengths and choices are checked here; what needs the clock or the database (a
start in the past, a local time the zone skips, a defendant no longer public) is checked
by `logic.check_submission`, whose errors come back beside the same fields.
"""
from __future__ import annotations

from datetime import date
from functools import lru_cache
from zoneinfo import ZoneInfo
from typing import Any

from flask_babel import lazy_gettext as _l
from markupsafe import Markup, escape
from wtforms import DateTimeLocalField, HiddenField, SelectChoice, SelectField, StringField, TextAreaField
from wtforms.validators import DataRequired, InputRequired, Length, Optional, ValidationError

from tracker.actions import places
from tracker.edge import LARGEST_ID
from tracker.forms import Form, OffsetField, PublicForm, offer_offsets
from tracker.form_widgets import ChoiceRows, CheckboxListField, LongSelect, WrittenOptions, escape_texts
from tracker.i18n import lazy_text
from tracker.kept import KeptWhileSame

LOCAL_FORMATS = ["%Y-%m-%dT%H:%M", "%Y-%m-%dT%H:%M:%S"]  # what <input type="datetime-local"> sends
LATEST = date(2100, 12, 31)


def _strip(value: Any) -> Any:
    """Trimmed text; a text field the POST left out (a script's, not a browser's) is empty, not
    None, which the optional columns refuse (NOT NULL)."""
    return value.strip() if isinstance(value, str) else ("" if value is None else value)


def _country(form: Any, field: Any) -> None:
    if field.data and not places.is_country(field.data):
        raise ValidationError(_l("Choose a country from the list."))


def _zone(form: Any, field: Any) -> None:
    if field.data and not places.is_zone(field.data):
        raise ValidationError(_l("Choose a time zone from the list (e.g. Europe/Berlin)."))


def _not_too_late(form: Any, field: Any) -> None:
    if field.data is not None and field.data.date() > LATEST:
        raise ValidationError(_l("Enter a date before %(day)s.", day=LATEST.isoformat()))


WITHOUT_A_CASE = _l("Not in a case")
ALL_OPEN_UP_TO = 40  # a short list is shown whole; a longer one by case, each opened by a tap


class DefendantsByCase:
    """The defendants' checkboxes grouped by case (`SelectChoice.optgroup`), each case a
    `<details>` that opens without script, written in one pass from the choices.

    Every public defendant is offered: 2,000 of them as WTForms options made a 318 KiB page
    (an `<li>` with an id and a `<label for>` each) and ~45% of its time. Here a label wraps
    its checkbox (no ids), a case holding a ticked defendant (from a defendant's page, or sent
    back with an error) is open, and a short list is open whole. What is sent is the same
    `defendants=<id>` list; `logic.check_submission` checks every id against the public set."""

    def __init__(self) -> None:
        self._written_last: KeptWhileSame[Markup] = KeptWhileSame()

    def __call__(self, field: Any, **kwargs: Any) -> Markup:
        """The rows as written last time when they are the very same list (`logic.linkable_defendants`
        keeps its list while the database gives the same rows) with the same boxes ticked, name,
        id and heading of the people in no case: 2,000 boxes written again were ~1 ms a page."""
        chosen = {str(value) for value in field.data or ()}
        choices = field.choices
        heading = lazy_text(WITHOUT_A_CASE)
        if isinstance(choices, ChoiceRows):
            return self._written_last.get((choices.rows, chosen, field.name, field.id, heading),
                                          lambda: Markup(self._written(choices.rows, chosen, field, heading)))
        return Markup(self._written([(choice.value, choice.label, choice.optgroup) for choice in choices], chosen,
                                    field, heading))

    @staticmethod
    def _written(rows: Any, chosen: set[str], field: Any, heading_none: str) -> str:
        if all(type(value) is str and type(label) is str for value, label, _group in rows):
            values, labels = escape_texts([row[0] for row in rows]), escape_texts([row[1] for row in rows])
        else:
            values, labels = [str(escape(row[0])) for row in rows], [str(escape(row[1])) for row in rows]
        groups: dict[str | None, list[tuple[str, str, str]]] = {}
        for (value, _label, group), written_value, written_label in zip(rows, values, labels):
            groups.setdefault(group, []).append((value, written_value, written_label))
        open_all = len(rows) <= ALL_OPEN_UP_TO
        name = escape(field.name)
        unchecked, checked = f'<label><input name="{name}" ', f'<label><input checked name="{name}" '
        html = [f'<div class="by-case" id="{escape(field.id)}">']
        for title, members in groups.items():
            boxes = [f'{checked if value in chosen else unchecked}type="checkbox" value="{written_value}"> '
                     f'{written_label}</label>' for value, written_value, written_label in members]
            is_open = open_all or any(value in chosen for value, _written, _label in members)
            heading = escape(title if title is not None else heading_none)
            html.append(f'<details{" open" if is_open else ""}><summary>{heading} ({len(members)})</summary>'
                        f'{"".join(boxes)}</details>')
        html.append("</div>")
        return "\n".join(html)


CHOOSE_COUNTRY = _l("Choose…")
OWN_ZONE = _l("The country's own (one zone only)")


@lru_cache(maxsize=32)
def _countries(locale: str, prompt: str) -> WrittenOptions:
    """Every country in `locale`, written once per language (and prompt: the catalogue's word)
    for the process: 250 options made and written on every request were ~15% of the form's time.
    The prompt is a translation, markup as a template's `_()`."""
    return WrittenOptions([SelectChoice("", Markup(prompt))]
                          + [SelectChoice(code, name) for code, name in places.country_names(locale).items()])


@lru_cache(maxsize=32)
def _zones(locale: str, prompt: str) -> WrittenOptions:
    """The offered time zones (~490), named in the reader's language (`places.zone_choices`),
    written once per language for the process."""
    return WrittenOptions([SelectChoice("", Markup(prompt))]
                          + [SelectChoice(zone, name) for zone, name in places.zone_choices(locale)])


NO_CASE = _l("None")
_CASE_OPTIONS: KeptWhileSame[WrittenOptions] = KeptWhileSame()


def _case_options(cases: list[tuple[str, str]]) -> WrittenOptions:
    """The cases' `<select>` options, written once and kept while the cases (read on every
    request: `logic.linkable_cases`) and the prompt's language are the same: 50 options written
    through WTForms' `render_option` were ~0.2 ms a page."""
    prompt = lazy_text(NO_CASE)
    return _CASE_OPTIONS.get((prompt, cases), lambda: WrittenOptions(
        [SelectChoice("", Markup(prompt))] + [SelectChoice(v, label) for v, label in cases]))


class LocalDateTimeField(DateTimeLocalField):
    """<input type="datetime-local">: a browser sends a valid value or none, so anything else sent
    back (a script's, a test's) is not echoed into the value, which HTML would refuse."""

    def _value(self) -> str:
        if self.data is None and self.raw_data:
            return ""
        return super()._value()


class ActionForm(Form):
    """What an organiser tells about an action; the editors' form adds the version."""

    title = StringField(_l("What"), [DataRequired(), Length(max=200)], filters=[_strip],
                        description=_l("E.g. “Letter-writing evening for the May 6th prisoners”."))
    description = TextAreaField(_l("Details"), [Optional(), Length(max=5000)], filters=[_strip],
                                description=_l("What will happen, what to bring. Shown publicly."))
    organiser = StringField(_l("Organised by"), [Optional(), Length(max=200)], filters=[_strip],
                            description=_l("A group's name, shown publicly. Optional."))
    city = StringField(_l("City"), [DataRequired(), Length(max=120)], filters=[_strip])
    country = SelectField(_l("Country"), [DataRequired(), _country], choices=[], validate_choice=False,
                          widget=LongSelect())
    address = StringField(_l("Address or meeting point"), [Optional(), Length(max=300)], filters=[_strip])
    timezone = SelectField(_l("Time zone of the place"), [Optional(), _zone], choices=[], validate_choice=False,
                           description=_l("Leave it as it is for a country with one time zone."), widget=LongSelect())
    starts = LocalDateTimeField(_l("Starts (local time there)"), [InputRequired(), _not_too_late],
                                format=LOCAL_FORMATS)
    starts_offset = OffsetField()
    ends = LocalDateTimeField(_l("Ends (local time there)"), [InputRequired(), _not_too_late],
                              format=LOCAL_FORMATS)
    ends_offset = OffsetField()
    case = SelectField(_l("Case"), [Optional()], choices=[], validate_choice=False, widget=LongSelect())
    defendants = CheckboxListField(_l("Defendants"), [Optional()], choices=[], validate_choice=False,
                                   widget=DefendantsByCase())
    contact = StringField(_l("Your contact (email, phone, Signal…)"), [DataRequired(), Length(max=300)],
                          filters=[_strip],
                          description=_l("Only the editors see it, to ask about the action. Never published."))

    def fill_choices(self, cases: list[tuple[str, str]], defendants: list[tuple[str, str, str | None]]) -> None:
        """The lists in the reader's language: countries, zones, and the public cases and
        defendants (grouped by case: `logic.linkable_defendants`)."""
        self.country.choices = _countries(places.locale_name(), lazy_text(CHOOSE_COUNTRY))
        zones = _zones(places.locale_name(), lazy_text(OWN_ZONE))
        if self.timezone.data and not zones.offers(self.timezone.data):  # an old name (US/Eastern), kept
            zones = [*zones, SelectChoice(self.timezone.data, self.timezone.data)]
        self.timezone.choices = zones
        self.case.choices = _case_options(cases)
        self.defendants.choices = ChoiceRows(defendants)

    def values(self) -> dict[str, Any]:
        return {name: self[name].data for name in (
            "title", "description", "organiser", "city", "country", "address", "timezone", "starts", "ends",
            "starts_offset", "ends_offset", "case", "defendants", "contact")}

    def offer_offsets(self) -> None:
        """"Which one?" beside a start or end typed in the place's repeated autumn hour."""
        zone = self.timezone.data or places.zone_for(self.country.data or "")
        known = ZoneInfo(zone) if zone and places.is_zone(zone) else None
        for name in ("starts", "ends"):
            offer_offsets(self[f"{name}_offset"], self[name].data, known)


class SubmitActionForm(ActionForm, PublicForm):
    """The organisers' form, on a public page caches share: its CSRF token needs no session."""


class EditActionForm(ActionForm):
    version = HiddenField(validators=[InputRequired()])  # what the editor loaded: the conflict check

    def loaded_version(self) -> int | None:
        try:
            version = int(self.version.data)
        except (TypeError, ValueError):
            return None
        return version if 0 <= version <= LARGEST_ID else None


class ReviewForm(Form):
    """Reject or call off an action: the version it was looked at, and an optional reason (private).
    Shares a page with the edit form: made with prefix="review" so their ids differ."""

    version = HiddenField(validators=[InputRequired()])
    reason = StringField(_l("Reason (editors only)"), [Optional(), Length(max=300)], filters=[_strip])

    loaded_version = EditActionForm.loaded_version
