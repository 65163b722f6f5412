"""Hostile input on every route: no request may end in a 5xx, on either database.

The walk is generic, so a route or form added later is covered without touching
this file: it takes every rule of `app.url_map`, and for each

- puts each hostile value into each path argument in turn (the others valid);
- puts each hostile value into each query parameter the view reads (found by
  recording which keys the view looks up in `request.args`, plus the fields of
  the GET forms and the query keys of the links on the app's own pages);
- for POST, takes the <form> the app renders for that route, fills it validly
  (its own values, and plausible ones for empty fields) and puts each hostile
  value into each field in turn.

Each of an anonymous visitor, an editor and an admin walks every path and query;
a form's fields are attacked once, by the least privileged role that may post it
(the view's declared access: the code behind it is the same for the others).
Text inputs get the values that matter for text; hidden fields, selects, numbers
and dates get them all. The number of requests is bounded by construction
(rules x arguments x values) and checked.
"""
from __future__ import annotations

import re
import time
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import timedelta
from html.parser import HTMLParser
from itertools import count
from typing import Iterator
from urllib.parse import parse_qsl, quote, urlencode, urlsplit

import pytest
from flask import Flask
from werkzeug.datastructures import ImmutableMultiDict, MultiDict
from werkzeug.routing import Rule

from tests.auth.support import PASSWORD, log_in, make_user, new_client  # noqa: F401 (fixture)
from tracker.auth import logic as auth_logic
from tracker.auth.models import Role
from tracker.extensions import db, limiter
from tracker.reminders import subscriptions
from tracker.mail.models import OutboxBody, OutboxMessage, OutboxStatus
from tracker.reminders.models import Scope, Subscription

# Each value is what an attacker sends instead of a well-formed one.
HOSTILE = {
    "nul": "walk\x00nul",
    "crlf": "/walk\r\nX-Injected: yes",  # path-like, so a redirect target takes it too
    "control": "walk\x1b[2J\x7f\x08",
    "long-text": "ж" * 300,  # 600 bytes: longer than any column and than a file name may be
    "long-number": "9" * 5000,  # more digits than Python converts from text by default
    "huge": str(2**31),  # one more than the largest 32-bit integer (PostgreSQL's INTEGER)
    "huger": str(2**63),  # one more than the largest 64-bit integer (SQLite's)
    "huge-negative": "-99999999999999999999",
    "wrong-type": "walk-not-a-number",
}
# What a person types goes into text inputs: there, numbers are just text and only these matter.
TEXT_KINDS = {"text", "textarea", "email", "password", "url", "search", "tel"}
TEXT_VALUES = ("nul", "crlf", "control", "long-text")
MAX_REQUESTS = 12_000  # the walk is bounded; a route explosion should be noticed, not waited for
FUTURE_DAYS = ["2090-01-10", "2090-05-10", "2090-09-10", "2090-12-10"]  # in order: start < end < review


def values_for(kind: str) -> list[tuple[str, str]]:
    """The hostile values for an input of this type (hidden fields, selects, numbers: all of them)."""
    if kind == "boolean":  # a lone checkbox: any value means "ticked"
        return [(label, HOSTILE[label]) for label in ("nul", "crlf", "long-text")]
    return [(label, value) for label, value in HOSTILE.items() if kind not in TEXT_KINDS or label in TEXT_VALUES]


# --- what the app renders: forms and links -------------------------------------------


@dataclass
class Form:
    action: str
    method: str
    # (name, value) pairs as a browser would send them, in page order
    fields: list[tuple[str, str]] = field(default_factory=list)
    kinds: dict[str, str] = field(default_factory=dict)  # every field's name -> its input type


