"""an external id on solidarity actions: the key the spreadsheet exchange matches them on

Revision ID: 0013_action_external_id
Revises: 0012_actions
Create Date: 2026-11-27

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0013_action_external_id'
down_revision = '0012_actions'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('actions', schema=None) as batch_op:
        batch_op.add_column(sa.Column('external_id', sa.String(length=120), nullable=True))
        batch_op.create_unique_constraint(batch_op.f('uq_actions_external_id'), ['external_id'])


def downgrade():
    with op.batch_alter_table('actions', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('uq_actions_external_id'), type_='unique')
        batch_op.drop_column('external_id')
