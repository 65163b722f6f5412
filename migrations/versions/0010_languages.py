"""languages: the language of a subscription's mail and of an account's mail

Revision ID: 0010_languages
Revises: 0009_original_script
Create Date: 2026-11-27

Rows made before languages were kept signed up on English pages: 'en'.
"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0010_languages'
down_revision = '0009_original_script'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('subscriptions', schema=None) as batch_op:
        batch_op.add_column(sa.Column('language', sa.String(length=16), server_default='en', nullable=False))
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.add_column(sa.Column('language', sa.String(length=16), server_default='en', nullable=False))


def downgrade():
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.drop_column('language')
    with op.batch_alter_table('subscriptions', schema=None) as batch_op:
        batch_op.drop_column('language')
