"""Sessions and "Stay logged in" cookies end when they should: at logout, at "log out
everywhere", at a password reset and at deactivation, also for a copied cookie used
from another browser. Real test clients with real cookies throughout."""
from __future__ import annotations

import sqlalchemy as sa

from tests.auth.support import PASSWORD, log_in, new_client, post_form
from tests.auth.test_auth_accounts import link_path
from tracker.auth import logic
from tracker.auth.models import User
from tracker.extensions import db
from tracker.mail.models import OutboxMessage

REMEMBER = "remember_token"


def _logged_in(client) -> bool:
    response = client.get("/edit/")
    assert response.status_code in (200, 302), response.status_code
    return response.status_code == 200


def _remembered_client(app, email: str):
    """A browser that logged in with "Stay logged in on this device" ticked."""
    client = new_client(app)
    assert log_in(client, email, remember="y").status_code == 302
    cookie = client.get_cookie(REMEMBER)
    assert cookie is not None and cookie.value, "no remember cookie was set"
    return client, cookie.value


def _with_copied_cookie(app, value: str):
    """Another browser holding only a copy of the remember cookie (no session)."""
    thief = new_client(app)
    thief.set_cookie(REMEMBER, value)
    return thief


def test_logout_after_stay_logged_in_really_logs_out(app, editor):
    client, _value = _remembered_client(app, editor.email)
    assert _logged_in(client)
    response = post_form(client, "/logout", {}, token_from="/edit/")
    assert response.status_code == 302
    assert client.get_cookie(REMEMBER) is None, "logout left the remember cookie in the browser"
    assert not _logged_in(client)
    assert not _logged_in(client)  # and stays logged out


def test_logging_out_on_one_device_keeps_the_others(app, editor):
    laptop, _value = _remembered_client(app, editor.email)
    phone = new_client(app)
    assert log_in(phone, editor.email).status_code == 302
    post_form(laptop, "/logout", {}, token_from="/edit/")
    assert not _logged_in(laptop)
    assert _logged_in(phone)


def test_sessions_carry_a_random_login_id_not_the_account_number(app, editor):
    client = new_client(app)
    assert log_in(client, editor.email).status_code == 302
    with client.session_transaction() as session:
        carried = session["_user_id"]
    db.session.expire_all()
    user = db.session.get(User, editor.id)
    assert carried == user.login_id and carried != str(user.id)
    assert len(carried) >= 40
    other = logic.create_user(db.session, "other@example.org", password=PASSWORD, now=user.created_at)
    db.session.commit()
    assert other.login_id != user.login_id


def test_log_out_everywhere_ends_every_session_and_copied_cookie(app, editor):
    laptop, value = _remembered_client(app, editor.email)
    phone = new_client(app)
    assert log_in(phone, editor.email).status_code == 302
    copy = _with_copied_cookie(app, value)
    assert _logged_in(copy)  # a copied remember cookie is as good as a password today...

    page = phone.get("/account").get_data(as_text=True)
    assert 'action="/account/logout-everywhere"' in page
    response = post_form(phone, "/account/logout-everywhere", {}, token_from="/account")
    assert response.status_code == 302
    assert not _logged_in(phone)
    assert not _logged_in(laptop)
    assert not _logged_in(copy)  # the session it got from the cookie ended too
    assert not _logged_in(_with_copied_cookie(app, value))  # ...and the cookie no longer logs in
    # the password still works: a fresh login gets a fresh session
    assert log_in(new_client(app), editor.email).status_code == 302


def test_log_out_everywhere_is_a_post_with_csrf(app, editor_client):
    assert editor_client.get("/account/logout-everywhere").status_code == 405
    assert editor_client.post("/account/logout-everywhere").status_code == 400  # no CSRF token
    assert _logged_in(editor_client)


def test_a_password_reset_ends_the_thiefs_session_and_cookie(app, editor):
    thief, value = _remembered_client(app, editor.email)
    assert _logged_in(thief)

    owner = new_client(app)
    post_form(owner, "/password-reset", {"email": editor.email})
    [message] = db.session.scalars(sa.select(OutboxMessage).where(OutboxMessage.kind == "password_reset")).all()
    done = post_form(owner, link_path(message), {"password": "a brand new password",
                                                 "confirm": "a brand new password"})
    assert done.status_code == 302
    assert _logged_in(owner)  # the owner's browser is logged in on the new password

    assert not _logged_in(thief)
    assert not _logged_in(_with_copied_cookie(app, value))


def test_deactivation_ends_remember_cookies_for_good(app, admin_client, make_user):
    victim = make_user("leaving@example.org")
    _client, value = _remembered_client(app, victim.email)
    response = post_form(admin_client, f"/admin/accounts/{victim.id}", {"role": "editor"})  # active unticked
    assert response.status_code == 302
    assert not _logged_in(_with_copied_cookie(app, value))
    # reactivated later: the old cookie stays dead, the password works
    response = post_form(admin_client, f"/admin/accounts/{victim.id}", {"role": "editor", "active": "y"})
    assert response.status_code == 302
    assert not _logged_in(_with_copied_cookie(app, value))
    assert log_in(new_client(app), victim.email).status_code == 302


def test_a_forged_cookie_with_an_account_number_logs_nobody_in(app, editor):
    """The remember cookie used to be derived from the row id alone: with the signing key,
    anyone could make one for any account."""
    from flask_login.utils import encode_cookie

    with app.test_request_context():
        forged = encode_cookie(str(editor.id))
    assert not _logged_in(_with_copied_cookie(app, forged))