class PageParser(HTMLParser):
    """Forms (with what a browser submits, filling empty fields plausibly) and link query keys."""

    def __init__(self, page_url: str, fill: Iterator[int]) -> None:
        super().__init__(convert_charrefs=True)
        self.page_url = page_url
        self.fill = fill
        self.forms: list[Form] = []
        self.link_keys: dict[str, set[str]] = defaultdict(set)  # path -> query keys
        self._form: Form | None = None
        self._select: tuple[str, list[tuple[str, bool]]] | None = None
        self._textarea: tuple[str, list[str]] | None = None
        self._choices: dict[str, list[tuple[str, str, bool]]] = {}  # checkbox/radio groups
        self._dates = 0

    def _filler(self, kind: str, name: str) -> str:
        n = next(self.fill)
        if kind == "email":
            return f"walk-{n}@example.org"
        if kind == "password":
            return PASSWORD + " walk"
        if kind == "url":
            return f"https://example.org/walk-{n}"
        if kind == "number":
            return "1"
        if kind in ("date", "datetime-local"):
            day = FUTURE_DAYS[min(self._dates, len(FUTURE_DAYS) - 1)]
            self._dates += 1
            return day if kind == "date" else f"{day}T10:00"
        return f"walk-{n}"

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k: v or "" for k, v in attrs}
        if tag == "a" and "href" in a:
            parts = urlsplit(a["href"])
            if not parts.netloc and parts.query:
                self.link_keys[parts.path or urlsplit(self.page_url).path].update(
                    k for k, _v in parse_qsl(parts.query, keep_blank_values=True))
        if tag == "form":
            action = a.get("action") or self.page_url
            self._form = Form(action=action, method=(a.get("method") or "get").upper())
            self._choices = {}
            self._dates = 0
            return
        form = self._form
        if tag == "option" and self._select is not None:
            self._select[1].append((a.get("value", ""), "selected" in a))
        if form is None or "name" not in a or "disabled" in a:
            return
        name = a["name"]
        if tag == "input":
            kind = a.get("type", "text").lower()
            form.kinds.setdefault(name, kind)
            if kind in ("checkbox", "radio"):
                self._choices.setdefault(name, []).append((kind, a.get("value", "on"), "checked" in a))
            elif kind in ("submit", "button", "image", "reset", "file"):
                return
            else:
                value = a.get("value", "")
                if not value and kind != "hidden":
                    value = self._filler(kind, name)
                form.fields.append((name, value))
        elif tag == "select":
            form.kinds.setdefault(name, "select")
            self._select = (name, [])
        elif tag == "textarea":
            form.kinds.setdefault(name, "textarea")
            self._textarea = (name, [])
        elif tag == "button" and a.get("type", "submit") == "submit":
            form.kinds.setdefault(name, "submit")

    def handle_data(self, data: str) -> None:
        if self._textarea is not None:
            self._textarea[1].append(data)

    def handle_endtag(self, tag: str) -> None:
        form = self._form
        if tag == "select" and self._select is not None and form is not None:
            name, options = self._select
            chosen = [v for v, selected in options if selected]
            if not chosen:  # a browser sends the first; a plausible one is any real choice
                real = [v for v, _s in options if v not in ("", "0")]
                chosen = real[:1] or [v for v, _s in options][:1]
            form.fields += [(name, v) for v in chosen]
            self._select = None
        elif tag == "textarea" and self._textarea is not None and form is not None:
            name, text = self._textarea
            form.fields.append((name, "".join(text).removeprefix("\n") or f"walk text {next(self.fill)}"))
            self._textarea = None
        elif tag == "form" and form is not None:
            for name, boxes in self._choices.items():
                if len(boxes) == 1 and boxes[0][0] == "checkbox":
                    form.kinds[name] = "boolean"
                checked = [value for _k, value, on in boxes if on]
                form.fields += [(name, v) for v in (checked or [boxes[0][1]])]
            self.forms.append(form)
            self._form = None


# --- which keys each view reads ---------------------------------------------------------


