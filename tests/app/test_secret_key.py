"""The app never runs on a public SECRET_KEY: whoever knows the key can sign a session for
any account, an admin's included. `make run` makes its own key once and keeps it."""
from __future__ import annotations

import os
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import free_port
from tracker.dev import dev_secret_key, use_dev_secret_key

ROOT = Path(__file__).resolve().parents[2]
REFUSAL = "SECRET_KEY is missing"
A_REAL_KEY = "k3pXv0-its-a-long-random-value-nobody-else-has-9Qz"


def _env(database_uri: str, **settings: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in ("SECRET_KEY", "SECRET_KEY_FILE")}
    env.update(DATABASE_URL=database_uri, PYTHONPATH=str(ROOT), **settings)
    return env


def _run(command: list[str], env: dict[str, str]) -> subprocess.CompletedProcess:
    return subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)


START_APP = "from tracker import create_app; create_app(); print('started')"


@pytest.mark.slow
@pytest.mark.parametrize("settings", [
    {},
    {"SECRET_KEY": "dev-only-not-secret"},  # the public default of earlier versions
    {"SECRET_KEY": "short"},
    {"SECRET_KEY_FILE": "/nonexistent/secret_key"},
])
def test_the_app_refuses_to_start_without_a_real_key(database_uri, settings):
    done = _run([sys.executable, "-c", START_APP], _env(database_uri, **settings))
    assert done.returncode != 0
    assert "started" not in done.stdout
    assert REFUSAL in done.stderr.strip().splitlines()[-1], done.stderr  # the reason, on one line


@pytest.mark.slow
def test_gunicorn_and_the_scheduler_refuse_too(database_uri):
    port = free_port()
    served = _run([sys.executable, "-m", "gunicorn", "--no-control-socket", "-b", f"127.0.0.1:{port}", "wsgi:app"],
                  _env(database_uri))
    assert served.returncode != 0
    assert REFUSAL in served.stderr, served.stderr[-2000:]
    scheduler = _run([sys.executable, "-m", "scheduler", "--once", "--job", "publish_feeds"], _env(database_uri))
    assert scheduler.returncode != 0
    assert REFUSAL in scheduler.stderr, scheduler.stderr[-2000:]


@pytest.mark.slow
def test_a_real_key_from_the_environment_or_a_file_starts(database_uri, tmp_path):
    assert "started" in _run([sys.executable, "-c", START_APP], _env(database_uri, SECRET_KEY=A_REAL_KEY)).stdout
    key_file = tmp_path / "key"
    key_file.write_text(A_REAL_KEY + "\n")
    from_file = _run([sys.executable, "-c", START_APP], _env(database_uri, SECRET_KEY_FILE=str(key_file)))
    assert "started" in from_file.stdout, from_file.stderr


def test_make_run_makes_a_key_once_and_keeps_it_private(tmp_path):
    instance = tmp_path / "instance"
    key = dev_secret_key(instance)
    path = instance / "secret_key"
    assert len(key) >= 40 and path.read_text().strip() == key
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert dev_secret_key(instance) == key  # the next `make run` keeps it: sessions survive restarts


def test_make_run_gives_the_app_and_the_scheduler_the_same_key(tmp_path, monkeypatch, database_uri):
    monkeypatch.delenv("SECRET_KEY", raising=False)
    monkeypatch.delenv("SECRET_KEY_FILE", raising=False)
    use_dev_secret_key(tmp_path)  # `make run` does this before starting the scheduler and the app
    assert Path(os.environ["SECRET_KEY_FILE"]).read_text().strip() == dev_secret_key(tmp_path)
    # the scheduler child inherits the environment: it signs with the same key
    child = _run([sys.executable, "-c", START_APP + "; print(create_app().config['SECRET_KEY'])"],
                 dict(os.environ, DATABASE_URL=database_uri, PYTHONPATH=str(ROOT)))
    assert child.stdout.strip().splitlines()[-1] == dev_secret_key(tmp_path), child.stderr

    # a key the developer set themselves wins
    monkeypatch.delenv("SECRET_KEY_FILE")
    monkeypatch.setenv("SECRET_KEY", A_REAL_KEY)
    use_dev_secret_key(tmp_path)
    assert "SECRET_KEY_FILE" not in os.environ
