"""WTForms' widgets and choice lists, written without WTForms' per-attribute and per-option
work: the same HTML (tests/app/test_forms.py and tests/app/test_written_options.py compare
each with WTForms' own), at a fraction of the cost on lists of hundreds or thousands of
options (the action form, the sign-up form on most public pages). Kept apart from
`tracker.forms`, which says what every form refuses and how public forms are protected.
"""
from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

import wtforms.widgets.core
from markupsafe import Markup, escape
from flask_babel.speaklater import LazyString
from wtforms import Label, RadioField, SelectChoice, SelectMultipleField
from wtforms.fields.choices import Choice
from wtforms.widgets import CheckboxInput, ListWidget, RadioInput, Select
from wtforms.widgets.core import clean_key

from tracker.i18n import lazy_text
from tracker.records.names import escape_text


def html_params(**kwargs: Any) -> Markup:
    """WTForms' `html_params`, the same attributes in the same order and escaping, without
    `Markup.format` (Python's string.Formatter, ~10 µs an attribute): every input, label,
    select and textarea WTForms writes goes through it, five or six attributes each, and the
    sign-up form (on most public pages) and the login form have several.
    tests/app/test_forms.py holds it to WTForms' own on attributes of every kind."""
    params = []
    for key, value in sorted(kwargs.items()):
        key = escape(clean_key(key))
        if value is True:
            params.append(key)
        elif value is not False:
            params.append(f'{key}="{str(escape(value)).replace(chr(34), "&quot;")}"')
    return Markup(" ".join(params))


# WTForms' own, for the test that compares (kept across a re-import of this module)
WTFORMS_HTML_PARAMS = getattr(wtforms.widgets.core.html_params, "wtforms_own", wtforms.widgets.core.html_params)
html_params.wtforms_own = WTFORMS_HTML_PARAMS  # type: ignore[attr-defined]
# WTForms' widgets (inputs, textareas, selects) and labels look it up at each call, here
wtforms.widgets.core.html_params = wtforms.widgets.html_params = html_params
wtforms.widgets.core.Input.html_params = staticmethod(html_params)


class LongSelect(Select):
    """WTForms' `<select>`, the same HTML, its options written without `html_params`.

    For the long lists (every country, every time zone: 850 options on the action form),
    where WTForms' per-option attribute builder cost ~15 ms a page. An option with its own
    attributes (`render_kw`) or a boolean value goes through WTForms' own `render_option`.
    Choices given as `WrittenOptions` (made once per process) are not written again at all:
    only the chosen one is marked.
    """

    def __call__(self, field: Any, **kwargs: Any) -> Markup:
        options = field.choices
        if type(options) is not WrittenOptions or self.multiple or field.coerce is not str:
            return super().__call__(field, **kwargs)
        kwargs.setdefault("id", field.id)
        flags = getattr(field, "flags", {})
        for name in dir(flags):  # as Select.__call__: required/disabled from the validators
            if name in self.validation_attrs and name not in kwargs:
                kwargs[name] = getattr(flags, name)
        return Markup(f"<select {html_params(name=field.name, **kwargs)}>{options.written(field.data)}</select>")

    @classmethod
    def render_option(cls, choice: Any, **kwargs: Any) -> Markup:
        if kwargs or choice.render_kw or isinstance(choice.value, bool):
            return super().render_option(choice, **kwargs)
        label = escape(choice.label or choice.value)
        # html_params sorts the attributes: "selected" before "value"
        selected = "selected " if choice.selected else ""
        return Markup(f'<option {selected}value="{escape(choice.value)}">{label}</option>')


class WrittenOptions(list):
    """A `LongSelect`'s choices that do not change while the app runs (the countries in one
    language, the time zones), with their `<option>`s written once, when the list is made: a
    request only marks the one chosen (`SelectField`'s rule: `str` value equal to the data).

    Kept and shared between requests, so never changed in place: a form that needs one more
    choice makes a plain list of these and the extra one (written the usual way). Labels are
    written as WTForms writes them: escaped, unless markup (a translated phrase is)."""

    def __init__(self, choices: Any) -> None:
        super().__init__(choices)
        pieces: list[str] = []
        self._spans: dict[str, tuple[int, int, Any]] = {}
        offset = 0
        for choice in self:
            if not isinstance(choice.value, str) or choice.render_kw or choice.optgroup is not None \
                    or choice.value in self._spans:
                raise ValueError(f"not a plain, distinct option: {choice!r}")
            option = str(LongSelect.render_option(Choice(choice.value, choice.label, False, {})))
            self._spans[choice.value] = (offset, offset + len(option), choice)
            pieces.append(option)
            offset += len(option)
        self._html = "".join(pieces)

    def written(self, data: Any) -> str:
        """Every option, the one whose value is `data` marked selected."""
        span = self._spans.get(data) if isinstance(data, str) else None
        if span is None:
            return self._html
        start, end, choice = span
        chosen = LongSelect.render_option(Choice(choice.value, choice.label, True, {}))
        return f"{self._html[:start]}{chosen}{self._html[end:]}"

    def offers(self, value: Any) -> bool:
        return isinstance(value, str) and value in self._spans


