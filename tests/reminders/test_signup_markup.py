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


NAUGHTY = "<script>alert('x')</script> & \"Q\""


@pytest.mark.parametrize("language", ["en", "ru"])
@pytest.mark.parametrize("path", ["/", '/defendants/odd?q=<a>&b="c"&d=\'e\''])
def test_the_blank_form_kept_per_language_is_the_form_written_anew(app, language, path, make_defendant, make_case):
    """`views.blank_signup` fills a copy written once per language: the same bytes as the form
    made and written for this page (its token included), for every kind of page."""
    from tracker.reminders.views import blank_signup, signup_form

    person = make_defendant(slug="odd", name_latin=NAUGHTY, name_original=NAUGHTY + " Ж")
    case = make_case(slug="odd-case", title=NAUGHTY, title_original="Дело & <b>")
    separator = "&" if "?" in path else "?"
    for scope in (None, ("defendant", person), ("case", case), ("all", None)):
        for _round in range(2):  # written, then kept
            with app.app_context(), app.test_request_context(f"{path}{separator}lang={language}"):
                app.preprocess_request()
                assert str(blank_signup(scope)) == str(markup.signup(signup_form(scope))), (scope, _round)
                assert "<script>" not in str(blank_signup(scope))


def test_the_token_on_a_public_page_signs_up(app, client, make_defendant, smtp_server):
    import re

    from tracker.extensions import db

    make_defendant(slug="anna", name_latin="Anna Petrova")
    db.session.commit()
    response = client.get("/defendants/anna")
    assert response.status_code == 200 and "Set-Cookie" not in response.headers
    page = response.get_data(as_text=True)
    token = re.search(r'<form class="stacked reminders-signup"[^>]*>\s*<input id="csrf_token" name="csrf_token" '
                      r'type="hidden" value="([^"]+)">', page).group(1)
    follow = re.search(r'<input checked id="follow-0" name="follow" required type="radio" value="([^"]+)">',
                       page).group(1)
    assert follow == "defendant:anna"
    data = {"email": "v@example.org", "follow": follow, "mode": "each", "leads": "1440", "next": "/defendants/anna"}
    assert client.post("/reminders/signup", data={**data, "csrf_token": token}).status_code == 302
    refused = client.post("/reminders/signup", data={**data, "email": "w@example.org", "csrf_token": token + "x"})
    assert refused.status_code == 400
