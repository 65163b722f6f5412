"""Going to a hearing: sign-up, confirmation, the public count, withdrawal, the reminder and
change notices to those going, the editors' list and message. Real HTTP, the real SMTP test
server, the editing services for changes."""
from __future__ import annotations

import re
from datetime import timedelta

import pytest
import sqlalchemy as sa
import time_machine
from flask_babel import force_locale, ngettext

from tests.auth.support import TOKEN, csrf_token, log_in, new_client
from tests.reminders.helpers import minutes, outbox
from tracker import formats
from tracker.attendance import logic
from tracker.editing import services
from tracker.editing.models import AuditEntry
from tracker.extensions import db, limiter
from tracker.mail.sending import send_pending
from tracker.records.enums import HearingStatus
from tracker.reminders.changes import notify_hearing_changes
from tracker.reminders.due import enqueue_due
from tracker.reminders.models import Scope, Subscription

CONFIRM = re.compile(r"https?://\S+(/attend/confirm/[\w.\-]+)")
WITHDRAW = re.compile(r"https?://\S+(/attend/withdraw/[\w\-]+)")


@pytest.fixture(autouse=True)
def _fresh_rate_limits(app):
    limiter.reset()
    yield


@pytest.fixture
def clock(now):
    with time_machine.travel(now, tick=False) as traveller:
        yield traveller


@pytest.fixture
def web(app):
    return new_client(app)


@pytest.fixture
def hearing(now, make_case, make_defendant, make_hearing):
    case = make_case(slug="bolotnaya", title="Bolotnaya Square case")
    person = make_defendant(slug="luzyanin", name_latin="Maksim Luzyanin", cases=[case])
    found = make_hearing(defendants=[person], case=case, starts_at=now + timedelta(days=3), courtroom="Room 1")
    db.session.commit()
    return found


def plain(mail) -> str:  # noqa: ANN001
    return mail.get_body(preferencelist=("plain",)).get_content()


def attend(web, hearing, email="anna@example.org", first_name="Anna"):  # noqa: ANN001
    path = f"/attend/{hearing.id}"
    return web.post(path, data={"email": email, "first_name": first_name, "csrf_token": csrf_token(web, path)})


def sign_up_and_confirm(web, hearing, smtp_server, now, email="anna@example.org", first_name="Anna"):  # noqa: ANN001
    assert attend(web, hearing, email, first_name).status_code == 302
    send_pending(db.session, now)
    link = CONFIRM.search(plain(smtp_server.received_by(email)[-1])).group(1)
    page = web.get(link)
    assert web.post(link, data={"csrf_token": TOKEN.search(page.text).group(1)}).status_code == 302
    return db.session.scalar(sa.select(Subscription).where(Subscription.email == email,
                                                           Subscription.scope == Scope.HEARING))


def going_text(web, path: str) -> str:
    return re.search(r'<span class="going">(.*?)</span>', web.get(path).text, re.S).group(1).strip()


