"""a case's title as written originally (Cyrillic), beside its Latin/English title

Existing cases get an empty original: readers see the Latin title until an editor adds it.

Revision ID: 0015_case_title_original
Revises: 0014_outbox_bodies
Create Date: 2026-11-27

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0015_case_title_original'
down_revision = '0014_outbox_bodies'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('cases', schema=None) as batch_op:
        batch_op.add_column(sa.Column('title_original', sa.String(length=200), server_default='', nullable=False))


def downgrade():
    with op.batch_alter_table('cases', schema=None) as batch_op:
        batch_op.drop_column('title_original')
