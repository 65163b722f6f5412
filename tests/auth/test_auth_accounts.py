"""Accounts: the create-user command, login and logout, invitations and password resets by email."""
from __future__ import annotations

import os
import pty
import re
import select
import subprocess
import sys
import time
from datetime import timedelta
from pathlib import Path
from urllib.parse import urlsplit

import pytest
import sqlalchemy as sa
import time_machine

from tests.conftest import TEST_SECRET_KEY
from tests.auth.support import PASSWORD, csrf_token, log_in, new_client, post_form
from tracker.auth import logic
from tracker.auth.models import Role, User
from tracker.extensions import db
from tracker.mail.models import OutboxMessage

ROOT = Path(__file__).resolve().parents[2]
LINK = re.compile(r"http://tracker\.test(/\S+)")


def outbox(kind: str) -> list[OutboxMessage]:
    return list(db.session.scalars(sa.select(OutboxMessage).where(OutboxMessage.kind == kind)
                                   .order_by(OutboxMessage.id)))


def link_path(message: OutboxMessage) -> str:
    found = LINK.search(message.text_body)
    assert found, message.text_body
    return found.group(1)


# --- the command line ----------------------------------------------------------------------


def test_create_user_reads_the_password_from_stdin(app):
    runner = app.test_cli_runner()
    result = runner.invoke(args=["create-user", "Root@Example.org", "--role", "admin"],
                           input="long enough password\n")
    assert result.exit_code == 0, result.output
    assert "Created admin account root@example.org" in result.output
    user = db.session.scalar(sa.select(User))
    assert user.role is Role.ADMIN
    assert user.password_hash.startswith("$argon2id$")
    assert "long enough password" not in user.password_hash
    assert logic.authenticate(db.session, "root@example.org", "long enough password", user.created_at) is user


def test_create_user_reads_one_line_from_a_pipe(app):
    """A script pipes the password once; asking again would find the pipe empty ("Aborted!")."""
    runner = app.test_cli_runner()
    result = runner.invoke(args=["create-user", "one@example.org"], input="long enough password\n")
    assert result.exit_code == 0, result.output
    assert "Created editor account one@example.org" in result.output
    assert "Repeat" not in result.output
    user = db.session.scalar(sa.select(User))
    assert logic.authenticate(db.session, user.email, "long enough password", user.created_at) is user


def test_create_user_from_a_pipe_refuses_a_weak_or_missing_password_in_one_line(app):
    runner = app.test_cli_runner()
    weak = runner.invoke(args=["create-user", "weak@example.org"], input="short\nlong enough password\n")
    assert weak.exit_code == 1
    assert "Use at least 10 characters." in weak.output and "Aborted" not in weak.output
    empty = runner.invoke(args=["create-user", "none@example.org"], input="")
    assert empty.exit_code == 1
    assert "no password on standard input" in empty.output.lower() and "Aborted" not in empty.output
    assert db.session.scalar(sa.select(sa.func.count(User.id))) == 0


def _create_user_process(database_uri: str, *args: str, **kw) -> subprocess.Popen:
    # a process of its own runs on the production config: it needs a real key, like any deployment
    env = dict(os.environ, DATABASE_URL=database_uri, SECRET_KEY=TEST_SECRET_KEY, PYTHONUNBUFFERED="1")
    return subprocess.Popen([sys.executable, "-m", "flask", "--app", "wsgi", "create-user", *args],
                            cwd=ROOT, env=env, **kw)


