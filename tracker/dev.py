"""`make run`: the app, the scheduler and a local mail catcher, in one command.

Mail is caught by a real SMTP server on 127.0.0.1:8025 that writes each message
to instance/mail/*.eml; the app shows them at /dev/mail. Nothing leaves the machine.
When 8025 is taken (Mailpit's web UI uses it, so does a second checkout) the catcher
takes a free port and says which; DEV_SMTP_PORT chooses one. A port in use or any
other start-up problem is one line saying what to do, never a traceback.
The app and the scheduler sign sessions with the key in instance/secret_key, made on
the first run (the app refuses to start on a missing or public key).
"""
from __future__ import annotations

import errno
import gc
import logging
import os
import secrets
import signal
import socket
import subprocess
import sys
import time
from email import message_from_bytes, policy
from pathlib import Path

from aiosmtpd.controller import Controller

from tracker import create_app

ROOT = Path(__file__).resolve().parent.parent
HOST = "127.0.0.1"
DEFAULT_PORT = 5000
DEFAULT_SMTP_PORT = 8025
log = logging.getLogger("dev")


class StartupError(Exception):
    """Why `make run` cannot start, in one line that says what to do instead."""


class SaveToFolder:
    """An aiosmtpd handler that keeps each received message as an .eml file."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        folder.mkdir(parents=True, exist_ok=True)

    async def handle_DATA(self, server, session, envelope):  # noqa: ANN001
        message = message_from_bytes(envelope.content, policy=policy.default)
        stamp = time.strftime("%Y%m%d-%H%M%S")
        name = f"{stamp}-{time.monotonic_ns() % 10**9:09d}.eml"
        (self.folder / name).write_bytes(envelope.content)
        log.info("caught mail to %s: %s", ", ".join(envelope.rcpt_tos), message.get("Subject", ""))
        return "250 Message accepted"


def _port(environ: dict[str, str], name: str, default: int) -> int:
    raw = environ.get(name, "").strip()
    if not raw:
        return default
    try:
        port = int(raw)
    except ValueError:
        raise StartupError(f"{name}={raw!r} is not a port number: run e.g. {name}={default + 1} make run") from None
    if not 0 < port < 65536:
        raise StartupError(f"{name}={port} is not a port number (1-65535): run e.g. {name}={default + 1} make run")
    return port


def ports_from(environ: dict[str, str]) -> tuple[int, int | None]:
    """PORT (default 5000) and DEV_SMTP_PORT (None when not chosen: the catcher picks)."""
    smtp = _port(environ, "DEV_SMTP_PORT", DEFAULT_SMTP_PORT) if environ.get("DEV_SMTP_PORT", "").strip() else None
    return _port(environ, "PORT", DEFAULT_PORT), smtp


def _bindable(port: int) -> OSError | None:
    """Whether the web server could listen on the port (with SO_REUSEADDR, as Werkzeug does)."""
    with socket.socket() as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((HOST, port))
        except OSError as error:
            return error
    return None


def _a_free_port(after: int) -> int:
    for candidate in range(after + 1, min(after + 50, 65535)):
        if _bindable(candidate) is None:
            return candidate
    with socket.socket() as sock:
        sock.bind((HOST, 0))
        return sock.getsockname()[1]


def _cannot_bind(name: str, port: int, error: OSError, *, variable_shown: bool = False) -> StartupError:
    what = f"{name}={port}" if variable_shown else f"port {port}"
    if error.errno == errno.EADDRINUSE:
        return StartupError(f"{what} is in use: run {name}={_a_free_port(port)} make run "
                            "(or stop the program that holds it)")
    if error.errno == errno.EACCES:
        return StartupError(f"{what} needs privileges: run {name}={DEFAULT_PORT} make run (any port above 1024)")
    return StartupError(f"cannot listen on {HOST}:{port} ({error.strerror}): run {name}=<another port> make run")


def check_web_port(port: int) -> None:
    """Refuse at once, before the catcher and the scheduler start, when the web port is taken."""
    error = _bindable(port)
    if error is not None:
        raise _cannot_bind("PORT", port, error)


def start_mail_catcher(folder: Path, environ: dict[str, str], default_port: int = DEFAULT_SMTP_PORT):  # noqa: ANN201
    """Start the SMTP catcher; returns (controller, port).

    DEV_SMTP_PORT, when set, is used or refused in one line. Otherwise the default
    port, or a free one the system picks when something (Mailpit, another checkout)
    already holds it: the log says which, and the app is pointed at it.
    """
    _, chosen = ports_from(environ)
    port = chosen or default_port
    # Checked first: the catcher's own thread reports a failed bind only after a 5 s wait.
    error = _bindable(port)
    if error is not None:
        if chosen is not None or error.errno != errno.EADDRINUSE:
            raise _cannot_bind("DEV_SMTP_PORT", port, error, variable_shown=True)
        taken, port = port, _a_free_port(port)
        log.info("port %s is in use (Mailpit? another checkout?): the mail catcher takes %s:%s instead "
                 "(set DEV_SMTP_PORT to choose)", taken, HOST, port)
    catcher = Controller(SaveToFolder(folder), hostname=HOST, port=port)
    try:
        catcher.start()
    except OSError as error:  # taken between the check and the start
        catcher.stop(no_assert=True)
        raise _cannot_bind("DEV_SMTP_PORT", port, error, variable_shown=True) from None
    return catcher, port


def dev_secret_key(instance: Path = ROOT / "instance") -> str:
    """The key `make run` signs sessions with: made once, kept in instance/secret_key (mode
    0600), so logins survive a restart and nothing runs on a key published anywhere."""
    path = instance / "secret_key"
    instance.mkdir(parents=True, exist_ok=True)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return path.read_text(encoding="utf-8").strip()
    key = secrets.token_urlsafe(48)
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        handle.write(key + "\n")
    return key


def use_dev_secret_key(instance: Path = ROOT / "instance") -> None:
    """Point this process and the ones it starts (the scheduler) at the dev key, unless the
    developer set SECRET_KEY or SECRET_KEY_FILE themselves (config.py reads either)."""
    if os.environ.get("SECRET_KEY") or os.environ.get("SECRET_KEY_FILE"):
        return
    dev_secret_key(instance)
    os.environ["SECRET_KEY_FILE"] = str(instance / "secret_key")


def main() -> None:
    use_dev_secret_key()
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    logging.getLogger("mail.log").setLevel(logging.WARNING)  # aiosmtpd logs every SMTP command at INFO
    try:
        port, _ = ports_from(os.environ)
        check_web_port(port)
        mail_dir = ROOT / "instance" / "mail"
        catcher, smtp_port = start_mail_catcher(mail_dir, dict(os.environ))
    except StartupError as error:
        print(f"make run: {error}", file=sys.stderr)
        sys.exit(2)
    log.info("mail catcher on %s:%s, saving to %s (read it at /dev/mail)", HOST, smtp_port, mail_dir)
    env = dict(
        os.environ,
        SMTP_HOST=HOST,
        SMTP_PORT=str(smtp_port),
        SMTP_STARTTLS="0",
        DEV_MAIL_DIR=str(mail_dir),
        BASE_URL=os.environ.get("BASE_URL", f"http://{HOST}:{port}"),
    )
    os.environ.update(env)

    # `kill` (SIGTERM) ends this process like Ctrl-C does, through the `finally` below that stops
    # the scheduler: Python's default for SIGTERM exits at once and left the scheduler running alone
    signal.signal(signal.SIGTERM, lambda signum, frame: sys.exit(128 + signum))
    scheduler = subprocess.Popen([sys.executable, "-m", "scheduler"], cwd=ROOT, env=env)
    log.info("scheduler started (pid %s)", scheduler.pid)
    try:
        app = create_app()
        gc.freeze()  # as wsgi.py: the app's objects live as long as the process
        log.info("serving on http://%s:%s", HOST, port)
        app.run(host=HOST, port=port, debug=False, use_reloader=False)
    finally:
        scheduler.send_signal(signal.SIGTERM)
        try:
            scheduler.wait(timeout=10)
        except subprocess.TimeoutExpired:
            scheduler.kill()
        catcher.stop()


if __name__ == "__main__":
    main()
