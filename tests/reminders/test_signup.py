"""Signing up without an account: double opt-in, same answer for every address, manage, one-click unsubscribe."""
from __future__ import annotations

import re
from datetime import timedelta

import pytest
import sqlalchemy as sa

from tests.auth.support import TOKEN, csrf_token, new_client
from tests.reminders.helpers import outbox
from tracker.extensions import db, utcnow
from tracker.reminders import subscriptions
from tracker.reminders.due import enqueue_due
from tracker.mail.models import OutboxStatus
from tracker.reminders.models import Scope, Subscription
from tracker.mail.sending import send_pending

LINK = re.compile(r"https?://\S+/reminders/confirm/[\w.\-]+")


@pytest.fixture
def web(app):
    return new_client(app)


@pytest.fixture
def person(make_defendant, make_case):
    case = make_case(slug="bolotnaya", title="Bolotnaya Square case")
    defendant = make_defendant(slug="luzyanin", name_latin="Maksim Luzyanin")
    case.defendants.append(defendant)
    db.session.commit()
    return defendant


def sign_up(web, page: str, **data):
    token = csrf_token(web, page)
    form = {"email": "volunteer@example.org", "follow": "all", "mode": "each", "leads": ["1440", "180"],
            "next": page, "csrf_token": token}
    form.update(data)
    return web.post("/reminders/signup", data=form)


def test_the_form_is_on_the_home_case_and_defendant_pages(web, person):
    for path, follow in (("/", "all"), ("/cases/bolotnaya", "case:bolotnaya"),
                         ("/defendants/luzyanin", "defendant:luzyanin")):
        page = web.get(path).text
        assert 'action="/reminders/signup"' in page
        assert f'value="{follow}"' in page
        assert 'name="csrf_token"' in page


def test_sign_up_confirm_and_receive(web, person, smtp_server):
    response = sign_up(web, "/defendants/luzyanin", follow="defendant:luzyanin")
    assert response.status_code == 302
    assert response.headers["Location"] == "/reminders/signed-up?next=/defendants/luzyanin"
    subscription = db.session.scalar(sa.select(Subscription))
    assert subscription.scope is Scope.DEFENDANT and subscription.defendant_id == person.id
    assert subscription.lead_minutes == [1440, 180] and not subscription.is_confirmed

    send_pending(db.session, utcnow())
    [mail] = smtp_server.received_by("volunteer@example.org")
    assert mail["Subject"] == "Confirm your court-date reminders"
    link = LINK.search(mail.get_body(preferencelist=("plain",)).get_content()).group(0)
    path = link.split("tracker.test", 1)[1]

    page = web.get(path)  # a mail scanner opening the link confirms nothing
    assert page.status_code == 200 and "Confirm" in page.text
    db.session.expire_all()
    assert not db.session.get(Subscription, subscription.id).is_confirmed

    token = TOKEN.search(page.text).group(1)
    response = web.post(path, data={"csrf_token": token})
    assert response.status_code == 302
    db.session.expire_all()
    assert db.session.get(Subscription, subscription.id).is_confirmed


def test_the_answer_is_the_same_for_new_unconfirmed_and_known_addresses(web, person, make_subscription, smtp_server):
    make_subscription(email="known@example.org", leads=(60,))
    db.session.commit()
    answers = []
    for address in ("new@example.org", "new@example.org", "known@example.org"):
        response = sign_up(web, "/", email=address)
        outcome = web.get(response.headers["Location"]).text
        assert "We sent a message to" in outcome and address in outcome  # a typo is seen at once
        answers.append((response.status_code, response.headers["Location"], outcome.replace(address, "ADDRESS")))
    assert answers[0] == answers[1] == answers[2]
    known = db.session.scalar(sa.select(Subscription).where(Subscription.email == "known@example.org"))
    assert known.lead_minutes == [60]  # someone who only knows the address changes nothing
    kinds = sorted((m.recipient, m.kind) for m in outbox())
    # one email per sign-up within ten minutes (the form cannot flood an inbox)
    assert kinds == [("known@example.org", "subscription_known"), ("new@example.org", "subscription_confirm")]


def test_bad_input_gets_a_message_next_to_the_field_and_is_kept(web):
    response = sign_up(web, "/", email="not-an-address")
    assert response.status_code == 400
    assert 'value="not-an-address"' in response.text
    assert re.search(r'class="field-error"[^>]*>[^<]*(email|address)', response.text)
    response = sign_up(web, "/", mode="each", leads=[])
    assert response.status_code == 400
    assert "Choose at least one time" in response.text
    assert outbox() == []


def test_sign_ups_are_rate_limited(web):
    codes = [sign_up(web, "/", email=f"v{i}@example.org").status_code for i in range(6)]
    assert codes == [302] * 5 + [429]