class RecordingDict(ImmutableMultiDict):
    """request.args / request.form that note which keys the view asks for."""

    seen: set[str] = set()

    def __getitem__(self, key):  # noqa: ANN001, ANN204
        RecordingDict.seen.add(key)
        return super().__getitem__(key)

    def get(self, key, default=None, type=None):  # noqa: ANN001, ANN201, A002
        RecordingDict.seen.add(key)
        return super().get(key, default, type)

    def getlist(self, key, type=None):  # noqa: ANN001, ANN201, A002
        RecordingDict.seen.add(key)
        return super().getlist(key, type)

    def __contains__(self, key) -> bool:  # noqa: ANN001
        RecordingDict.seen.add(key)
        return super().__contains__(key)


@pytest.fixture
def recording_app(app: Flask):
    """The app as in production for errors: an exception becomes the 500 page, not a test crash."""
    original, propagate = app.request_class, app.config["PROPAGATE_EXCEPTIONS"]
    app.request_class = type("RecordingRequest", (original,), {"parameter_storage_class": RecordingDict})
    app.config["PROPAGATE_EXCEPTIONS"] = False
    limiter.enabled = False  # a 429 after a few tries would hide what comes after it
    try:
        yield app
    finally:
        limiter.enabled = True
        app.request_class = original
        app.config["PROPAGATE_EXCEPTIONS"] = propagate


# --- the records every route can point at -------------------------------------------------


@pytest.fixture
def world(make_case, make_defendant, make_measure, make_decision, make_hearing, make_court, make_user, now):
    """One of everything, with the ids and tokens each route's arguments can name."""
    from datetime import date

    case = make_case(slug="walk")
    person = make_defendant(slug="walk", cases=[case])
    measure = make_measure(person, starts_on=date(2025, 6, 8), until=date(2025, 8, 6))
    decision = make_decision(person)
    court = make_court(name="Walk court")
    hearing = make_hearing(defendants=[person], case=case, court=court, starts_at=now + timedelta(days=400))
    invited = make_user("invited@example.org", password=None)
    resetting = make_user("resetting@example.org")
    other = make_user("other@example.org")
    subscription = Subscription(email="volunteer@example.org", scope=Scope.ALL, scope_key="all",
                                lead_minutes=[1440], digest=False, created_at=now)
    db.session.add(subscription)
    db.session.flush()
    failed = OutboxMessage(dedupe_key="walk", kind="reminder", recipient="volunteer@example.org", subject="s",
                           message_id="<walk@example.org>", status=OutboxStatus.FAILED, created_at=now,
                           next_attempt_at=now, body=OutboxBody(raw=b"x"))
    db.session.add(failed)
    db.session.commit()
    from tracker.extensions import utcnow

    with db.session.no_autoflush:
        ids = {
            "case_id": case.id, "defendant_id": person.id, "measure_id": measure.id, "decision_id": decision.id,
            "hearing_id": hearing.id, "court_id": court.id, "user_id": other.id, "message_id": failed.id,
            "slug": "walk",
        }
        # Routes whose token argument means different secrets: the valid one for each.
        tokens = {
            "auth.accept_invitation": auth_logic.make_token(invited, auth_logic.INVITATION, utcnow()),
            "auth.reset_password": auth_logic.make_token(resetting, auth_logic.PASSWORD_RESET, utcnow()),
            "feeds.private_feed": other.feed_token,
            "reminders.manage": subscription.token,
            "reminders.unsubscribe": subscription.token,
        }
    from flask import current_app

    with current_app.test_request_context():
        tokens["reminders.confirm"] = subscriptions._serializer().dumps(
            {"id": subscription.id, "h": subscriptions._token_hash(subscription)})
    return ids, tokens


# --- the walk ------------------------------------------------------------------------------