def test_sign_up_confirm_count_and_withdraw(web, hearing, smtp_server, now, clock):
    for path in ("/defendants/luzyanin", "/cases/bolotnaya", "/hearings"):
        page = web.get(path).text
        assert f'href="/attend/{hearing.id}"' in page and "I'll be there" in page, path
        assert going_text(web, path) == "Nobody has said they are going yet"

    response = attend(web, hearing, "Anna@Example.org ", "Anna")
    assert response.status_code == 302 and response.headers["Location"] == f"/attend/{hearing.id}/signed-up"
    assert "anna@example.org" in web.get(response.headers["Location"]).text.lower()
    attendance = db.session.scalar(sa.select(Subscription))
    assert attendance.scope is Scope.HEARING and attendance.hearing_id == hearing.id
    assert attendance.first_name == "Anna" and not attendance.is_confirmed

    send_pending(db.session, now)
    [mail] = smtp_server.received_by("anna@example.org")
    assert mail["Subject"] == "Confirm that you will go to the hearing"
    assert "Maksim Luzyanin" in plain(mail)
    assert "List-Unsubscribe" not in mail  # nothing to leave yet
    link = CONFIRM.search(plain(mail)).group(1)

    curl = web.application.test_client(use_cookies=False)
    assert curl.head(link).status_code == 200  # a mail scanner's HEAD and GET confirm nothing
    page = web.get(link)
    assert page.status_code == 200 and "Confirm" in page.text
    db.session.expire_all()
    assert not db.session.get(Subscription, attendance.id).is_confirmed
    assert going_text(web, "/defendants/luzyanin") == "Nobody has said they are going yet"

    confirmed = web.post(link, data={"csrf_token": TOKEN.search(page.text).group(1)})
    assert confirmed.status_code == 302 and confirmed.headers["Location"] == f"/attend/withdraw/{attendance.token}"
    db.session.expire_all()
    assert db.session.get(Subscription, attendance.id).confirmed_at == now
    for path in ("/defendants/luzyanin", "/cases/bolotnaya", "/hearings"):
        assert going_text(web, path) == "1 person is going"
    sign_up_and_confirm(web, hearing, smtp_server, now, "boris@example.org", "")
    assert going_text(web, "/hearings") == "2 people are going"
    assert "2 people are going" in web.get(f"/attend/{hearing.id}").text
    # the count only: no name, no address anywhere public
    for path in ("/defendants/luzyanin", "/cases/bolotnaya", "/hearings", f"/attend/{hearing.id}"):
        text = web.get(path).text
        assert "anna@example.org" not in text and "Anna" not in text and "boris" not in text

    withdraw, attendance_id = f"/attend/withdraw/{attendance.token}", attendance.id
    assert curl.head(withdraw).status_code == 200
    page = web.get(withdraw)
    assert page.status_code == 200 and "Withdraw" in page.text and "anna@" not in page.text
    db.session.expire_all()
    assert db.session.get(Subscription, attendance.id) is not None  # GET and HEAD withdraw nothing
    done = web.post(withdraw, data={"csrf_token": TOKEN.search(page.text).group(1)})
    assert done.status_code == 200 and "no longer counted" in done.text
    db.session.expire_all()
    assert db.session.get(Subscription, attendance_id) is None
    assert going_text(web, "/hearings") == "1 person is going"
    assert web.get(withdraw).status_code == 404  # an old link: says it is gone


def test_the_same_address_twice_is_one_attendance_and_the_answer_is_the_same(web, hearing, smtp_server, now, clock):
    first = sign_up_and_confirm(web, hearing, smtp_server, now)
    again = attend(web, hearing, "anna@example.org", "Someone else")
    assert again.status_code == 302 and again.headers["Location"] == f"/attend/{hearing.id}/signed-up"
    send_pending(db.session, now)
    known = smtp_server.received_by("anna@example.org")[-1]
    assert known["Subject"] == "You already said you will go to this hearing"
    assert WITHDRAW.search(plain(known)).group(1) == f"/attend/withdraw/{first.token}"
    db.session.expire_all()
    assert db.session.scalar(sa.select(sa.func.count(Subscription.id))) == 1
    assert db.session.get(Subscription, first.id).first_name == "Anna"  # a confirmed name is not changed


@pytest.mark.parametrize("field,value", [("first_name", "Anna\x00"), ("first_name", "An\nna"),
                                         ("email", "anna@example.org\r\nBcc: x@example.org"), ("email", "nope"),
                                         ("first_name", "A" * 61)])
def test_bad_input_is_refused_beside_the_field(web, hearing, clock, field, value):
    data = {"email": "anna@example.org", "first_name": "Anna", field: value}
    response = attend(web, hearing, **data)
    assert response.status_code == 400
    assert 'class="field-error"' in response.text and f'id="{field}-error"' in response.text
    assert db.session.scalar(sa.select(sa.func.count(Subscription.id))) == 0


def test_signing_up_is_rate_limited_like_the_reminders(app, web, hearing, clock):
    app.config["REMINDER_SIGNUP_LIMIT"], saved = "3 per minute", app.config["REMINDER_SIGNUP_LIMIT"]
    try:
        codes = [attend(web, hearing, f"p{n}@example.org").status_code for n in range(5)]
    finally:
        app.config["REMINDER_SIGNUP_LIMIT"] = saved
    assert codes == [302, 302, 302, 429, 429]


