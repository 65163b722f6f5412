"""outbox bodies compressed with lz4 on PostgreSQL (pglz took half the time of writing them)

Only new values: bodies written before stay pglz-compressed, and PostgreSQL reads both. Nothing
on SQLite, or on a PostgreSQL server without lz4 (older than 14, or built without it).

Revision ID: 0016_outbox_body_lz4
Revises: 0015_case_title_original
Create Date: 2026-11-27

"""
from alembic import op

from tracker.mail.models import BODY_COMPRESSION, lz4_available


# revision identifiers, used by Alembic.
revision = '0016_outbox_body_lz4'
down_revision = '0015_case_title_original'
branch_labels = None
depends_on = None


def upgrade():
    if lz4_available(op.get_bind()):
        op.execute(BODY_COMPRESSION)


def downgrade():
    if lz4_available(op.get_bind()):
        op.execute("ALTER TABLE outbox_bodies ALTER COLUMN raw SET COMPRESSION DEFAULT")
