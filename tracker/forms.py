"""The base of every form in the app: what no text field may hold.

A single-line field (StringField and its kinds: hidden, email, password, URL, search)
refuses control characters, line breaks included. None belongs in a name, a title
or an address, and one there breaks whatever the value later goes into: a mail
header (a court's name is in reminders' subjects), a redirect, PostgreSQL (which
refuses NUL in text). A multi-line field (TextAreaField) keeps line breaks and tabs,
with the browser's CRLF made LF, and refuses the other control characters.

Every form derives from `Form`, so a new one cannot forget it; the refusal is a
message next to the field, like any other validation error, and the page shows
again with everything typed (tests/app/test_forms.py checks every form class).
"""
from __future__ import annotations

import base64
import hashlib
import hmac
import re
from datetime import datetime
from functools import lru_cache
from collections.abc import Sequence
from typing import Any, Callable, TypeVar
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo

from babel import support
from flask import current_app, has_request_context, request
from flask_babel import get_locale
from flask_babel import lazy_gettext as _l
from flask_babel.speaklater import LazyString
from flask_wtf import FlaskForm
import wtforms.widgets.core
from wtforms import Field, Label, RadioField, SelectChoice, SelectField, SelectMultipleField, StringField, TextAreaField
from wtforms.csrf.core import CSRF
from wtforms.fields.choices import Choice
from wtforms.i18n import messages_path
from wtforms.validators import ValidationError
from markupsafe import Markup, escape
from wtforms.widgets import CheckboxInput, ListWidget, RadioInput, Select
from wtforms.widgets.core import clean_key

from tracker.edge import CONTROL_CHARACTERS, CONTROL_CHARACTERS_BUT_LINES
from tracker.extensions import csrf, utcnow
from tracker.i18n import lazy_text
from tracker.records import wallclock

F = TypeVar("F", bound=Callable)

NEWLINES = re.compile(r"\r\n?")


def single_line(form: Any, field: Field) -> None:
    if isinstance(field.data, str) and CONTROL_CHARACTERS.search(field.data):
        # shown back without them: HTML forbids most control characters, even escaped
        field.data = CONTROL_CHARACTERS.sub(" ", field.data).strip()
        raise ValidationError(_l("Keep this on one line, without line breaks or other control characters."))


def multi_line(form: Any, field: Field) -> None:
    if isinstance(field.data, str) and CONTROL_CHARACTERS_BUT_LINES.search(field.data):
        raise ValidationError(_l("Remove the control characters (invisible characters other than line breaks "
                                 "and tabs)."))


@lru_cache(maxsize=16)
def wtforms_catalogue(locale: str) -> support.Translations:
    """WTForms' own messages ("This field is required.") in `locale`, read from disk once.

    Flask-WTF reads the catalogue file again on every request that makes a form (~0.3 ms:
    the sign-up form is on most public pages); the file does not change while we run."""
    return support.Translations.load(messages_path(), [locale], domain="wtforms")


class Form(FlaskForm):
    """FlaskForm whose text fields refuse control characters (see the module's docstring)."""

    class Meta:
        def get_translations(self, form: Any) -> Any:
            """Flask-WTF's choice (the request's locale, WTF_I18N_ENABLED), from `wtforms_catalogue`."""
            translations = super().get_translations(form)  # type: ignore[misc]
            if not current_app.config.get("WTF_I18N_ENABLED", True) or not has_request_context():
                return translations
            return wtforms_catalogue(str(get_locale()))

    def validate(self, extra_validators: dict | None = None) -> bool:
        extra = {name: list(checks) for name, checks in (extra_validators or {}).items()}
        for name, field in self._fields.items():
            if isinstance(field, TextAreaField):
                if isinstance(field.data, str):
                    field.data = NEWLINES.sub("\n", field.data)
                extra.setdefault(name, []).insert(0, multi_line)
            elif isinstance(field, StringField):
                extra.setdefault(name, []).insert(0, single_line)
        return super().validate(extra)


def form_status(form: Form) -> int:
    """The status of a page that shows `form`: 422 when it came back with errors, else 200."""
    return 422 if form.errors else 200


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


_HTML_SPECIAL = re.compile("[&<>\"']")
_APART = "\x00"  # joins texts escaped in one call: not in any text shown (forms refuse control characters)


def escape_text(text: str) -> str:
    """`escape(text)` as a str, skipping the `Markup` it makes when there is nothing to escape
    (names, ids: ~1 µs a value on a list of thousands). The same characters as `escape`."""
    return str(escape(text)) if _HTML_SPECIAL.search(text) else text


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