def test_only_upcoming_public_scheduled_hearings_take_sign_ups(web, now, clock, make_hearing, make_defendant):
    hidden = make_hearing(defendants=[make_defendant(is_public=False)], starts_at=now + timedelta(days=2))
    past = make_hearing(starts_at=now - timedelta(hours=1))
    cancelled = make_hearing(status=HearingStatus.CANCELLED, starts_at=now + timedelta(days=2))
    postponed = make_hearing(status=HearingStatus.POSTPONED, starts_at=now + timedelta(days=2))
    db.session.commit()
    for closed in (hidden, past, cancelled, postponed):
        assert web.get(f"/attend/{closed.id}").status_code == 404
        token = csrf_token(web, "/")
        assert web.post(f"/attend/{closed.id}", data={"email": "a@example.org", "csrf_token": token}).status_code == 404
    assert web.get("/attend/999999").status_code == 404
    assert db.session.scalar(sa.select(sa.func.count(Subscription.id))) == 0


def test_the_sign_up_page_shows_a_line_and_loads_no_entity(web, now, clock, make_hearing, make_defendant, make_case):
    """The page a GET shows reads the hearing as a line (records.lines: columns, its public
    defendants), not as ORM entities; it names the public defendants only, in name order."""
    from tracker.records.models import Court, Defendant, Hearing

    case = make_case(slug="leaflets", title="Leaflets case")
    people = [make_defendant(slug="zubova", name_latin="Zoya Zubova", cases=[case]),
              make_defendant(slug="hidden", name_latin="Hidden Person", is_public=False, cases=[case]),
              make_defendant(slug="abramov", name_latin="Anton Abramov", cases=[case])]
    found = make_hearing(defendants=people, case=case, starts_at=now + timedelta(days=2), courtroom="12", seats=7)
    db.session.commit()
    path = f"/attend/{found.id}"
    loaded = []

    def on_load(target, context) -> None:  # noqa: ANN001
        loaded.append(type(target).__name__)

    for model in (Hearing, Defendant, Court):
        sa.event.listen(model, "load", on_load)
    try:
        page = web.get(path)
    finally:
        for model in (Hearing, Defendant, Court):
            sa.event.remove(model, "load", on_load)
    assert page.status_code == 200
    assert loaded == []
    names = re.findall(r'<a href="/defendants/([\w-]+)">', page.text.split('class="hearing-summary"')[1].split("</p>")[0])
    assert names == ["abramov", "zubova"]
    assert "courtroom 12" in page.text and "7 seats for the public" in page.text


def run_minute(clock_at):  # noqa: ANN001
    """What the scheduler does every minute, in its order."""
    notify_hearing_changes(db.session, clock_at)
    db.session.commit()
    enqueue_due(db.session, clock_at)
    db.session.commit()
    return send_pending(db.session, clock_at)


def test_those_going_get_the_reminder_with_the_link_to_withdraw(web, hearing, smtp_server, now, clock):
    attendance = sign_up_and_confirm(web, hearing, smtp_server, now)
    unconfirmed = attend(web, hearing, "later@example.org")
    assert unconfirmed.status_code == 302
    run_minute(now)
    before = len(smtp_server.received_by("anna@example.org"))
    day_before = hearing.starts_at - minutes(1440)
    assert run_minute(day_before - minutes(1)).sent == 0
    assert run_minute(day_before).sent == 1
    [reminder] = smtp_server.received_by("anna@example.org")[before:]
    assert "hearing of M. Luzyanin" in reminder["Subject"]
    assert WITHDRAW.search(plain(reminder)).group(1) == f"/attend/withdraw/{attendance.token}"
    assert f"/attend/withdraw/{attendance.token}" in reminder["List-Unsubscribe"]
    assert len(smtp_server.received_by("later@example.org")) == 1  # only its confirmation: not going until it confirms
    assert run_minute(day_before + minutes(1)).sent == 0  # exactly once
    assert run_minute(hearing.starts_at - minutes(180)).sent == 1


