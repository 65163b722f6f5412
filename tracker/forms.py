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
from typing import Any, Callable, TypeVar
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo

from babel import support
from flask import current_app, has_request_context, request
from flask_babel import get_locale
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import Field, SelectField, StringField, TextAreaField
from wtforms.csrf.core import CSRF
from wtforms.i18n import messages_path
from wtforms.validators import ValidationError

from tracker.edge import CONTROL_CHARACTERS, CONTROL_CHARACTERS_BUT_LINES
from tracker.caching import public_token_window
from tracker.extensions import csrf, utcnow
from tracker.records import wallclock
from tracker import form_widgets  # noqa: F401  installs the cheaper html_params in WTForms' widgets and labels

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
