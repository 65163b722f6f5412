"""Running the real scheduler process against the test database."""
from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Callable

import pytest

ROOT = Path(__file__).resolve().parents[2]


class Process:
    """A `python -m scheduler` child whose log is kept in a file the test can read."""

    def __init__(self, args: list[str], env: dict[str, str], log_path: Path) -> None:
        self.log_path = log_path
        self.log_file = open(log_path, "wb")  # noqa: SIM115
        self.popen = subprocess.Popen(
            [sys.executable, "-m", "scheduler", *args], cwd=ROOT, env=env,
            stdout=self.log_file, stderr=subprocess.STDOUT,
        )

    @property
    def log(self) -> str:
        return self.log_path.read_text(errors="replace")

    def wait(self, timeout: float = 60) -> int:
        try:
            return self.popen.wait(timeout=timeout)
        finally:
            self.log_file.close()

    def stop(self) -> None:
        if self.popen.poll() is None:
            self.popen.kill()
        self.wait(10)


def wait_for(condition: Callable[[], bool], timeout: float = 30, what: str = "a condition") -> None:
    """Poll (bounded) until a child process reaches a state; never a fixed sleep."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.05)
    raise AssertionError(f"timed out after {timeout}s waiting for {what}")


@pytest.fixture
def scheduler_process(app, database_uri, tmp_path):
    """Start scheduler children on the test database and SMTP server; all are killed afterwards."""
    started: list[Process] = []

    def start(*args: str, **extra_env: str) -> Process:
        env = dict(
            os.environ,
            DATABASE_URL=database_uri,
            SECRET_KEY=app.config["SECRET_KEY"],
            SMTP_HOST=str(app.config["SMTP_HOST"]),
            SMTP_PORT=str(app.config["SMTP_PORT"]),
            SMTP_STARTTLS="0",
            BASE_URL=app.config["BASE_URL"],
            MAIL_FROM=app.config["MAIL_FROM"],
            FEEDS_DIR=str(tmp_path / "feeds"),
            FEED_EVENT_CACHE=str(tmp_path / "feed-events.cache"),
            DEV_MAIL_DIR="",
            SCHEDULER_STANDBY_POLL_SECONDS="0.2",
            PYTHONUNBUFFERED="1",
            **extra_env,
        )
        process = Process(list(args), env, tmp_path / f"scheduler-{len(started)}.log")
        started.append(process)
        return process

    yield start
    for process in started:
        process.stop()


@pytest.fixture
def slow_smtp_server(app):
    """Like smtp_server, but each message takes 50 ms to be accepted: a batch takes long
    enough for a test to kill the sender in the middle of it."""
    from tests.conftest import running_smtp_server

    with running_smtp_server(app, accept_delay=0.05) as server:
        yield server
