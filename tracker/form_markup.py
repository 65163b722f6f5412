"""One form field as the editing forms show it (label, input, help, errors), written in Python.

`editing/_forms.html`'s `field` macro is every form's way to show a field: the action form
(fourteen), /attend, the login and password pages, the editors' forms. As Jinja it cost a
macro call, a context, a `{% set %}` of the attributes and a test per branch for each field:
~20% of /attend above the floor. This writes the very bytes the macro wrote (its blank lines
included), branch by branch; the input itself is still the field's widget (WTForms', with
`tracker.form_widgets.html_params`), so `render_kw`, flags and values stay WTForms'.
`tests/app/test_form_markup.py` holds it to the macro, kept there, for every kind of field.

Texts are shown as Jinja's `{{ }}` shows them: escaped, except markup and lazy translations
(Flask-Babel's `LazyString` has `__html__`: a translation is trusted as a template's `_()`).
"""
from __future__ import annotations

from typing import Any

from flask_babel.speaklater import LazyString
from markupsafe import Markup, escape

from tracker.i18n import lazy_text
from tracker.records.names import escape_text


def _shown(value: Any) -> str:
    """`{{ value }}` in an autoescaped template, as a str."""
    if type(value) is str:
        return escape_text(value)
    if type(value) is LazyString:
        return lazy_text(value)  # its __html__: the translation, not escaped
    return str(escape(value))


def _out(html: Any) -> str:
    """A widget's output as `{{ }}` prints it (markup as it is; a plain str escaped)."""
    return str(escape(html))


def _help(f: Any) -> str:
    return f'<p class="help" id="{escape_text(f.id)}-help">{_shown(f.description)}</p>' if f.description else ""


def _errors(f: Any) -> str:
    """`{{ f.errors|join(" ") }}` in its element (Jinja's join escapes each error unless markup)."""
    if not f.errors:
        return ""
    return (f'<p class="field-error" id="{escape_text(f.id)}-error" role="alert">'
            f'{" ".join(_shown(error) for error in f.errors)}</p>')


def _label(label: Any) -> str:
    """WTForms' `Label()`: `for` as `html_params` writes it (none for False: a radio group's),
    the text escaped (a translation as markup)."""
    target = label.field_id
    if target is False or target is None:
        attribute = ""
    elif target is True:
        attribute = " for"
    else:
        attribute = f' for="{escape_text(target) if type(target) is str else escape(target)}"'
    return f"<label{attribute}>{_shown(label.text)}</label>"


def _described(f: Any) -> str:
    return " ".join(([f"{f.id}-help"] if f.description else []) + ([f"{f.id}-error"] if f.errors else []))


def field(f: Any, autofocus: bool = False) -> Markup:
    """The `field` macro's HTML for `f` (see the module's docstring)."""
    kind = f.type
    if kind == "OffsetField" and not f.choices:  # only while the time typed happens twice
        return Markup("")
    if kind in ("CSRFTokenField", "HiddenField"):
        return Markup(_out(f()))
    has_error = " has-error" if f.errors else ""
    if kind == "BooleanField":
        described = _described(f)
        control = _out(f(**{"aria-describedby": described}) if described else f())
        return Markup(f'\n\n<div class="field check{has_error}">\n  <label>{control} {_shown(f.label.text)}</label>\n'
                      f"  {_help(f)}\n  {_errors(f)}\n</div>\n")
    if kind == "CheckboxListField":
        # a group of checkboxes is named by a legend: a <label for> must point at one control
        described = _described(f)
        tied = f' aria-describedby="{escape_text(described)}"' if described else ""
        return Markup(f'\n\n\n<fieldset class="field choices{has_error}"{tied}>\n'
                      f"  <legend>{_shown(f.label.text)}</legend>\n  {_out(f())}\n"
                      f"  {_help(f)}\n  {_errors(f)}\n</fieldset>\n")
    attrs: dict[str, Any] = {}
    if f.errors:
        attrs = {"aria-invalid": "true", "aria-describedby": f"{f.id}-error"}
    elif f.description:
        attrs = {"aria-describedby": f"{f.id}-help"}
    if autofocus:
        attrs["autofocus"] = True
    return Markup(f'\n<div class="field{has_error}">\n  {_label(f.label)}'
                  f"\n  \n  \n  \n  {_out(f(**attrs))}\n  {_help(f)}\n  \n  {_errors(f)}\n</div>\n")
