"""tracker/form_markup.py writes what editing/_forms.html's `field` macro wrote in Jinja, for
every field of every form of the app: blank, filled with text that needs escaping, with
errors, with help, with autofocus, in English and Russian."""
from __future__ import annotations

import importlib
import pkgutil

import pytest
from flask import render_template_string
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from markupsafe import Markup
from wtforms import SelectChoice

import tracker
from tracker.form_markup import field
from tracker.forms import Form

# The macro as it was in Jinja (27 November 2026), byte for byte: what the writer must equal.
JINJA_FIELD = r'''{% macro field(f, autofocus=false) -%}
{% if f.type == "OffsetField" and not f.choices %}{# only while the time typed happens twice #}{% elif f.type in ("CSRFTokenField", "HiddenField") %}{{ f() }}{% elif f.type == "BooleanField" %}
{% set described = ([f.id ~ "-help"] if f.description else []) + ([f.id ~ "-error"] if f.errors else []) %}
<div class="field check{% if f.errors %} has-error{% endif %}">
  <label>{{ f(**{"aria-describedby": described|join(" ")} if described else {}) }} {{ f.label.text }}</label>
  {% if f.description %}<p class="help" id="{{ f.id }}-help">{{ f.description }}</p>{% endif %}
  {% if f.errors %}<p class="field-error" id="{{ f.id }}-error" role="alert">{{ f.errors|join(" ") }}</p>{% endif %}
</div>
{% elif f.type == "CheckboxListField" %}
{# A group of checkboxes is named by a legend: a <label for> must point at one control. #}
{% set described = ([f.id ~ "-help"] if f.description else []) + ([f.id ~ "-error"] if f.errors else []) %}
<fieldset class="field choices{% if f.errors %} has-error{% endif %}"{% if described %} aria-describedby="{{ described|join(' ') }}"{% endif %}>
  <legend>{{ f.label.text }}</legend>
  {{ f() }}
  {% if f.description %}<p class="help" id="{{ f.id }}-help">{{ f.description }}</p>{% endif %}
  {% if f.errors %}<p class="field-error" id="{{ f.id }}-error" role="alert">{{ f.errors|join(" ") }}</p>{% endif %}
</fieldset>
{% else %}
<div class="field{% if f.errors %} has-error{% endif %}">
  {{ f.label() }}
  {% set attrs = {} %}
  {% if f.errors %}{% set _ = attrs.update({"aria-invalid": "true", "aria-describedby": f.id ~ "-error"}) %}{% elif f.description %}{% set _ = attrs.update({"aria-describedby": f.id ~ "-help"}) %}{% endif %}
  {% if autofocus %}{% set _ = attrs.update({"autofocus": true}) %}{% endif %}
  {{ f(**attrs) }}
  {% if f.description %}<p class="help" id="{{ f.id }}-help">{{ f.description }}</p>{% endif %}
  {# one element for all of a field's errors: aria-describedby points at it, and ids are unique #}
  {% if f.errors %}<p class="field-error" id="{{ f.id }}-error" role="alert">{{ f.errors|join(" ") }}</p>{% endif %}
</div>
{% endif %}
{%- endmacro %}'''
NAUGHTY = "<script>alert('x')</script> & \"quoted\""


def _forms() -> list[type]:
    for module in pkgutil.walk_packages(tracker.__path__, "tracker."):
        importlib.import_module(module.name)
    found, todo = set(), [FlaskForm]
    while todo:
        for sub in todo.pop().__subclasses__():
            found.add(sub)
            todo.append(sub)
    return sorted((cls for cls in found if cls.__module__.startswith("tracker.") and issubclass(cls, Form)),
                  key=lambda cls: f"{cls.__module__}.{cls.__name__}")


def _both(form: Form, autofocus: bool) -> list[tuple[str, str, str]]:
    template = JINJA_FIELD + "{% for f in form %}\x01{{ field(f, autofocus) }}{% endfor %}"
    jinja = render_template_string(template, form=form, autofocus=autofocus).split("\x01")[1:]
    return [(f.name, old, str(field(f, autofocus))) for f, old in zip(form, jinja, strict=True)]


@pytest.mark.parametrize("language", ["en", "ru"])
def test_every_field_of_every_form_is_written_as_the_macro_wrote_it(app, language):
    forms = _forms()
    assert len(forms) > 20
    compared = kinds = 0
    seen_kinds: set[str] = set()
    with app.test_request_context(f"/?lang={language}"):
        app.preprocess_request()
        for cls in forms:
            for state in ("blank", "filled"):
                form = cls(formdata=None, meta={"csrf": cls.__name__ in ("AttendForm", "SignupForm")})
                for f in form:
                    if getattr(f, "choices", None) == [] and f.type != "OffsetField":
                        f.choices = [SelectChoice("a&b", NAUGHTY), SelectChoice("2", "two")]
                    if f.type == "OffsetField" and state == "filled":
                        f.choices = [SelectChoice("+03:00", "MSK <+03>"), SelectChoice("+04:00", "MSD")]
                    if state == "filled":
                        f.errors = [NAUGHTY, _l("This field is required."), Markup("<b>markup</b>")]
                        f.description = f.description or "Help & <advice>"
                        if f.type in ("StringField", "TextAreaField", "EmailField", "HiddenField", "PasswordField"):
                            f.data = NAUGHTY
                        seen_kinds.add(f.type)
                for autofocus in (False, True):
                    for name, old, new in _both(form, autofocus):
                        assert new == old, (cls.__name__, state, name, autofocus)
                        compared += 1
    kinds = len(seen_kinds)
    assert compared > 300 and kinds >= 8, (compared, seen_kinds)


def test_the_macro_is_the_writer(app):
    with app.test_request_context("/?lang=en"):
        app.preprocess_request()
        from tracker.attendance.forms import AttendForm

        form = AttendForm(formdata=None)
        form.email.errors = [NAUGHTY]
        via_macro = render_template_string('{% from "editing/_forms.html" import field %}{{ field(f, true) }}',
                                           f=form.email)
        assert via_macro == str(field(form.email, True))
        assert "&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt; &amp; &#34;quoted&#34;</p>" in via_macro
        assert " autofocus " in via_macro and 'aria-invalid="true"' in via_macro
