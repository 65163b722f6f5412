"""placements in transit: a transfer whose destination is not yet known

Revision ID: 0008_transit
Revises: 0005_external_ids
Create Date: 2027-01-10

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0008_transit'
down_revision = '0005_external_ids'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('placements', schema=None) as batch_op:
        batch_op.add_column(sa.Column('in_transit', sa.Boolean(), server_default=sa.false(), nullable=False))
        batch_op.create_check_constraint(batch_op.f('ck_placements_transit_has_no_facility'),
                                         "NOT in_transit OR facility = ''")


def downgrade():
    with op.batch_alter_table('placements', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('ck_placements_transit_has_no_facility'), type_='check')
        batch_op.drop_column('in_transit')
