"""`make run` (tracker/dev.py): ports in use are a one-line message or another port, never a traceback."""
from __future__ import annotations

import logging
import os
import secrets
import signal
import smtplib
import socket
import subprocess
import sys
from email.message import EmailMessage
from pathlib import Path

import pytest

from tests.conftest import free_port
from tracker import dev

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def held_port():
    """A loopback port something else is listening on, as Mailpit or a second checkout would."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen()
        yield sock.getsockname()[1]


def _send(port: int) -> None:
    message = EmailMessage()
    message["From"], message["To"], message["Subject"] = "a@example.org", "b@example.org", "caught?"
    message.set_content("hello")
    with smtplib.SMTP("127.0.0.1", port, timeout=10) as smtp:
        smtp.send_message(message)


def test_the_catcher_takes_another_port_when_the_default_is_taken_and_says_which(held_port, tmp_path, caplog):
    caplog.set_level(logging.INFO, logger="dev")
    catcher, port = dev.start_mail_catcher(tmp_path, {}, default_port=held_port)
    try:
        assert port != held_port
        _send(port)
        assert len(list(tmp_path.glob("*.eml"))) == 1  # it really catches mail there
    finally:
        catcher.stop()
    logged = caplog.text
    assert f"port {held_port} is in use" in logged and f"127.0.0.1:{port}" in logged
    assert "DEV_SMTP_PORT" in logged


def test_the_catcher_keeps_the_default_port_when_it_is_free(tmp_path):
    port = free_port()
    catcher, chosen = dev.start_mail_catcher(tmp_path, {}, default_port=port)
    catcher.stop()
    assert chosen == port


def test_a_chosen_catcher_port_in_use_is_one_line_saying_what_to_do(held_port, tmp_path):
    with pytest.raises(dev.StartupError) as refused:
        dev.start_mail_catcher(tmp_path, {"DEV_SMTP_PORT": str(held_port)})
    message = str(refused.value)
    assert "\n" not in message
    assert f"DEV_SMTP_PORT={held_port}" in message and "in use" in message


def test_the_web_port_in_use_is_one_line_naming_a_free_one(held_port):
    with pytest.raises(dev.StartupError) as refused:
        dev.check_web_port(held_port)
    message = str(refused.value)
    assert "\n" not in message
    assert f"port {held_port} is in use: run PORT=" in message and "make run" in message
    suggested = int(message.split("PORT=")[1].split()[0])
    assert suggested != held_port


@pytest.mark.parametrize("env", [{"PORT": "abc"}, {"PORT": "5000", "DEV_SMTP_PORT": "mail"}])
def test_a_port_that_is_not_a_number_is_one_line(env):
    with pytest.raises(dev.StartupError) as refused:
        dev.ports_from(env)
    assert "\n" not in str(refused.value) and "number" in str(refused.value)


def _run_dev(env: dict[str, str]) -> subprocess.CompletedProcess:
    """`python -m tracker.dev` as `make run` starts it; it must stop by itself on these errors."""
    return subprocess.run([sys.executable, "-m", "tracker.dev"], cwd=ROOT, capture_output=True, text=True,
                          timeout=60, env={**os.environ, "DATABASE_URL": "sqlite://", **env})


@pytest.mark.slow
def test_make_run_with_its_web_port_taken_exits_with_one_line_and_no_traceback(held_port):
    result = _run_dev({"PORT": str(held_port), "DEV_SMTP_PORT": str(free_port())})
    assert result.returncode != 0
    assert "Traceback" not in result.stderr
    assert f"port {held_port} is in use: run PORT=" in result.stderr
    assert "scheduler started" not in result.stderr  # nothing was started before the check


@pytest.mark.slow
def test_make_run_with_its_chosen_mail_port_taken_exits_with_one_line_and_no_traceback(held_port):
    result = _run_dev({"PORT": str(free_port()), "DEV_SMTP_PORT": str(held_port)})
    assert result.returncode != 0
    assert "Traceback" not in result.stderr and "OSError" not in result.stderr, result.stderr
    assert f"DEV_SMTP_PORT={held_port}" in result.stderr


def _alive(pid: int) -> bool:
    """Whether the process runs (a zombie, dead but not yet reaped by its parent, does not)."""
    try:
        with open(f"/proc/{pid}/stat") as stat:
            return stat.read().rsplit(")", 1)[1].split()[0] != "Z"
    except FileNotFoundError:
        return False


@pytest.mark.slow
def test_stopping_make_run_with_sigterm_stops_its_scheduler_too(tmp_path):
    """`kill <pid>` of `make run` (not Ctrl-C, which signals the whole terminal group) left the
    scheduler running alone: it went on publishing feeds and sending mail from a checkout
    nobody served any more."""
    database = f"sqlite:///{tmp_path / 'tracker.db'}"
    env = {**os.environ, "DATABASE_URL": database, "PORT": str(free_port()), "DEV_SMTP_PORT": str(free_port()),
           "FEEDS_DIR": str(tmp_path / "feeds"), "FEED_EVENT_CACHE": str(tmp_path / "events.cache"),
           "FLASK_APP": "wsgi"}
    env.setdefault("SECRET_KEY", secrets.token_urlsafe(48))
    subprocess.run([sys.executable, "-m", "flask", "db", "upgrade"], cwd=ROOT, env=env, check=True,
                   capture_output=True, timeout=120)
    server = subprocess.Popen([sys.executable, "-m", "tracker.dev"], cwd=ROOT, env=env, text=True,
                              stderr=subprocess.PIPE, stdout=subprocess.DEVNULL)
    scheduler_pid = None
    try:
        for line in server.stderr:  # the log says the scheduler's pid, then that it serves
            if "scheduler started (pid " in line:
                scheduler_pid = int(line.split("(pid ")[1].split(")")[0])
            if "serving on http://" in line:
                break
        assert scheduler_pid is not None and _alive(scheduler_pid)
        server.terminate()  # SIGTERM, as `kill` sends
        server.wait(timeout=30)
        # make run waits for its scheduler before it exits: nothing is left to wait for here
        assert not _alive(scheduler_pid), "the scheduler outlived make run"
    finally:
        if server.poll() is None:
            server.kill()
        if scheduler_pid is not None and _alive(scheduler_pid):
            os.kill(scheduler_pid, signal.SIGKILL)
