"""Every form of the app refuses control characters in its text fields (tracker/forms.py)."""
from __future__ import annotations

import importlib
import pkgutil

from flask_wtf import FlaskForm

import tracker
from tracker.forms import Form


def _all_subclasses(cls: type) -> set[type]:
    found = set()
    for sub in cls.__subclasses__():
        found |= {sub} | _all_subclasses(sub)
    return found


def test_every_form_of_the_app_derives_from_the_safe_base():
    for module in pkgutil.walk_packages(tracker.__path__, "tracker."):
        importlib.import_module(module.name)
    ours = {cls for cls in _all_subclasses(FlaskForm) if cls.__module__.startswith("tracker.")}
    assert len(ours) > 15  # the walk found the forms of every feature
    forgotten = sorted(f"{cls.__module__}.{cls.__name__}" for cls in ours if not issubclass(cls, Form))
    assert not forgotten, "forms that do not derive from tracker.forms.Form: " + ", ".join(forgotten)


def test_single_and_multi_line_fields(app):
    from wtforms import HiddenField, PasswordField, StringField, TextAreaField

    class Example(Form):
        name = StringField()
        secret = PasswordField()
        hidden = HiddenField()
        text = TextAreaField()

    cases = {
        "name": ["a\x00b", "a\r\nb", "a\nb", "a\tb", "a\x1bb", "a\x7fb", "a\x85b", "a\u2028b"],
        "secret": ["pass\x00word"],
        "hidden": ["/next\r\nLocation: x"],
        "text": ["a\x00b", "a\x0bb", "a\x1bb"],
    }
    with app.test_request_context(method="POST"):
        for name, values in cases.items():
            for value in values:
                form = Example(data={name: value}, meta={"csrf": False})
                assert not form.validate(), (name, value)
                assert form.errors.keys() == {name}
        fine = Example(data={"name": "Иван Петров", "text": "line one\r\n\tline two\rthree"}, meta={"csrf": False})
        assert fine.validate()
        assert fine.text.data == "line one\n\tline two\nthree"


def test_html_params_writes_what_wtforms_writes():
    """tracker.forms' `html_params` (installed in WTForms' widgets) against WTForms' own."""
    import wtforms.widgets
    import wtforms.widgets.core
    from markupsafe import Markup

    from tracker.form_widgets import WTFORMS_HTML_PARAMS, html_params

    cases = [
        {}, {"name": "email", "id": "email", "type": "email", "value": ""},
        {"required": True, "disabled": False, "checked": True, "value": 0, "maxlength": 254},
        {"class_": "a b", "for_": "x", "data_some_thing": "1", "aria_describedby": "e-error", "aria-invalid": "true"},
        {"value": 'he said "<b>&amp;</b>"', "title": "l'été", "placeholder": None},
        {"value": Markup('<i class="x">ok</i>'), "label": Markup("a & b"), "n": 3.5},
        {"odd<key>": "v", "z": "\u2028", "autocomplete": "email"},
    ]
    for attrs in cases:
        assert html_params(**attrs) == WTFORMS_HTML_PARAMS(**attrs), attrs
        assert isinstance(html_params(**attrs), Markup)
    assert wtforms.widgets.core.html_params is html_params and wtforms.widgets.html_params is html_params
    assert wtforms.widgets.core.Input.html_params is html_params