@dataclass
class Walk:
    app: Flask
    client: object
    who: str
    ids: dict
    tokens: dict
    fill: Iterator[int] = field(default_factory=lambda: count(1))
    requests: int = 0
    problems: list[str] = field(default_factory=list)
    forms: dict[str, tuple[str, int, Form]] = field(default_factory=dict)  # endpoint -> (page, index, form)
    query_keys: dict[str, set[str]] = field(default_factory=lambda: defaultdict(set))
    csrf_tried: bool = False

    def send(self, method: str, url: str, data: list[tuple[str, str]] | None = None, what: str = ""):
        self.requests += 1
        assert self.requests <= MAX_REQUESTS, "the walk sent more requests than it is allowed"
        headers = {"If-None-Match": '"walk"'}  # lets the feeds' revalidation middleware see it too
        shown = url if len(url) < 120 else url[:120] + "…"
        try:
            response = self.client.open(url, method=method, data=MultiDict(data or []), headers=headers)
        except Exception as error:  # noqa: BLE001 - raised outside Flask: the server's bare 500
            self.problems.append(f"{self.who}: {method} {shown} {what} -> raised {error!r:.100}")
            return None
        if response.status_code >= 500:
            self.problems.append(f"{self.who}: {method} {shown} {what} -> {response.status_code}")
        return response

    def endpoint_of(self, path: str, method: str) -> str | None:
        adapter = self.app.url_map.bind("localhost")
        try:
            return adapter.match(path, method=method)[0]
        except Exception:  # noqa: BLE001 - not one of ours, or a redirect
            return None

    def valid_values(self, rule: Rule) -> dict[str, str]:
        values = {}
        for name in rule.arguments - set(rule.defaults or {}):
            if name == "token" or name == "signed":
                values[name] = self.tokens.get(rule.endpoint, "walk-not-a-token")
            else:
                values[name] = str(self.ids.get(name, 1))
        return values

    def url(self, rule: Rule, values: dict[str, str]) -> str:
        """The rule's URL with raw (percent-encoded) values: the router sees what an attacker sends."""
        path = rule.rule
        for name, value in values.items():
            path = re.sub(rf"<(?:[^>:]+:)?{name}>", lambda _m: quote(value, safe=""), path)
        return path

    def look(self, url: str) -> list[Form]:
        """GET a page, note its forms by the endpoint they post to and the query keys it links with."""
        RecordingDict.seen = set()
        response = self.send("GET", url)
        if response is None:
            return []
        endpoint = self.endpoint_of(urlsplit(url).path, "GET")
        if endpoint:
            self.query_keys[endpoint] |= RecordingDict.seen
        if response.status_code != 200 or "html" not in response.content_type:
            return []
        parser = PageParser(url, self.fill)
        parser.feed(response.get_data(as_text=True))
        for path, keys in parser.link_keys.items():
            target = self.endpoint_of(path, "GET")
            if target:
                self.query_keys[target] |= keys
        for index, form in enumerate(parser.forms):
            path = urlsplit(form.action).path
            target = self.endpoint_of(path, form.method)
            if target is None:
                continue
            if form.method == "GET":
                self.query_keys[target] |= set(form.kinds)
            else:
                self.forms.setdefault(target, (url, index, form))
        return parser.forms

    def fresh_form(self, endpoint: str) -> Form | None:
        """The form as the page renders it now (a save raised the record's version)."""
        page, index, _old = self.forms[endpoint]
        forms = self.look(page)
        return forms[index] if index < len(forms) else None

    def post_fields(self, rule: Rule, url: str) -> None:
        """Each field of the route's form, and each key the view reads, with each hostile value."""
        found = self.forms.get(rule.endpoint)
        form = (found and self.fresh_form(rule.endpoint)) or Form(action=url, method="POST",
                                                                  fields=[("csrf_token", self.csrf())])
        action = urlsplit(form.action).path or url
        RecordingDict.seen = set()
        response = self.send("POST", action, form.fields, "(as rendered)")
        kinds = {**{name: "hidden" for name in sorted(RecordingDict.seen)}, **form.kinds}
        for name, kind in kinds.items():
            if name.endswith("csrf_token") and self.csrf_tried:
                continue  # Flask-WTF checks it the same way for every form: once is enough
            self.csrf_tried = self.csrf_tried or name.endswith("csrf_token")
            for label, value in values_for(kind):
                if response is not None and response.status_code in (302, 303) and found:
                    form = self.fresh_form(rule.endpoint) or form  # saved: the next try needs the new version
                data = [(k, v) for k, v in form.fields if k != name] + [(name, value)]
                response = self.send("POST", action, data, f"{name}={label}")

    def csrf(self) -> str:
        for _page, _index, form in self.forms.values():
            for name, value in form.fields:
                if name == "csrf_token":
                    return value
        return ""

    def body_role(self, rule: Rule) -> str:
        """Who attacks a form's fields: the least privileged role that may post it (the code is the same)."""
        access = getattr(self.app.view_functions[rule.endpoint], "access", "")
        return {"editor": "editor", "admin": "admin"}.get(access, "anonymous")

    def run(self, rules: list[Rule], skip: set[str]) -> None:
        # First every page as it should be: the forms and query keys to attack.
        for rule in rules:
            if "GET" in rule.methods and rule.endpoint not in skip:
                self.look(self.url(rule, self.valid_values(rule)))
        for rule in rules:
            if rule.endpoint in skip:
                continue
            valid = self.valid_values(rule)
            url = self.url(rule, valid)
            methods = sorted(rule.methods - {"HEAD", "OPTIONS"})
            # The router and the view's lookup are the same for each method: the path once.
            method = "GET" if "GET" in methods else methods[0]
            data = None if method == "GET" else [("csrf_token", self.csrf())]
            for name in valid:
                for label, value in HOSTILE.items():
                    self.send(method, self.url(rule, {**valid, name: value}), data, f"<{name}>={label}")
            if "GET" in methods:
                for key in sorted(self.query_keys.get(rule.endpoint, ())):
                    for label, value in HOSTILE.items():
                        self.send("GET", f"{url}?{urlencode({key: value})}", None, f"?{key}={label}")
            if "POST" in methods and self.body_role(rule) == self.who:
                self.post_fields(rule, url)


