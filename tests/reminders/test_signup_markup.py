"""The sign-up form written in Python (tracker/reminders/markup.py) gives WTForms' own inputs:
the token, the return path and the email field, blank, typed (escaped once) and with errors."""
from __future__ import annotations

import pytest
from werkzeug.datastructures import MultiDict

from tracker.reminders import markup
from tracker.reminders.forms import SignupForm
from tracker.reminders.views import follow_choices


def bound(formdata: MultiDict | None) -> SignupForm:
    form = SignupForm(formdata=formdata)
    form.follow.choices = follow_choices(None)
    return form


@pytest.mark.parametrize("formdata", [None, MultiDict({"email": 'a"<b>&c@example.org', "next": '/x?a=1&b="2"',
                                                       "follow": "all", "mode": "each"})])
@pytest.mark.parametrize("with_errors", [False, True])
def test_inputs_as_wtforms_writes_them(app, formdata, with_errors):
    with app.test_request_context("/reminders/signup"):
        form = bound(formdata)
        if with_errors:
            form.email.errors = ["This is not an email address."]
        aria = {"aria-invalid": "true", "aria-describedby": "email-error"} if with_errors else {}
        assert markup.email_input(form.email) == str(form.email(required=True, maxlength=254, **aria))
        html = str(markup.signup(form))
        assert str(form.csrf_token()) in html
        assert str(form.next()) in html
        assert str(form.email.label()) in html
        if formdata is not None:
            assert 'value="a&#34;&lt;b&gt;&amp;c@example.org"' in html  # typed text escaped, once
        assert ('id="email-error"' in html) is with_errors


def test_errors_and_options_are_tied_together(app):
    with app.test_request_context("/reminders/signup"):
        form = bound(MultiDict({"follow": "all", "mode": "each"}))
        form.validate()
        html = str(markup.signup(form))
    assert '<fieldset class="choices has-error">' in html  # no lead chosen for "each"
    assert 'aria-describedby="leads-error" aria-invalid="true"' in html
    assert html.count('role="alert"') == len(form.errors["leads"]) + len(form.errors["email"]) \
        + len(form.errors["csrf_token"])