def test_an_old_confirmation_link_has_expired(now, make_subscription):
    subscription = make_subscription(confirmed=False)
    db.session.commit()
    signed = subscriptions.confirm_url(subscription).rsplit("/", 1)[1]
    with pytest.raises(subscriptions.ExpiredLink):
        subscriptions.confirm(db.session, signed, utcnow() + timedelta(days=8))
    with pytest.raises(subscriptions.BadLink):
        subscriptions.confirm(db.session, signed[:-2] + "xx", utcnow())
    assert subscriptions.confirm(db.session, signed, utcnow()).is_confirmed


def test_a_tampered_link_is_a_404_with_a_reason(web):
    response = web.get("/reminders/confirm/not-a-real-link")
    assert response.status_code == 404
    assert "not valid" in response.text


def test_unconfirmed_sign_ups_are_deleted_after_seven_days(now, make_subscription):
    stale = make_subscription(confirmed=False, created_at=now - timedelta(days=8))
    fresh = make_subscription(confirmed=False, created_at=now - timedelta(days=6))
    confirmed = make_subscription(created_at=now - timedelta(days=30))
    subscriptions.sign_up(db.session, email=stale.email, scope=Scope.ALL, lead_minutes=[60], digest=False,
                          now=now - timedelta(days=8))
    db.session.commit()
    assert subscriptions.purge_unconfirmed(db.session, now) == 1
    db.session.commit()
    remaining = set(db.session.scalars(sa.select(Subscription.id)))
    assert remaining == {fresh.id, confirmed.id}
    assert all(m.recipient != stale.email for m in outbox())  # nothing about them is kept


def test_the_manage_page_changes_what_is_followed(web, make_subscription):
    subscription = make_subscription(email="volunteer@example.org", leads=(1440,))
    db.session.commit()
    page = web.get(f"/reminders/manage/{subscription.token}")
    assert page.status_code == 200
    assert "volunteer@example.org" not in page.text and "v…@example.org" in page.text
    token = TOKEN.search(page.text).group(1)
    response = web.post(f"/reminders/manage/{subscription.token}",
                        data={"csrf_token": token, "mode": "digest", "leads": []})
    assert response.status_code == 302
    db.session.expire_all()
    subscription = db.session.get(Subscription, subscription.id)
    assert subscription.digest is True
    response = web.post(f"/reminders/manage/{subscription.token}",
                        data={"csrf_token": token, "mode": "each", "leads": ["10080", "60"]})
    db.session.expire_all()
    assert db.session.get(Subscription, subscription.id).lead_minutes == [10080, 60]
    assert web.get("/reminders/manage/no-such-token").status_code == 404


def test_a_get_of_the_unsubscribe_link_changes_nothing(web, make_subscription):
    subscription = make_subscription()
    db.session.commit()
    response = web.get(f"/reminders/unsubscribe/{subscription.token}")
    assert response.status_code == 302
    assert response.headers["Location"] == f"/reminders/manage/{subscription.token}"
    db.session.expire_all()
    assert db.session.get(Subscription, subscription.id) is not None


def test_one_click_unsubscribe_is_a_post_with_no_cookie(app, now, make_hearing, make_subscription):
    make_hearing(starts_at=now + timedelta(hours=2))
    subscription = make_subscription()
    enqueue_due(db.session, now)
    db.session.commit()
    assert [m.status for m in outbox("reminder")] == [OutboxStatus.PENDING]
    token = subscription.token
    mail_client = app.test_client(use_cookies=False)  # what a mail provider sends: no cookie, no CSRF token
    response = mail_client.post(f"/reminders/unsubscribe/{token}",
                                data={"List-Unsubscribe": "One-Click"})
    assert response.status_code == 200
    db.session.expire_all()
    assert db.session.scalar(sa.select(Subscription)) is None
    assert outbox() == []  # the pending reminder is gone with the address
    again = mail_client.post(f"/reminders/unsubscribe/{token}", data={"List-Unsubscribe": "One-Click"})
    assert again.status_code == 200


def test_other_reminder_forms_still_need_csrf(app, make_subscription):
    subscription = make_subscription()
    db.session.commit()
    bare = app.test_client(use_cookies=False)
    assert bare.post("/reminders/signup", data={"email": "a@example.org", "follow": "all"}).status_code == 400
    assert bare.post(f"/reminders/manage/{subscription.token}", data={"mode": "digest"}).status_code == 400


def test_subscribers_addresses_never_appear_on_public_pages(web, person, make_subscription):
    make_subscription(email="secret-volunteer@example.org", scope=Scope.DEFENDANT, defendant=person)
    db.session.commit()
    for path in ("/", "/cases/bolotnaya", "/defendants/luzyanin", "/hearings", "/dates", "/reminders/signup"):
        response = web.get(path)
        assert response.status_code == 200, path
        assert "secret-volunteer" not in response.text, path


def test_following_something_not_public_is_refused_with_a_reason(web, make_defendant):
    make_defendant(slug="hidden", is_public=False)
    db.session.commit()
    response = sign_up(web, "/", follow="defendant:hidden")
    assert response.status_code == 400
    assert "no longer on the site" in response.text
    assert 'value="volunteer@example.org"' in response.text  # what was typed is kept
    assert db.session.scalar(sa.select(Subscription)) is None