def test_create_user_through_a_real_pipe_prints_no_getpass_warning(database_uri):
    process = _create_user_process(database_uri, "piped@example.org", stdin=subprocess.PIPE,
                                   stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    out, err = process.communicate(b"long enough password\n", timeout=60)
    assert process.returncode == 0, (out, err)
    assert b"Created editor account piped@example.org" in out
    assert b"GetPassWarning" not in err and b"echoed" not in err, err
    db.session.expire_all()
    assert db.session.scalar(sa.select(User.email)) == "piped@example.org"


def test_create_user_at_a_terminal_asks_twice(database_uri):
    """At a terminal the password is typed blind, so it is confirmed; a pipe has no typos to catch."""
    controller, terminal = pty.openpty()
    process = _create_user_process(database_uri, "typed@example.org", stdin=terminal, stdout=terminal,
                                   stderr=terminal)
    os.close(terminal)
    seen = b""

    def read_until(marker: bytes) -> None:
        nonlocal seen
        deadline = time.monotonic() + 60
        while marker not in seen:
            assert time.monotonic() < deadline, f"no {marker!r} in {seen!r}"
            ready, _, _ = select.select([controller], [], [], 1)
            if ready:
                try:
                    seen += os.read(controller, 1024)
                except OSError:  # the child closed the terminal
                    break

    try:
        read_until(b"Password:")
        os.write(controller, b"long enough password\n")
        read_until(b"Repeat for confirmation:")
        os.write(controller, b"long enough password\n")
        read_until(b"Created")
        assert process.wait(timeout=60) == 0, seen
    finally:
        if process.poll() is None:
            process.kill()
        os.close(controller)
    assert b"long enough password" not in seen  # never echoed
    assert b"Created editor account typed@example.org" in seen


def test_create_user_help_says_how_the_password_is_read(app):
    result = app.test_cli_runner().invoke(args=["create-user", "--help"])
    assert result.exit_code == 0
    text = " ".join(result.output.split())
    assert "one line" in text and "terminal" in text


def test_create_user_refuses_a_password_option_a_bad_email_and_a_duplicate(app, admin):
    runner = app.test_cli_runner()
    on_command_line = runner.invoke(args=["create-user", "x@example.org", "--password", "secret secret"])
    assert on_command_line.exit_code == 2 and "No such option" in on_command_line.output
    bad = runner.invoke(args=["create-user", "not-an-email"], input="long enough password\n" * 2)
    assert bad.exit_code == 2 and "EMAIL" in bad.output
    duplicate = runner.invoke(args=["create-user", admin.email], input="long enough password\n" * 2)
    assert duplicate.exit_code == 1 and "already exists" in duplicate.output


# --- login and logout --------------------------------------------------------------------------


def test_login_renews_the_session_and_follows_a_safe_next(app, editor):
    client = new_client(app)
    with client.session_transaction() as session:
        session["planted"] = "by an attacker"
    token_before = csrf_token(client)
    response = client.post(
        "/login?next=/edit/hearings/new",
        data={"email": "EDITOR@example.org ", "password": PASSWORD, "csrf_token": token_before},
    )
    assert response.status_code == 302
    assert response.headers["Location"] == "/edit/hearings/new"
    with client.session_transaction() as session:
        assert "planted" not in session
        assert session["_user_id"] == editor.login_id
    assert csrf_token(client, "/edit/") != token_before
    db.session.expire_all()
    assert db.session.get(User, editor.id).last_login_at is not None


@pytest.mark.parametrize("target", [
    "https://evil.example/", "//evil.example/x", "/\\evil.example", "javascript:alert(1)",
    "http://tracker.test.evil.example/", "/%0d%0aLocation:%20http://evil.example", "edit",
])
def test_next_never_leaves_the_site(app, editor, target):
    client = new_client(app)
    token = csrf_token(client)
    response = client.post("/login", query_string={"next": target},
                           data={"email": editor.email, "password": PASSWORD, "csrf_token": token})
    assert response.status_code == 302
    location = response.headers["Location"]
    # either the default page, or a path on this site (an encoded CR/LF stays inert text in the path)
    assert location == "/edit/" or (location.startswith("/") and not location.startswith("//"))
    assert urlsplit(location).netloc == "" and urlsplit(location).scheme == ""


def test_wrong_password_says_so_next_to_the_field_and_keeps_the_email(anon_client, editor):
    response = log_in(anon_client, editor.email, "wrong password")
    assert response.status_code == 401
    body = response.get_data(as_text=True)
    assert 'id="password-error"' in body and "Wrong email or password" in body
    assert f'value="{editor.email}"' in body
    assert PASSWORD not in body


def test_logout_is_a_post_with_csrf(editor_client):
    assert editor_client.get("/logout").status_code == 405
    assert editor_client.post("/logout").status_code == 400  # no CSRF token
    assert editor_client.get("/edit/").status_code == 200
    response = post_form(editor_client, "/logout", {}, token_from="/edit/")
    assert response.status_code == 302
    assert editor_client.get("/edit/").status_code == 302


def test_deactivation_ends_a_session_and_blocks_login(app, admin_client, make_user):
    victim = make_user("leaving@example.org")
    client = new_client(app)
    assert log_in(client, victim.email).status_code == 302
    response = post_form(admin_client, f"/admin/accounts/{victim.id}", {"role": "editor"})  # active unticked
    assert response.status_code == 302
    assert client.get("/edit/").status_code == 302  # logged out on its next request
    assert log_in(client, victim.email).status_code == 401


def test_admin_cannot_deactivate_themselves(admin_client, admin):
    response = post_form(admin_client, f"/admin/accounts/{admin.id}", {"role": "admin"})
    assert response.status_code == 422
    assert "cannot deactivate your own account" in response.get_data(as_text=True)
    db.session.expire_all()
    assert db.session.get(User, admin.id).active


def test_admin_limits_an_editor_to_cases(admin_client, make_user, make_case):
    editor = make_user("lawyer@example.org")
    first, second = make_case(), make_case()
    db.session.commit()
    response = post_form(admin_client, f"/admin/accounts/{editor.id}",
                         {"role": "editor", "active": "y", "cases": [str(second.id)]})
    assert response.status_code == 302
    db.session.expire_all()
    assert [c.id for c in db.session.get(User, editor.id).cases] == [second.id]
    listing = admin_client.get("/admin/accounts").get_data(as_text=True)
    assert second.title in listing


# --- invitations ---------------------------------------------------------------------------------


def test_invitation_by_email_sets_a_password_once(app, admin_client, make_case):
    case = make_case(title="Bolotnaya")
    db.session.commit()
    response = post_form(admin_client, "/admin/accounts/invite",
                         {"email": "New.Lawyer@example.org", "name": "Anna", "role": "editor",
                          "cases": [str(case.id)]})
    assert response.status_code == 302
    [message] = outbox("invitation")
    assert message.recipient == "new.lawyer@example.org"
    assert message.subject == "You are invited to edit the prisoner support tracker"
    assert "admin@example.org invited you" in message.text_body
    user = db.session.scalar(sa.select(User).where(User.email == "new.lawyer@example.org"))
    assert user.password_hash is None and [c.title for c in user.cases] == ["Bolotnaya"]

    path = link_path(message)
    invitee = new_client(app)
    page = invitee.get(path)
    assert page.status_code == 200 and "new.lawyer@example.org" in page.get_data(as_text=True)
    mismatch = post_form(invitee, path, {"password": "a good long password", "confirm": "another one"})
    assert mismatch.status_code == 422 and "The two passwords differ." in mismatch.get_data(as_text=True)
    done = post_form(invitee, path, {"password": "a good long password", "confirm": "a good long password"})
    assert done.status_code == 302
    assert invitee.get("/edit/").status_code == 200  # logged in

    reused = new_client(app).get(path)
    assert reused.status_code == 400
    assert "already been used" in reused.get_data(as_text=True)
    assert log_in(new_client(app), "new.lawyer@example.org", "a good long password").status_code == 302


def test_an_invitation_expires(app, admin, now):
    user = logic.invite_editor(db.session, "late@example.org", by=admin, now=now)
    db.session.commit()
    token = logic.make_token(user, logic.INVITATION, now)
    assert logic.user_for_token(db.session, token, logic.INVITATION, now + timedelta(hours=71)) == user
    with pytest.raises(logic.AccountError, match="expired"):
        logic.user_for_token(db.session, token, logic.INVITATION, now + timedelta(hours=73))
    with pytest.raises(logic.AccountError, match="not valid"):  # a reset link is not an invitation
        logic.user_for_token(db.session, token, logic.PASSWORD_RESET, now)
    with pytest.raises(logic.AccountError, match="not valid"):
        logic.user_for_token(db.session, token[:-2] + "xx", logic.INVITATION, now)
    # through the page, three days and an hour later
    path = link_path(outbox("invitation")[0])
    with time_machine.travel(now + timedelta(hours=73), tick=False):
        page = new_client(app).get(path)
    assert page.status_code == 400 and "expired" in page.get_data(as_text=True)


@pytest.mark.parametrize(("email", "message"), [
    ("not-an-email", "This is not an email address."),
    ("a" * 300 + "@example.org", "Field cannot be longer than 254 characters."),
    ("admin@example.org", "An account with this email already exists."),
])
def test_invitation_form_validation(admin_client, email, message):
    response = post_form(admin_client, "/admin/accounts/invite", {"email": email, "name": "Keep Me",
                                                                  "role": "editor"})
    assert response.status_code == 422
    body = response.get_data(as_text=True)
    assert 'id="email-error"' in body and message in body
    assert 'value="Keep Me"' in body
    assert outbox("invitation") == []


def test_invitation_goes_out_through_the_real_sender(app, admin, smtp_server, now):
    from tracker.mail.sending import send_pending

    logic.invite_editor(db.session, "smtp@example.org", by=admin, now=now)
    db.session.commit()
    report = send_pending(db.session, now)
    assert report.sent == 1
    [received] = smtp_server.received_by("smtp@example.org")
    assert received["Subject"] == "You are invited to edit the prisoner support tracker"
    body = received.get_body(preferencelist=("plain",)).get_content()
    path = LINK.search(body).group(1)
    with time_machine.travel(now + timedelta(hours=1), tick=False):  # read an hour after it was sent
        assert new_client(app).get(path).status_code == 200


# --- password reset --------------------------------------------------------------------------------


def test_password_reset_by_email(app, editor, anon_client):
    unknown = post_form(anon_client, "/password-reset", {"email": "nobody@example.org"})
    known = post_form(anon_client, "/password-reset", {"email": editor.email})
    assert unknown.status_code == known.status_code == 302  # the same answer: no account discovery
    [message] = outbox("password_reset")
    assert message.recipient == editor.email
    assert message.subject == "Reset your password for the prisoner support tracker"

    path = link_path(message)
    done = post_form(anon_client, path, {"password": "a brand new password", "confirm": "a brand new password"})
    assert done.status_code == 302
    assert log_in(new_client(app), editor.email, PASSWORD).status_code == 401
    assert log_in(new_client(app), editor.email, "a brand new password").status_code == 302
    assert new_client(app).get(path).status_code == 400  # used once


def test_reset_form_checks_the_email(anon_client):
    response = post_form(anon_client, "/password-reset", {"email": "nope"})
    assert response.status_code == 422
    assert "This is not an email address." in response.get_data(as_text=True)
