"""Configuration from the environment.

Every setting has a default that works for `make run` on a laptop; production
overrides them with environment variables (or a `.env` file beside this one).
"""
from __future__ import annotations

import os
from pathlib import Path

from dotenv import load_dotenv

BASE_DIR = Path(__file__).resolve().parent
load_dotenv(BASE_DIR / ".env")


def database_url(url: str | None) -> str:
    """Normalise a DATABASE_URL so PostgreSQL always goes through psycopg 3.

    Hosting platforms hand out `postgres://` or `postgresql://` URLs; SQLAlchemy
    would pick psycopg2 for those, which we do not install.
    """
    if not url:
        return f"sqlite:///{BASE_DIR / 'instance' / 'tracker.db'}"
    for prefix in ("postgres://", "postgresql://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix):]
    return url


def _bool(name: str, default: bool = False) -> bool:
    value = os.environ.get(name)
    if value is None:
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def _int_list(name: str, default: str) -> list[int]:
    return [int(part) for part in os.environ.get(name, default).split(",") if part.strip()]


class Config:
    SECRET_KEY = os.environ.get("SECRET_KEY", "dev-only-not-secret")
    SQLALCHEMY_DATABASE_URI = database_url(os.environ.get("DATABASE_URL"))
    SQLALCHEMY_ENGINE_OPTIONS = {"pool_pre_ping": True}
    BASE_URL = os.environ.get("BASE_URL", "http://127.0.0.1:5000").rstrip("/")
    DEFAULT_TIMEZONE = os.environ.get("DEFAULT_TIMEZONE", "Europe/Moscow")
    BABEL_DEFAULT_LOCALE = os.environ.get("BABEL_DEFAULT_LOCALE", "en")
    BABEL_TRANSLATION_DIRECTORIES = str(BASE_DIR / "tracker" / "translations")
    LANGUAGES = ["en", "ru"]

    # Public pages
    DEFENDANTS_PER_PAGE = int(os.environ.get("DEFENDANTS_PER_PAGE", "50"))
    UPCOMING_DAYS = int(os.environ.get("UPCOMING_DAYS", "30"))
    # hearings on one page at most; keep it under 500 (one select-in batch)
    UPCOMING_LIMIT = min(int(os.environ.get("UPCOMING_LIMIT", "300")), 500)

    # Feeds
    FEEDS_DIR = os.environ.get("FEEDS_DIR", str(BASE_DIR / "instance" / "feeds"))
    FEED_REFRESH_MINUTES = int(os.environ.get("FEED_REFRESH_MINUTES", "60"))
    FEED_PAST_DAYS = int(os.environ.get("FEED_PAST_DAYS", "90"))
    FEED_CANCELLED_DAYS = int(os.environ.get("FEED_CANCELLED_DAYS", "14"))

    # Mail
    SMTP_HOST = os.environ.get("SMTP_HOST", "127.0.0.1")
    SMTP_PORT = int(os.environ.get("SMTP_PORT", "8025"))
    SMTP_USER = os.environ.get("SMTP_USER", "")
    SMTP_PASSWORD = os.environ.get("SMTP_PASSWORD", "")
    SMTP_STARTTLS = _bool("SMTP_STARTTLS")
    SMTP_TIMEOUT = float(os.environ.get("SMTP_TIMEOUT", "30"))
    MAIL_FROM = os.environ.get("MAIL_FROM", "Prisoner support tracker <noreply@tracker.localhost>")
    MAIL_MAX_ATTEMPTS = int(os.environ.get("MAIL_MAX_ATTEMPTS", "8"))
    # Where `make run` keeps caught mail (.eml files); empty in production.
    DEV_MAIL_DIR = os.environ.get("DEV_MAIL_DIR", "")
    DEADLINE_ALERT_DAYS = _int_list("DEADLINE_ALERT_DAYS", "7,2")

    # Accounts
    RATELIMIT_STORAGE_URI = os.environ.get("RATELIMIT_STORAGE_URI", "memory://")
    RATELIMIT_HEADERS_ENABLED = True
    INVITATION_MAX_AGE_HOURS = int(os.environ.get("INVITATION_MAX_AGE_HOURS", "72"))
    PASSWORD_RESET_MAX_AGE_HOURS = int(os.environ.get("PASSWORD_RESET_MAX_AGE_HOURS", "2"))
    # How many reverse proxies (nginx, a load balancer) stand in front of the app. Their
    # X-Forwarded-For/-Proto/-Host are trusted that many hops deep, so rate limits see the
    # visitor's address, not the proxy's. 0 (default): trust no forwarded header.
    TRUSTED_PROXIES = int(os.environ.get("TRUSTED_PROXIES", "0"))
    SESSION_COOKIE_HTTPONLY = True
    SESSION_COOKIE_SAMESITE = "Lax"
    WTF_CSRF_TIME_LIMIT = None  # a form left open during a long hearing must still save


class TestConfig(Config):
    TESTING = True
    SECRET_KEY = "test-secret"
    BASE_URL = "http://tracker.test"
    SERVER_NAME = None
    RATELIMIT_STORAGE_URI = "memory://"
    MAIL_MAX_ATTEMPTS = 5