def test_one_click_unsubscribe_withdraws(web, hearing, smtp_server, now, clock):
    attendance = sign_up_and_confirm(web, hearing, smtp_server, now)
    curl = web.application.test_client(use_cookies=False)
    response = curl.post(f"/attend/withdraw/{attendance.token}", data={"List-Unsubscribe": "One-Click"})
    assert response.status_code == 200 and response.text == "You are no longer counted as going."
    assert db.session.scalar(sa.select(sa.func.count(Subscription.id))) == 0


@pytest.mark.parametrize("change", ["postpone", "cancel"])
def test_a_postponement_or_cancellation_tells_those_going_at_once(
    web, hearing, smtp_server, now, clock, editor, change
):
    attendance = sign_up_and_confirm(web, hearing, smtp_server, now)
    run_minute(now)  # the change job has seen the hearing as it is
    before = len(smtp_server.received_by("anna@example.org"))
    later = now + minutes(10)
    if change == "postpone":
        services.postpone_hearing(db.session, hearing, None, by=editor, now=later)
    else:
        services.cancel_hearing(db.session, hearing, reason="The court said so", by=editor, now=later)
    db.session.commit()
    assert run_minute(later + minutes(1)).sent == 1
    [notice] = smtp_server.received_by("anna@example.org")[before:]
    assert notice["Subject"].startswith("Postponed" if change == "postpone" else "Cancelled")
    assert WITHDRAW.search(plain(notice)).group(1) == f"/attend/withdraw/{attendance.token}"
    assert run_minute(later + minutes(2)).sent == 0
    with time_machine.travel(later + minutes(3), tick=False):
        assert "I'll be there" not in web.get("/defendants/luzyanin").text  # nothing left to go to


def test_someone_who_follows_and_goes_gets_each_mail_once(
    web, hearing, smtp_server, now, clock, editor, make_subscription
):
    """The rule: one message per address per hearing and lead time (or per change); the
    attendance carries it, so its link is the withdraw page."""
    follower = make_subscription(scope=Scope.DEFENDANT, defendant=hearing.defendants[0], email="anna@example.org",
                                 leads=(7 * 1440, 1440))
    db.session.commit()
    attendance = sign_up_and_confirm(web, hearing, smtp_server, now)
    run_minute(now)
    start = len(smtp_server.received_by("anna@example.org"))

    week = run_minute(hearing.starts_at - minutes(7 * 1440))  # the follower's own lead: its own link
    day = run_minute(hearing.starts_at - minutes(1440))
    hours = run_minute(hearing.starts_at - minutes(180))
    mails = smtp_server.received_by("anna@example.org")[start:]
    assert (week.sent, day.sent, hours.sent) == (0, 1, 1)  # a week ahead was before the sign-up (now)
    assert len(mails) == 2
    for mail in mails:
        assert WITHDRAW.search(plain(mail)).group(1) == f"/attend/withdraw/{attendance.token}"

    moved = hearing.starts_at - minutes(170)
    services.postpone_hearing(db.session, hearing, hearing.starts_at + timedelta(days=7), by=editor, now=moved)
    db.session.commit()
    run_minute(moved + minutes(1))
    [notice] = smtp_server.received_by("anna@example.org")[start + 2:]
    assert notice["Subject"].startswith("Moved to ")
    assert WITHDRAW.search(plain(notice)).group(1) == f"/attend/withdraw/{attendance.token}"
    assert follower.id != attendance.id


# --- editors ---------------------------------------------------------------------------------


@pytest.fixture
def going(web, hearing, smtp_server, now, clock):
    anna = sign_up_and_confirm(web, hearing, smtp_server, now, "anna@example.org", "Anna")
    boris = sign_up_and_confirm(web, hearing, smtp_server, now, "boris@example.org", "")
    assert attend(web, hearing, "vera@example.org", "Vera").status_code == 302  # never confirms
    send_pending(db.session, now)
    return anna, boris


