"""The migrations build exactly the schema the models describe, on both databases."""
from __future__ import annotations

import uuid

import pytest
import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from flask_migrate import upgrade

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


def test_migrations_match_the_models(scratch_database):
    class Config(TestConfig):
        SQLALCHEMY_DATABASE_URI = scratch_database

    app = create_app(Config)
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


def test_existing_accounts_get_their_own_login_id(scratch_database):
    """0003_login_ids fills the new column for accounts made before it, each with its own value."""
    class Config(TestConfig):
        SQLALCHEMY_DATABASE_URI = scratch_database

    app = create_app(Config)
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


def test_existing_defendants_get_the_search_key(scratch_database):
    """0009_original_script rewrites the search key of defendants made before it, so the folded,
    transliterated search finds them at once; the new columns start empty."""
    class Config(TestConfig):
        SQLALCHEMY_DATABASE_URI = scratch_database

    app = create_app(Config)
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
