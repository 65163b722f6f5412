"""Choice options written without a bound field per option (tracker.form_widgets.LightOptions) give
WTForms' own HTML: the same inputs, attributes and labels, with and without attributes given."""
from __future__ import annotations

import pytest
from wtforms import Form, SelectChoice
from wtforms.fields.choices import SelectFieldBase
from wtforms.validators import DataRequired
from werkzeug.datastructures import MultiDict

from tracker.form_widgets import CheckboxListField, ChoiceRadioField

# choices as tuples (and the private iterator that accepts them) go in WTForms 3.4: these forms
# and the options under test use the supported SelectChoice / iter_choices(), warning-free
pytestmark = pytest.mark.filterwarnings("error::DeprecationWarning")


class Choices(Form):
    plain = ChoiceRadioField("Plain", choices=[SelectChoice("a", "A & <b>"), SelectChoice("b\"", "B")], default="a")
    required = ChoiceRadioField("Required", choices=[SelectChoice("x", "X"), SelectChoice("y", "Y")], validators=[DataRequired()])
    many = CheckboxListField("Many", choices=[SelectChoice(1, "one"), SelectChoice(2, "two <2>")], coerce=int,
                             default=[2])
    needed = CheckboxListField("Needed", choices=[SelectChoice(1, "one"), SelectChoice(2, "two")], coerce=int, validators=[DataRequired()])


def rendered(options, **kwargs) -> list[tuple[str, str, str]]:  # noqa: ANN001
    return [(str(option(**kwargs)), str(option.label.text), str(option.label)) for option in options]


@pytest.mark.parametrize("formdata", [None, MultiDict([("plain", "b\""), ("many", "1"), ("needed", "2")])])
@pytest.mark.parametrize("kwargs", [{}, {"aria-invalid": "true", "aria-describedby": "f-error"}])
def test_the_same_html_as_wtforms(formdata, kwargs):
    form = Choices(formdata)
    for field in form:
        light = rendered(iter(field), **kwargs)
        own = rendered(SelectFieldBase.__iter__(field), **kwargs)
        assert light == own, field.name
        assert len(light) == 2
    assert "required" in rendered(iter(form.required))[0][0]
    assert "checked" in rendered(iter(form.plain))[0 if formdata is None else 1][0]


def test_a_field_with_its_own_attributes_goes_wtforms_way():
    class Marked(Form):
        marked = ChoiceRadioField("Marked", choices=[SelectChoice("a", "A")], render_kw={"class": "x"})

    [option] = list(Marked().marked)
    assert 'class="x"' in str(option())
