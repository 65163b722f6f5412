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


def _secret_key() -> str:
    """SECRET_KEY, or else the contents of the file SECRET_KEY_FILE names (a systemd
    credential, a Docker secret, or the key `make run` keeps in instance/secret_key).

    No default: create_app refuses to start without a real key (tracker.check_secret_key).
    """
    key = os.environ.get("SECRET_KEY", "").strip()
    path = os.environ.get("SECRET_KEY_FILE", "").strip()
    if not key and path:
        try:
            key = Path(path).read_text(encoding="utf-8").strip()
        except OSError:
            return ""
    return key


class Config:
    # Signs sessions, remember cookies, CSRF tokens and the links in emails.
    SECRET_KEY = _secret_key()
    SQLALCHEMY_DATABASE_URI = database_url(os.environ.get("DATABASE_URL"))
    # hide_parameters: a database error in the log shows the SQL, not the values (tokens, emails, notes)
    SQLALCHEMY_ENGINE_OPTIONS = {"hide_parameters": True}
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

    # Public pages in shared caches (docs/caching.md): how long nginx, a CDN or a browser may
    # serve a page without asking, and how much longer a stale copy may be served while one
    # request revalidates it (the ETag makes that a cheap 304 when nothing changed)
    PAGE_MAX_AGE = int(os.environ.get("PAGE_MAX_AGE", "60"))
    PAGE_STALE_WHILE_REVALIDATE = int(os.environ.get("PAGE_STALE_WHILE_REVALIDATE", "300"))
    # pages that show "upcoming" or "next" hearings change with the clock: their ETag moves
    # every this many seconds (a hearing that just ended leaves the page at most this late)
    PAGE_CLOCK_SECONDS = int(os.environ.get("PAGE_CLOCK_SECONDS", "60"))
    # answer unchanged-page revalidations (304) before Flask runs; off only to measure the difference
    PAGE_REVALIDATION_MIDDLEWARE = _bool("PAGE_REVALIDATION_MIDDLEWARE", True)
    # what turns rows into HTML (a deploy id, e.g. the git commit); default: a hash of the
    # code, templates, translations and static files, computed at start
    RELEASE = os.environ.get("RELEASE", "")
    # forms on shared pages (the reminder sign-up): their CSRF token is signed per window and
    # accepted this long after it was issued (a page left open all day still works)
    PUBLIC_FORM_TOKEN_WINDOW = int(os.environ.get("PUBLIC_FORM_TOKEN_WINDOW", "3600"))
    PUBLIC_FORM_TOKEN_MAX_AGE = int(os.environ.get("PUBLIC_FORM_TOKEN_MAX_AGE", str(24 * 3600)))

    # JSON API (/api/v1/) and the public CSV export
    # how long browsers, proxies and CDNs may keep an answer before revalidating (ETag)
    API_CACHE_SECONDS = int(os.environ.get("API_CACHE_SECONDS", "60"))
    API_PAGE_SIZE = int(os.environ.get("API_PAGE_SIZE", "50"))
    # the largest `limit` a client may ask for; a page reads limit + 1 rows, and staying
    # within one select-in batch (500) keeps the number of SQL statements per page fixed
    API_MAX_PAGE_SIZE = min(int(os.environ.get("API_MAX_PAGE_SIZE", "200")), 499)
    EXPORT_CACHE_SECONDS = int(os.environ.get("EXPORT_CACHE_SECONDS", "300"))

    # Feeds
    FEEDS_DIR = os.environ.get("FEEDS_DIR", str(BASE_DIR / "instance" / "feeds"))
    # the serialized events a publisher made, for a process that has not published yet (a web
    # worker hiding a defendant): never inside FEEDS_DIR, which is served; empty: off
    FEED_EVENT_CACHE = os.environ.get("FEED_EVENT_CACHE", str(BASE_DIR / "instance" / "feed-events.cache"))
    FEED_REFRESH_MINUTES = int(os.environ.get("FEED_REFRESH_MINUTES", "60"))
    FEED_PAST_DAYS = int(os.environ.get("FEED_PAST_DAYS", "90"))
    FEED_CANCELLED_DAYS = int(os.environ.get("FEED_CANCELLED_DAYS", "14"))
    # days to appeal a first-instance decision (shown in editors' private feeds)
    APPEAL_DAYS = int(os.environ.get("APPEAL_DAYS", "15"))
    # pin the right-hand side of event UIDs if the site ever moves (default: BASE_URL's host)
    FEED_UID_DOMAIN = os.environ.get("FEED_UID_DOMAIN", "")
    # where subscribers fetch feeds, if not the app itself (e.g. https://cdn.example.org/feeds)
    FEEDS_URL = os.environ.get("FEEDS_URL", "")
    # how long HTTP caches and CDNs may keep a feed before asking again
    FEED_CACHE_SECONDS = int(os.environ.get("FEED_CACHE_SECONDS", "60"))
    # answer unchanged-feed polls (304) before Flask runs; off only to measure the difference
    FEED_REVALIDATION_MIDDLEWARE = _bool("FEED_REVALIDATION_MIDDLEWARE", True)

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
    # editors are told once a prisoner has been in transit this many days with no destination
    # recorded, and again every TRANSIT_ALERT_REPEAT_DAYS until one is (docs/staleness.md)
    TRANSIT_ALERT_DAYS = int(os.environ.get("TRANSIT_ALERT_DAYS", "14"))
    TRANSIT_ALERT_REPEAT_DAYS = max(1, int(os.environ.get("TRANSIT_ALERT_REPEAT_DAYS", "7")))
    # editors' weekly list of facts that can no longer be true: Monday from this hour (DEFAULT_TIMEZONE)
    STALE_FACTS_HOUR = int(os.environ.get("STALE_FACTS_HOUR", os.environ.get("DIGEST_HOUR", "7")))
    # first retry after this many seconds, then twice as long each time (capped at 6 hours)
    MAIL_RETRY_BASE_SECONDS = int(os.environ.get("MAIL_RETRY_BASE_SECONDS", "60"))
    REMINDER_SIGNUP_LIMIT = os.environ.get("REMINDER_SIGNUP_LIMIT", "5 per minute;30 per hour")
    # editors' messages to those going to one hearing, at most this many in 24 hours (docs/attendance.md)
    ATTENDANCE_MESSAGES_PER_DAY = int(os.environ.get("ATTENDANCE_MESSAGES_PER_DAY", "5"))
    # Organisers' action submissions, per client address (docs/actions.md)
    ACTION_SUBMIT_LIMIT = os.environ.get("ACTION_SUBMIT_LIMIT", "5 per minute;30 per hour")
    # the weekly digest goes out on Monday from this hour (DEFAULT_TIMEZONE)
    DIGEST_HOUR = int(os.environ.get("DIGEST_HOUR", "7"))
    # messages per run of the send job, so a run ends in bounded time
    SEND_BATCH_LIMIT = int(os.environ.get("SEND_BATCH_LIMIT", "5000"))

    # Accounts
    RATELIMIT_STORAGE_URI = os.environ.get("RATELIMIT_STORAGE_URI", "memory://")
    RATELIMIT_HEADERS_ENABLED = True
    # failed logins only; a successful one does not count
    LOGIN_LIMIT_PER_ACCOUNT = os.environ.get("LOGIN_LIMIT_PER_ACCOUNT", "5 per 15 minutes")
    LOGIN_LIMIT_PER_ADDRESS = os.environ.get("LOGIN_LIMIT_PER_ADDRESS", "20 per 15 minutes")
    PASSWORD_RESET_LIMIT = os.environ.get("PASSWORD_RESET_LIMIT", "5 per hour")
    INVITATION_MAX_AGE_HOURS = int(os.environ.get("INVITATION_MAX_AGE_HOURS", "72"))
    PASSWORD_RESET_MAX_AGE_HOURS = int(os.environ.get("PASSWORD_RESET_MAX_AGE_HOURS", "2"))
    # How many reverse proxies (nginx, a load balancer) stand in front of the app. Their
    # X-Forwarded-For/-Proto/-Host are trusted that many hops deep, so rate limits see the
    # visitor's address, not the proxy's. 0 (default): trust no forwarded header.
    TRUSTED_PROXIES = int(os.environ.get("TRUSTED_PROXIES", "0"))
    # Import and export (docs/import.md)
    # rows one web upload may hold: a confirmed import runs inside one request, which must end
    # within the server's timeout (gunicorn: 30 s by default); ~2.5 ms of CPU per change
    IMPORT_MAX_ROWS = int(os.environ.get("IMPORT_MAX_ROWS", "3000"))
    # rows `flask import-records` accepts (it shows progress and has no request timeout)
    IMPORT_CLI_MAX_ROWS = int(os.environ.get("IMPORT_CLI_MAX_ROWS", "200000"))
    # a confirmed import of this many changes or more streams its progress to the page
    IMPORT_PROGRESS_FROM = int(os.environ.get("IMPORT_PROGRESS_FROM", "500"))
    IMPORT_MAX_BYTES = int(os.environ.get("IMPORT_MAX_BYTES", str(10 * 1024 * 1024)))
    # uploads waiting for their dry run to be confirmed hold private data: deleted after this
    IMPORT_UPLOAD_MAX_AGE_MINUTES = int(os.environ.get("IMPORT_UPLOAD_MAX_AGE_MINUTES", "60"))

    # The scheduler (`python -m scheduler`): how often each job runs, in seconds
    PUBLISH_FEEDS_EVERY_SECONDS = int(os.environ.get("PUBLISH_FEEDS_EVERY_SECONDS", "60"))
    PLAN_MAIL_EVERY_SECONDS = int(os.environ.get("PLAN_MAIL_EVERY_SECONDS", "30"))
    SEND_MAIL_EVERY_SECONDS = int(os.environ.get("SEND_MAIL_EVERY_SECONDS", "15"))
    PURGE_SIGNUPS_EVERY_SECONDS = int(os.environ.get("PURGE_SIGNUPS_EVERY_SECONDS", "3600"))
    PURGE_IMPORT_UPLOADS_EVERY_SECONDS = int(os.environ.get("PURGE_IMPORT_UPLOADS_EVERY_SECONDS", "600"))

    SESSION_COOKIE_HTTPONLY = True
    SESSION_COOKIE_SAMESITE = "Lax"
    WTF_CSRF_TIME_LIMIT = None  # a form left open during a long hearing must still save


class TestConfig(Config):
    TESTING = True
    FEED_EVENT_CACHE = ""  # each test app that publishes names its own (never the instance folder)
    SECRET_KEY = "test-secret"
    BASE_URL = "http://tracker.test"
    SERVER_NAME = None
    RATELIMIT_STORAGE_URI = "memory://"
    MAIL_MAX_ATTEMPTS = 5