class ChoiceRows(Sequence):
    """A long list of choices as (value, label, optgroup) rows: WTForms gets a `SelectChoice`
    for each one it asks for, while a widget that knows the rows (the action form's 2,000
    defendants, `actions.forms.DefendantsByCase`) writes them without making one (~1.5 µs each)."""

    def __init__(self, rows: list[tuple[str, Any, str | None]]) -> None:
        self.rows = rows

    def __len__(self) -> int:
        return len(self.rows)

    def __getitem__(self, index: Any) -> Any:
        if isinstance(index, slice):
            return [SelectChoice(value, label, optgroup=group) for value, label, group in self.rows[index]]
        value, label, group = self.rows[index]
        return SelectChoice(value, label, optgroup=group)


_APART = "\x00"  # joins texts escaped in one call: not in any text shown (forms refuse control characters)


def escape_texts(texts: list[str]) -> list[str]:
    """`escape_text` of each of many texts, in one call to markupsafe for all of them (a list
    of 2,000 names: ~1 µs a name less); one by one if a text holds the separator."""
    joined = _APART.join(texts)
    if joined.count(_APART) != max(len(texts) - 1, 0):
        return [escape_text(text) for text in texts]
    return str(escape(joined)).split(_APART) if texts else []


class CheckboxList(ListWidget):
    """WTForms' `ListWidget(prefix_label=False)` of checkboxes, the same HTML, written without
    making a bound field for each choice (WTForms builds, binds and renders one `Field` per
    checkbox: ~25 µs each, and the action form lists every public defendant). A field with
    attributes of its own (`render_kw`, a choice's, `required`/`disabled`) goes WTForms' way."""

    def __init__(self) -> None:
        super().__init__(prefix_label=False)

    def __call__(self, field: Any, **kwargs: Any) -> Markup:
        flags = getattr(field, "flags", None)
        choices = list(field.iter_choices())
        if (field.render_kw or not isinstance(field.option_widget, CheckboxInput)
                or getattr(flags, "required", False) or getattr(flags, "disabled", False)
                or any(choice.render_kw for choice in choices)):
            return super().__call__(field, **kwargs)
        kwargs.setdefault("id", field.id)
        html = [f"<{self.html_tag} {html_params(**kwargs)}>"]
        name = escape(field.name)
        for number, choice in enumerate(choices):
            option_id = escape(f"{field.id}-{number}")
            checked = "checked " if choice.selected else ""
            html.append(f'<li><input {checked}id="{option_id}" name="{name}" type="checkbox" '
                        f'value="{escape(str(choice.value))}"> '
                        f'<label for="{option_id}">{escape(choice.label or choice.value)}</label></li>')
        html.append(f"</{self.html_tag}>")
        return Markup("".join(html))


class LightOption:
    """One radio button or checkbox of a choice field, as a template iterating the field uses
    it (`option(**attrs)`, `option.label.text`), writing WTForms' HTML without a bound
    `Field` per choice. WTForms makes, binds and processes a field per option, then builds
    its attributes with `html_params` (~40 µs an option); the reminders' sign-up form, on
    most public pages, has seven. With attributes given (errors' aria-*), `html_params`
    writes them, so the order and escaping stay WTForms'."""

    __slots__ = ("id", "name", "type", "value", "checked", "required", "disabled", "label")

    def __init__(self, id: str, name: str, type: str, value: str, checked: bool,  # noqa: A002
                 required: bool, disabled: bool, label: Any) -> None:
        self.id, self.name, self.type, self.value = id, name, type, value
        self.checked, self.required, self.disabled = checked, required, disabled
        self.label = Label(id, label)  # as WTForms' option: `label.text`, or `<label for=…>` rendered

    def __call__(self, **kwargs: Any) -> Markup:
        if kwargs:
            attrs: dict[str, Any] = {"id": self.id, "type": self.type, "value": self.value}
            if self.checked:
                attrs["checked"] = True
            if self.required:
                attrs["required"] = True
            if self.disabled:
                attrs["disabled"] = True
            attrs.update(kwargs)
            return Markup(f"<input {html_params(name=self.name, **attrs)}>")
        # html_params' order: checked, disabled, id, name, required, type, value
        return Markup("".join((
            "<input ", "checked " if self.checked else "", "disabled " if self.disabled else "",
            f'id="{escape(self.id)}" name="{escape(self.name)}" ', "required " if self.required else "",
            f'type="{self.type}" value="{escape(self.value)}">')))

    def __html__(self) -> Markup:
        return self()


class LightOptions:
    """Iterating the field gives `LightOption`s (the same HTML as WTForms' bound options) when
    nothing needs WTForms' own: no `render_kw`, and the plain radio or checkbox widget."""

    def __iter__(self):  # noqa: ANN204
        widget = self.option_widget
        if self.render_kw or type(widget) not in (RadioInput, CheckboxInput):
            yield from super().__iter__()
            return
        kind = widget.input_type
        flags = self.flags
        required, disabled = bool(getattr(flags, "required", False)), bool(getattr(flags, "disabled", False))
        for number, choice in enumerate(self.iter_choices()):
            # a lazy label read through the request's catalogue: `or` on it would ask Flask-Babel
            label = lazy_text(choice.label) if type(choice.label) is LazyString else choice.label
            yield LightOption(f"{self.id}-{number}", self.name, kind, str(choice.value), bool(choice.selected),
                              required, disabled, label or choice.value)


class ChoiceRadioField(LightOptions, RadioField):
    """A radio choice whose options are listed one by one (tracker/reminders/markup.py)."""


class CheckboxListField(LightOptions, SelectMultipleField):
    """A multiple choice as checkboxes: a multi-select box is unusable on a phone."""

    widget = CheckboxList()
    option_widget = CheckboxInput()
