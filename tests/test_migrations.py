"""The migrations build exactly the schema the models describe, on both databases."""
from __future__ import annotations

import uuid
from datetime import datetime, timezone

import pytest
import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from flask_migrate import downgrade, upgrade

from config import TestConfig
from tracker import create_app
from tracker.extensions import db


@pytest.fixture
def scratch_database(database_uri, tmp_path):
    """An empty database of the same kind as the suite's, dropped afterwards."""
    if database_uri.startswith("sqlite"):
        yield f"sqlite:///{tmp_path / 'migrations.db'}"
        return
    url = sa.engine.make_url(database_uri)
    name = f"{url.database}_mig_{uuid.uuid4().hex[:8]}"
    admin = sa.create_engine(url.set(database="postgres"), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
    try:
        yield url.set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as conn:
            conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@pytest.fixture
def scratch_app(scratch_database):
    """The app on that empty database, not yet migrated: each test upgrades it as far as it needs."""
    class Config(TestConfig):
        SQLALCHEMY_DATABASE_URI = scratch_database

    return create_app(Config)


def test_migrations_match_the_models(scratch_app):
    app = scratch_app
    with app.app_context():
        upgrade(revision="heads")
        with db.engine.connect() as conn:
            context = MigrationContext.configure(conn, opts={"compare_type": True})
            differences = compare_metadata(context, db.metadata)
        db.engine.dispose()
    assert differences == []


def test_there_is_one_head():
    from alembic.script import ScriptDirectory
    from flask import current_app

    config = current_app.extensions["migrate"].migrate.get_config()
    heads = ScriptDirectory.from_config(config).get_heads()
    assert len(heads) == 1, f"merge the migration heads: {heads}"


def test_existing_accounts_get_their_own_login_id(scratch_app):
    """0003_login_ids fills the new column for accounts made before it, each with its own value."""
    app = scratch_app
    with app.app_context():
        upgrade(revision="0002_reminders")
        with db.engine.begin() as conn:
            for email in ("a@example.org", "b@example.org"):
                conn.execute(sa.text("INSERT INTO users (email, name, role, active, created_at) "
                                     "VALUES (:email, '', 'editor', :yes, '2026-01-01 00:00:00')"),
                             {"email": email, "yes": True})
        upgrade(revision="0003_login_ids")
        with db.engine.connect() as conn:
            ids = conn.execute(sa.text("SELECT login_id FROM users")).scalars().all()
        db.engine.dispose()
    assert len(ids) == 2 and len(set(ids)) == 2
    assert all(isinstance(value, str) and len(value) >= 40 for value in ids)


def test_existing_defendants_get_the_search_key(scratch_app):
    """0009_original_script rewrites the search key of defendants made before it, so the folded,
    transliterated search finds them at once; the new columns start empty."""
    app = scratch_app
    with app.app_context():
        upgrade(revision="0008_transit")
        with db.engine.begin() as conn:
            conn.execute(sa.text(
                "INSERT INTO defendants (slug, name_original, name_latin, search_name, bio, charges, status, "
                "letters_address, letters_status, is_public, lawyer_contacts, internal_notes, version, "
                "created_at, updated_at) VALUES ('yulia', 'Юлия Щукина', 'Yulia Shchukina', 'юлия щукина yulia "
                "shchukina', '', '', 'pre_trial_detention', 'SIZO-1', 'unknown', :yes, '', '', 1, "
                "'2026-01-01 00:00:00', '2026-01-01 00:00:00')"), {"yes": True})
            conn.execute(sa.text("INSERT INTO courts (name, address, timezone) VALUES ('A court', '', 'UTC')"))
        upgrade(revision="0009_original_script")
        with db.engine.connect() as conn:
            key = conn.execute(sa.text("SELECT search_name FROM defendants")).scalar_one()
            letters = conn.execute(sa.text("SELECT letters_address_original FROM defendants")).scalar_one()
            court = conn.execute(sa.text("SELECT name_original, address_original FROM courts")).one()
        db.engine.dispose()
    assert key == "iulia schukina"
    assert letters == "" and tuple(court) == ("", "")


def test_existing_defendants_get_the_russian_readers_sort_key(scratch_app):
    """0017_sort_key_original keys the defendants made before it, so a Russian reader's home list
    is in order at once (Вера before Тимур, a Latin-only name after both); downgrading drops it."""
    app = scratch_app
    with app.app_context():
        upgrade(revision="0016_outbox_body_lz4")
        with db.engine.begin() as conn:
            for slug, latin, original in (("timur", "Timur Obraztsov", "Тимур Образцов"),
                                          ("vera", "Vera Ustareva", "Вера Устарева"), ("john", "John Smith", "")):
                conn.execute(sa.text(
                    "INSERT INTO defendants (slug, name_original, name_latin, search_name, bio, charges, status, "
                    "letters_address, letters_address_original, letters_status, is_public, lawyer_contacts, "
                    "internal_notes, version, created_at, updated_at) VALUES (:slug, :original, :latin, '', '', '', "
                    "'pre_trial_detention', '', '', 'unknown', :yes, '', '', 1, '2026-01-01 00:00:00', "
                    "'2026-01-01 00:00:00')"), {"slug": slug, "original": original, "latin": latin, "yes": True})
        upgrade(revision="0017_sort_key_original")
        with db.engine.connect() as conn:
            order = conn.execute(sa.text("SELECT slug FROM defendants ORDER BY sort_key_original")).scalars().all()
        downgrade(revision="0016_outbox_body_lz4")
        with db.engine.connect() as conn:
            columns = {c["name"] for c in sa.inspect(conn).get_columns("defendants")}
        db.engine.dispose()
    assert order == ["vera", "timur", "john"]
    assert "sort_key_original" not in columns


def test_outbox_messages_move_to_their_own_table_and_back(scratch_app):
    """0014_outbox_bodies moves each message's body out of the outbox row, stored once (the composed
    message, or the parts of a row written without it); downgrading gives the rows their text and
    HTML back, read from the composed message."""

    from tracker.mail.message import compose

    text, html = "Привет,\nthe hearing is tomorrow.\n", "<p>Привет,</p>\n<p>the hearing is <b>tomorrow</b>.</p>\n"
    raw = compose(message_id="<one@tracker.test>", sender="mail@tracker.test", recipient="v@example.org",
                  subject="s", text_body=text, html_body=html, date=datetime(2026, 1, 1, tzinfo=timezone.utc),
                  ics=b"BEGIN:VCALENDAR\r\nEND:VCALENDAR\r\n")
    insert = sa.text("INSERT INTO outbox (id, dedupe_key, kind, recipient, subject, text_body, html_body, message_id, "
                     "status, attempts, next_attempt_at, last_error, created_at, raw) VALUES (:id, :key, 'reminder', "
                     "'v@example.org', 's', :text, :html, :mid, :status, 0, '2026-01-01 00:00:00', '', "
                     "'2026-01-01 00:00:00', :raw)")
    app = scratch_app
    with app.app_context():
        upgrade(revision="0013_action_external_id")
        with db.engine.begin() as conn:
            conn.execute(insert, {"id": 1, "key": "composed", "text": text, "html": html, "mid": "<one@tracker.test>",
                                  "status": "sent", "raw": raw})
            conn.execute(insert, {"id": 2, "key": "by hand", "text": "Plain only", "html": None,
                                  "mid": "<two@tracker.test>", "status": "pending", "raw": None})
        upgrade(revision="0014_outbox_bodies")
        with db.engine.connect() as conn:
            bodies = conn.execute(sa.text("SELECT outbox_id, raw, text_body, html_body FROM outbox_bodies "
                                          "ORDER BY outbox_id")).all()
            columns = {c["name"] for c in sa.inspect(conn).get_columns("outbox")}
            statuses = conn.execute(sa.text("SELECT status FROM outbox ORDER BY id")).scalars().all()
        with db.engine.begin() as conn:  # a body goes with its message (SQLite too, whose foreign keys are off)
            conn.execute(sa.text("DELETE FROM outbox WHERE id = 2"))
            left = conn.execute(sa.text("SELECT outbox_id FROM outbox_bodies")).scalars().all()
        downgrade(revision="0013_action_external_id")
        with db.engine.connect() as conn:
            restored = conn.execute(sa.text("SELECT raw, text_body, html_body FROM outbox ORDER BY id")).all()
            tables = sa.inspect(conn).get_table_names()
        db.engine.dispose()
    assert [tuple(b) for b in bodies] == [(1, raw, None, None), (2, None, "Plain only", None)]
    assert not {"raw", "text_body", "html_body"} & columns and statuses == ["sent", "pending"]
    assert left == [1]
    assert [tuple(r) for r in restored] == [(raw, text, html)]
    assert "outbox_bodies" not in tables


def test_outbox_bodies_are_compressed_with_lz4_and_back(scratch_app, is_postgres):
    """0016_outbox_body_lz4: on PostgreSQL with lz4, bodies written after it are lz4-compressed (pglz took
    half the time of writing them); downgraded, new ones are pglz again. Every body reads back the same."""
    from flask_migrate import downgrade

    from tracker.mail.models import lz4_available

    raw = ("Subject: the hearing is tomorrow\r\n\r\n" + "Arrive early; bring ID. " * 300).encode()
    insert_message = sa.text(
        "INSERT INTO outbox (id, dedupe_key, kind, recipient, subject, message_id, status, attempts, next_attempt_at, "
        "last_error, created_at) VALUES (:id, :id, 'reminder', 'v@example.org', 's', :id, 'pending', 0, "
        "'2026-01-01 00:00:00', '', '2026-01-01 00:00:00')")
    insert_body = sa.text("INSERT INTO outbox_bodies (outbox_id, raw) VALUES (:id, :raw)")
    compression = sa.text("SELECT outbox_id, pg_column_compression(raw) FROM outbox_bodies ORDER BY outbox_id")
    app = scratch_app
    with app.app_context():
        upgrade(revision="0015_case_title_original")
        with db.engine.begin() as conn:
            conn.execute(insert_message, {"id": 1}), conn.execute(insert_body, {"id": 1, "raw": raw})
        upgrade(revision="0016_outbox_body_lz4")
        with db.engine.begin() as conn:
            conn.execute(insert_message, {"id": 2}), conn.execute(insert_body, {"id": 2, "raw": raw})
            lz4 = lz4_available(conn)
            upgraded = conn.execute(compression).all() if is_postgres else []
        downgrade(revision="0015_case_title_original")
        with db.engine.begin() as conn:
            conn.execute(insert_message, {"id": 3}), conn.execute(insert_body, {"id": 3, "raw": raw})
            downgraded = conn.execute(compression).all() if is_postgres else []
            bodies = conn.execute(sa.text("SELECT raw FROM outbox_bodies ORDER BY outbox_id")).scalars().all()
        db.engine.dispose()
    assert bodies == [raw, raw, raw]
    if is_postgres:
        assert lz4, "this suite's PostgreSQL has lz4 (Debian's and the official images' do)"
        assert [tuple(r) for r in upgraded] == [(1, "pglz"), (2, "lz4")]
        assert [tuple(r) for r in downgraded] == [(1, "pglz"), (2, "lz4"), (3, "pglz")]


def test_the_models_compress_outbox_bodies_with_lz4(app, is_postgres):
    """A database made from the models (tests, the benches) is the migrated one: lz4 there too."""
    if not is_postgres:
        pytest.skip("SQLite does not compress")
    with db.engine.connect() as conn:
        column = conn.scalar(sa.text("SELECT attcompression FROM pg_attribute "
                                     "WHERE attrelid = 'outbox_bodies'::regclass AND attname = 'raw'"))
    assert column == "l"