HOSTILE_NEXT = [
    "/\t/evil.example", "\t//evil.example", "//evil.example", "/\\evil.example",
    "https://evil.example/", "/\r\nSet-Cookie: planted=1", "/\n/evil.example", "/\x7f/evil.example",
    "/\x85/evil.example", " /\u0009/evil.example",
]


@pytest.mark.parametrize("hostile", HOSTILE_NEXT)
def test_the_sign_up_never_sends_the_browser_off_the_site(web, hostile):
    """`next` comes from the form: tab, CR/LF and other controls must neither redirect away nor answer 500."""
    response = sign_up(web, "/", email="v@example.org", next=hostile)
    assert response.status_code == 302
    hops = [response.headers["Location"]]
    while response.status_code in (301, 302, 303):
        response = web.get(response.headers["Location"])
        hops.append(response.headers.get("Location", ""))
    for location in hops:
        assert "evil" not in location and "planted" not in location, hops
        assert not location.startswith("//") and "\t" not in location, hops
    assert response.status_code == 200
    assert "evil.example" not in response.text and "planted" not in response.text
    assert "Set-Cookie" not in response.text


def test_the_one_safe_redirect_helper_refuses_controls_anywhere(app):
    from tracker.links import safe_next

    host = "http://tracker.test/"
    for hostile in HOSTILE_NEXT + ["/ok\x00", "/\u2028/evil.example", "/ok\x9b"]:
        assert safe_next(hostile, host) is None, repr(hostile)
    assert safe_next("/defendants/luzyanin?page=2#reminders", host) == "/defendants/luzyanin?page=2#reminders"


def test_an_old_manage_link_after_unsubscribing_says_what_happened(web, make_subscription):
    subscription = make_subscription(scope=Scope.ALL)
    db.session.commit()
    token = subscription.token
    page = web.get(f"/reminders/manage/{token}")
    web.post(f"/reminders/unsubscribe/{token}", data={})
    for link in (f"/reminders/manage/{token}", f"/reminders/unsubscribe/{token}"):
        response = web.get(link, follow_redirects=True)
        assert response.status_code == 404
        assert "family" not in response.text  # not the records' "nothing at this address"
        assert "These reminders were stopped" in response.text
        assert 'href="/reminders/signup"' in response.text and "Sign up again" in response.text
    assert page.status_code == 200


def test_the_outcome_is_its_own_page_that_says_what_happens_next(web, person):
    response = sign_up(web, "/defendants/luzyanin", follow="defendant:luzyanin", email="me@example.org")
    page = web.get(response.headers["Location"])
    assert page.status_code == 200
    text = page.text
    main = text.split('<main id="main">', 1)[1]
    # the outcome is the first thing in the page's content, not a note above a fresh form
    assert main.lstrip().startswith("<h1>Check your inbox</h1>")
    assert "me@example.org" in main and "Confirm" in main and "spam" in main
    assert 'action="/reminders/signup"' not in text  # no empty form to submit again
    assert 'href="/defendants/luzyanin"' in text  # back where they were


def test_too_many_sign_ups_get_the_sites_own_page_saying_when_to_try_again(web):
    codes = [sign_up(web, "/", email=f"v{i}@example.org").status_code for i in range(5)]
    assert codes == [302] * 5
    blocked = sign_up(web, "/", email="v5@example.org")
    assert blocked.status_code == 429
    text = blocked.text
    assert '<link rel="stylesheet" href="/static/style.css">' in text and 'class="site"' in text
    assert "per 1 minute" not in text and "Too Many Requests" not in text
    seconds = int(blocked.headers["Retry-After"])
    assert 0 < seconds <= 60
    assert re.search(r"try again in (about )?\d+ seconds?", text), text
    assert "If you already pressed" in text  # the earlier sign-up went through


def test_the_sign_up_form_is_styled_like_the_editing_forms(web):
    response = sign_up(web, "/", email="not-an-address", mode="each", leads=[])
    assert response.status_code == 400
    form = response.text.split('<form class="stacked', 1)[1].split("</form>", 1)[0]
    # errors beside their field, marked, and tied to the control with aria-describedby
    assert re.search(r'<input[^>]*aria-describedby="email-error"[^>]*>', form)
    assert re.search(r'<p class="field-error" id="email-error" role="alert">[^<]*(email|address)', form)
    boxes = re.findall(r'<input[^>]*type="checkbox"[^>]*>', form)
    assert boxes and all('aria-describedby="leads-error"' in box for box in boxes)
    assert re.search(r'<p class="field-error" id="leads-error" role="alert">Choose at least one time', form)
    # each option's label wraps its control, so the two stay together on a phone
    assert len(re.findall(r'<label><input[^>]*type="(checkbox|radio)"[^>]*> [^<]+</label>', form)) >= 7
    assert '<button type="submit">Remind me</button>' in form and 'type="submit" value=' not in form
