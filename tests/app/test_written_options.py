"""Options written once per process (tracker.form_widgets.WrittenOptions, the action form's countries
and zones) give the HTML WTForms' own select gives for the same choices and data, and a long
list as rows (ChoiceRows) is still a list of SelectChoice to WTForms."""
from __future__ import annotations

import pytest
from markupsafe import Markup
from werkzeug.datastructures import MultiDict
from wtforms import Form, SelectChoice, SelectField
from wtforms.widgets import Select

from tracker.records.names import escape_text

from tracker.form_widgets import ChoiceRows, LongSelect, WrittenOptions, escape_texts

pytestmark = pytest.mark.filterwarnings("error::DeprecationWarning")

CHOICES = [SelectChoice("", Markup("The country's own")), SelectChoice("DE", "Germany"),
           SelectChoice("X&<\"'>", "Odd & <b>\"quoted\"</b>"), SelectChoice("GE", "Georgia")]


class Place(Form):
    written = SelectField("Where", choices=[], validate_choice=False, widget=LongSelect())
    own = SelectField("Where", choices=[], validate_choice=False, widget=Select())


@pytest.mark.parametrize("sent", [None, "", "DE", "X&<\"'>", "GE", "nowhere"])
@pytest.mark.parametrize("kwargs", [{}, {"aria-invalid": "true", "aria-describedby": "f-error"}])
def test_the_same_html_as_wtforms_whichever_is_chosen(sent, kwargs):
    form = Place(MultiDict([("written", sent), ("own", sent)]) if sent is not None else None)
    form.written.choices = WrittenOptions(CHOICES)
    form.own.choices = list(CHOICES)
    written = str(form.written(**kwargs)).replace('"written"', '"own"')
    assert written == str(form.own(**kwargs))
    assert written.count("selected") == (1 if sent in {c.value for c in CHOICES} else 0)


def test_shared_options_are_not_changed_by_a_form():
    options = WrittenOptions(CHOICES)
    before = options.written(None)
    form = Place(MultiDict([("written", "DE")]))
    form.written.choices = options
    assert "selected" in str(form.written()) and options.written(None) == before and "selected" not in before


@pytest.mark.parametrize("bad", [SelectChoice("a", "A", render_kw={"disabled": True}), SelectChoice("a", optgroup="g"),
                                 SelectChoice(1, "one")])
def test_only_plain_distinct_options_are_written_ahead(bad):
    with pytest.raises(ValueError):
        WrittenOptions([bad])
    with pytest.raises(ValueError):
        WrittenOptions([SelectChoice("a"), SelectChoice("a")])


def test_rows_are_select_choices_to_wtforms():
    rows = ChoiceRows([("1", "Anna", "Case A"), ("2", "Boris", None)])
    field = SelectField("x", choices=rows, validate_choice=False).bind(Form(), "x")
    field.process(None, "2")
    assert [(c.value, c.label, c.selected) for c in field.iter_choices()] == [("1", "Anna", False), ("2", "Boris", True)]
    assert [c.optgroup for c in rows] == ["Case A", None] and rows[1:][0].label == "Boris" and len(rows) == 2


@pytest.mark.parametrize("text", ["Anna", "O'Brien", "<b>&\"", "Мария", ""])
def test_escape_text_escapes_as_markupsafe(text):
    from markupsafe import escape
    assert escape_text(text) == str(escape(text)) and type(escape_text(text)) is str


@pytest.mark.parametrize("texts", [[], ["Anna"], ["O'Brien", "<b>&\"", "Мария", ""], ["a\x00b", "<c>"], ["\x00", ""]])
def test_escape_texts_escapes_each_as_markupsafe(texts):
    from markupsafe import escape
    assert escape_texts(texts) == [str(escape(text)) for text in texts]