def test_editors_see_the_list_and_a_limited_editor_of_another_case_does_not(
    app, hearing, going, make_user, make_case, now
):
    editor = make_user("editor@example.org")
    limited = make_user("limited@example.org", cases=[make_case(slug="other")])
    own = make_user("own@example.org", cases=[hearing.case])
    url = f"/edit/hearings/{hearing.id}/attendees"
    for user in (editor, own):
        client = new_client(app)
        assert log_in(client, user.email).status_code == 302
        page = client.get(url)
        assert page.status_code == 200
        for shown in ("Anna", "anna@example.org", "boris@example.org", "vera@example.org", "Vera", "not yet"):
            assert shown in page.text
        assert "2 confirmed, 1 not confirmed yet" in page.text
        assert f'href="{url}"' in client.get(f"/edit/hearings/{hearing.id}").text
        assert f'href="{url}"' in client.get("/defendants/luzyanin").text
    client = new_client(app)
    assert log_in(client, limited.email).status_code == 302
    for response in (client.get(url), client.post(url, data={"text": "hi", "csrf_token": csrf_token(client, "/edit/")})):
        assert response.status_code in (403, 404)
        assert "anna@example.org" not in response.text
    assert f'href="{url}"' not in client.get("/defendants/luzyanin").text
    anonymous = new_client(app).get(url)
    assert anonymous.status_code == 302 and "/login" in anonymous.headers["Location"]


def test_editors_message_those_going(app, hearing, going, make_user, smtp_server, now):
    editor = make_user("editor@example.org")
    client = new_client(app)
    assert log_in(client, editor.email).status_code == 302
    url = f"/edit/hearings/{hearing.id}/attendees"
    text = "The hearing moved to courtroom 4.\nCome by 9:30."
    response = client.post(url, data={"text": text, "csrf_token": csrf_token(client, url)})
    assert response.status_code == 302
    assert "Sent to 2 people going." in client.get(url).text
    send_pending(db.session, now)
    anna, boris = going
    for attendee in going:
        mail = smtp_server.received_by(attendee.email)[-1]
        assert mail["Subject"].startswith("About the hearing of Maksim Luzyanin")
        assert text in plain(mail).replace("\r\n", "\n")
        assert WITHDRAW.search(plain(mail)).group(1) == f"/attend/withdraw/{attendee.token}"
        assert f"/attend/withdraw/{attendee.token}" in mail["List-Unsubscribe"]
    assert len(smtp_server.received_by("vera@example.org")) == 1  # unconfirmed: only the confirmation
    entry = db.session.scalar(sa.select(AuditEntry).where(AuditEntry.action == logic.MESSAGE_ACTION))
    assert entry.user_id == editor.id and entry.note == text and entry.changes == {"recipients": [None, 2]}
    assert text.splitlines()[0] in client.get(url).text  # listed under the messages sent
    assert "Message to those going" in client.get(f"/edit/hearings/{hearing.id}").text  # in the history


def test_messages_are_bounded_in_size_and_number(app, hearing, going, make_user, now, smtp_server):
    editor = make_user("editor@example.org")
    client = new_client(app)
    assert log_in(client, editor.email).status_code == 302
    url = f"/edit/hearings/{hearing.id}/attendees"
    token = csrf_token(client, url)
    too_long = client.post(url, data={"text": "x" * (logic.MESSAGE_MAX_CHARS + 1), "csrf_token": token})
    assert too_long.status_code == 422 and "At most 1000 characters" in too_long.text
    control = client.post(url, data={"text": "bad\x07bell", "csrf_token": token})
    assert control.status_code == 422
    app.config["ATTENDANCE_MESSAGES_PER_DAY"], saved = 2, app.config["ATTENDANCE_MESSAGES_PER_DAY"]
    try:
        codes = [client.post(url, data={"text": f"note {n}", "csrf_token": token}).status_code for n in range(3)]
    finally:
        app.config["ATTENDANCE_MESSAGES_PER_DAY"] = saved
    assert codes == [302, 302, 429]
    assert db.session.scalar(sa.select(sa.func.count(AuditEntry.id)).where(
        AuditEntry.action == logic.MESSAGE_ACTION)) == 2