def _rules(app: Flask) -> list[Rule]:
    """Token routes last (a set-password link logs its user in), logout very last.

    Otherwise longest paths first: a record's actions (postpone, mark held) come before
    its cancel, so that each starts from a record it can still change.
    """
    def order(rule: Rule) -> tuple:
        access = getattr(app.view_functions[rule.endpoint], "access", "")
        return (rule.endpoint == "auth.logout", access == "token", [-ord(c) for c in rule.rule])

    return sorted((r for r in app.url_map.iter_rules() if r.endpoint != "static"), key=order)


@pytest.mark.parametrize("who", ["anonymous", "editor", "admin"])
def test_no_hostile_input_makes_a_server_error(recording_app, world, make_user, who):
    app = recording_app
    ids, tokens = world
    limiter.reset()
    client = new_client(app)
    if who != "anonymous":
        make_user(f"{who}-walker@example.org", role=Role.ADMIN if who == "admin" else Role.EDITOR)
        assert log_in(client, f"{who}-walker@example.org").status_code == 302
    walk = Walk(app, client, who, ids, tokens)
    started, cpu = time.monotonic(), time.process_time()
    walk.run(_rules(app), skip={"auth.logout"} if who != "anonymous" else set())
    elapsed = time.monotonic() - started
    print(f"{who}: {walk.requests} requests in {elapsed:.1f} s ({time.process_time() - cpu:.1f} s CPU)")  # noqa: T201
    assert not walk.problems, f"{len(walk.problems)} server errors:\n" + "\n".join(walk.problems)
    # the walk really reached the forms and parameters it is meant to attack
    assert walk.requests > 300
    if who == "admin":
        assert {"editing.edit_defendant", "editing.new_hearing", "admin.invite", "auth.login"} <= set(walk.forms)
        assert "before" in walk.query_keys["admin.audit_feed"]
        assert "q" in walk.query_keys["records.index"]
