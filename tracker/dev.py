"""`make run`: the app, the scheduler and a local mail catcher, in one command.

Mail is caught by a real SMTP server on 127.0.0.1:8025 that writes each message
to instance/mail/*.eml; the app shows them at /dev/mail. Nothing leaves the machine.
The app and the scheduler sign sessions with the key in instance/secret_key, made on
the first run (the app refuses to start on a missing or public key).
"""
from __future__ import annotations

import logging
import os
import secrets
import signal
import subprocess
import sys
import time
from email import message_from_bytes, policy
from pathlib import Path

from aiosmtpd.controller import Controller

ROOT = Path(__file__).resolve().parent.parent
log = logging.getLogger("dev")


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
    port = int(os.environ.get("PORT", "5000"))
    mail_dir = ROOT / "instance" / "mail"
    smtp_port = int(os.environ.get("DEV_SMTP_PORT", "8025"))
    env = dict(
        os.environ,
        SMTP_HOST="127.0.0.1",
        SMTP_PORT=str(smtp_port),
        SMTP_STARTTLS="0",
        DEV_MAIL_DIR=str(mail_dir),
        BASE_URL=os.environ.get("BASE_URL", f"http://127.0.0.1:{port}"),
    )
    os.environ.update(env)

    catcher = Controller(SaveToFolder(mail_dir), hostname="127.0.0.1", port=smtp_port)
    catcher.start()
    log.info("mail catcher on 127.0.0.1:%s, saving to %s (read it at /dev/mail)", smtp_port, mail_dir)

    scheduler = subprocess.Popen([sys.executable, "-m", "scheduler"], cwd=ROOT, env=env)
    log.info("scheduler started (pid %s)", scheduler.pid)
    try:
        from tracker import create_app

        app = create_app()
        log.info("serving on http://127.0.0.1:%s", port)
        app.run(host="127.0.0.1", port=port, debug=False, use_reloader=False)
    finally:
        scheduler.send_signal(signal.SIGTERM)
        try:
            scheduler.wait(timeout=10)
        except subprocess.TimeoutExpired:
            scheduler.kill()
        catcher.stop()


if __name__ == "__main__":
    main()