def test_seats_are_edited_with_the_hearing_and_shown_to_the_public(app, web, hearing, make_user, now, clock):
    editor = make_user("editor@example.org")
    client = new_client(app)
    assert log_in(client, editor.email).status_code == 302
    url = f"/edit/hearings/{hearing.id}"
    page = client.get(url).text
    assert 'name="seats"' in page
    form = {name: value for name, value in re.findall(r'<input[^>]*name="([^"]+)"[^>]*value="([^"]*)"', page)}
    form.update({"kind": hearing.kind.value, "court": str(hearing.court_id), "case": str(hearing.case_id),
                 "defendants": [str(d.id) for d in hearing.defendants], "seats": "12", "is_open": "y",
                 "starts_at": hearing.local_start.strftime("%Y-%m-%dT%H:%M"), "duration_minutes": "120"})
    form.pop("new_court_timezone", None)
    assert client.post(url, data=form).status_code == 302
    db.session.expire_all()
    assert hearing.seats == 12
    assert going_text(web, "/hearings") == "Nobody has said they are going yet · 12 seats for the public"
    form["seats"] = "0"
    assert client.post(url, data=form).status_code == 422


def test_the_count_in_russian(app):
    with app.test_request_context(), force_locale("ru"):
        said = [ngettext("%(num)d person is going", "%(num)d people are going", n) for n in (1, 3, 7, 21)]
        seats = ngettext("%(num)d seat for the public", "%(num)d seats for the public", 5)
    assert said == ["1 человек придёт", "3 человека придут", "7 человек придут", "21 человек придёт"]
    assert seats == "5 мест для публики"


@pytest.mark.parametrize("language", ["ru", "en"])
def test_the_editors_list_dates_read_in_the_readers_language_and_the_courts_zone(
    app, hearing, going, make_user, now, smtp_server, language
):
    """When each person confirmed and each message went, as Babel writes them in the court's zone:
    no raw "2026-03-02 09:00 UTC" for a Russian editor."""
    editor = make_user("editor@example.org")
    client = new_client(app)
    client.environ_base["HTTP_ACCEPT_LANGUAGE"] = language
    assert log_in(client, editor.email).status_code == 302
    url = f"/edit/hearings/{hearing.id}/attendees"
    assert client.post(url, data={"text": "Courtroom 4.", "csrf_token": csrf_token(client, url)}).status_code == 302
    page = client.get(url).text
    table = re.search(r'<table class="attendees">.*?</table>', page, re.S).group(0)
    sent = re.search(r'<ol class="history">.*?</ol>', page, re.S).group(0)
    stamp = formats.moment_short(now, hearing.court.tz, language)
    assert stamp.count("MSK" if language == "en" else "МСК") == 1
    assert table.count(stamp) == 2  # Anna and Boris confirmed at `now`
    assert stamp in sent
    for part in (table, sent):
        assert "UTC" not in part and now.strftime("%Y-%m-%d") not in part.split("datetime=")[0]
        assert not re.search(r">\s*\d{4}-\d\d-\d\d \d\d:\d\d", part)


def test_those_going_read_the_hearings_people_in_their_order(now, make_case, make_defendant, make_hearing,
                                                             smtp_server):
    """A Russian sign-up's mail names «Вера» before «Тимур» (Cyrillic order), an English one Timur first."""
    case = make_case(slug="order", title="Order case")
    timur = make_defendant(slug="timur", name_latin="Timur Obraztsov", name_original="Тимур Образцов", cases=[case])
    vera = make_defendant(slug="vera", name_latin="Vera Ustareva", name_original="Вера Устарева", cases=[case])
    hearing = make_hearing(defendants=[vera, timur], case=case, starts_at=now + timedelta(days=3))
    db.session.commit()
    logic.sign_up(db.session, hearing=hearing, email="ru@example.org", first_name="Анна", now=now, language="ru")
    logic.sign_up(db.session, hearing=hearing, email="en@example.org", first_name="Anna", now=now, language="en")
    db.session.commit()
    send_pending(db.session, now)
    russian = plain(smtp_server.received_by("ru@example.org")[-1])
    english = plain(smtp_server.received_by("en@example.org")[-1])
    assert "Вера Устарева, Тимур Образцов" in russian
    assert "Timur Obraztsov, Vera Ustareva" in english