# --- forms on pages every visitor shares ---------------------------------------------
#
# A form on a public page (the reminder sign-up, later "I'll be there") must not need a
# session: the page is cached and shared, and a session cookie would make every visitor's
# copy their own (docs/caching.md). Its CSRF protection is two checks, both without a cookie:
#
# 1. The browser says where the POST comes from: `Sec-Fetch-Site` (every current browser)
#    must be same-origin (or "none": typed, a bookmark), or else `Origin` must be this
#    host. A form on another site is refused. This is what stops cross-site forgery here.
# 2. The form carries a token this site signed: HMAC(key, form's scope | time window),
#    the same for every visitor in a window (so it can sit in a cached page), valid for
#    PUBLIC_FORM_TOKEN_MAX_AGE. It proves the POST comes from a page this site served
#    recently: an old saved form or a script posting blind is refused with a reason.


def public_token_window(now: datetime, config: dict) -> int:
    """The number of the time window a public form's token is signed for."""
    return int(now.timestamp()) // max(1, config["PUBLIC_FORM_TOKEN_WINDOW"])


def _signature(scope: str, window: int) -> str:
    key = current_app.secret_key
    key = key.encode() if isinstance(key, str) else key
    mac = hmac.new(key, f"public-form|{scope}|{window}".encode(), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(mac[:18]).decode()


def public_form_token(scope: str, now: datetime) -> str:
    window = public_token_window(now, current_app.config)
    return f"{window}.{_signature(scope, window)}"


def cross_site_post() -> bool:
    """Whether the browser says this request comes from a page of another site."""
    fetch_site = request.headers.get("Sec-Fetch-Site")
    if fetch_site is not None:
        return fetch_site not in ("same-origin", "none")
    origin = request.headers.get("Origin")
    if origin is None:
        return False  # not a browser, or one from before 2020: no victim to forge for
    return urlsplit(origin).netloc.lower() != request.host.lower()


class SignedWindowCSRF(CSRF):
    """WTForms CSRF without a session (see above); the scope is the form's class name."""

    def setup_form(self, form: Any) -> Any:
        self.scope = getattr(form, "csrf_scope", None) or type(form).__name__
        return super().setup_form(form)

    def generate_csrf_token(self, csrf_token_field: Field) -> str:
        return public_form_token(self.scope, utcnow())

    def validate_csrf_token(self, form: Any, field: Field) -> None:
        if cross_site_post():
            raise ValidationError(_l("This form was sent from another website. Open this page on our site "
                                     "and send it from there."))
        window_text, _dot, signature = (field.data or "").partition(".")
        if not field.data:
            raise ValidationError(_l("The form arrived without its security code. Reload the page and send "
                                     "it again."))
        # a hostile token must fail as invalid, not as an error: ASCII digits of a sane length only
        # (int() refuses 4,300+ digits; compare_digest refuses non-ASCII text)
        well_formed = (window_text.isascii() and window_text.isdigit() and len(window_text) <= 15
                       and signature.isascii())
        if not well_formed or not hmac.compare_digest(signature, _signature(self.scope, int(window_text))):
            raise ValidationError(_l("The form's security code is not valid. Reload the page and send it "
                                     "again."))
        config = current_app.config
        now = utcnow()
        window = int(window_text)
        issued_at = window * max(1, config["PUBLIC_FORM_TOKEN_WINDOW"])
        age = now.timestamp() - issued_at
        if window > public_token_window(now, config) + 1 or age > config["PUBLIC_FORM_TOKEN_MAX_AGE"]:
            raise ValidationError(_l("This form was open too long and has expired. It has a new security "
                                     "code now: send it again."))


class PublicForm(Form):
    """The base of a form on a page every visitor shares: CSRF without a session.

    Its view must be declared with `@sessionless_csrf` (the app-wide check reads the
    session's token); the form's own validation does the checks instead.
    """

    class Meta:
        csrf_class = SignedWindowCSRF


def sessionless_csrf(view: F) -> F:
    """A view whose forms are `PublicForm`s: exempt from the session-bound CSRF check only."""
    view.sessionless_csrf = True  # type: ignore[attr-defined]
    return csrf.exempt(view)


class OffsetField(SelectField):
    """"Which one?" beside a local time, shown only while that time happens twice (the repeated
    autumn hour): a form offers the two offsets then (`offer_offsets`), so a second 02:30 can be
    typed and an edit saved unchanged keeps it (tracker.records.wallclock)."""

    def __init__(self, label: Any = None, **kwargs: Any) -> None:
        super().__init__(label or _l("Which one?"), choices=[], validate_choice=False, default="", **kwargs)


def offer_offsets(field: OffsetField, local: datetime | None, zone: ZoneInfo | None) -> None:
    """Offer the two offsets of `local` in `zone` when it happens twice there; otherwise nothing."""
    offsets = wallclock.offsets_at(local, zone) if local is not None and zone is not None else []
    if len(offsets) < 2:
        field.choices = []
        return
    time = f"{local:%H:%M}"
    first, second = (wallclock.format_offset(o) for o in offsets)
    field.choices = [(first, _l("%(time)s UTC%(offset)s, the first time", time=time, offset=first)),
                     (second, _l("%(time)s UTC%(offset)s, the second time, an hour later", time=time, offset=second))]
