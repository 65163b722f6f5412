"""attendance: "I'll be there" at a hearing (a subscription to one hearing, with a first name); courtroom seats

Revision ID: 0011_attendance
Revises: 0010_languages
Create Date: 2027-01-12

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0011_attendance'
down_revision = '0010_languages'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('hearings', schema=None) as batch_op:
        batch_op.add_column(sa.Column('seats', sa.Integer(), nullable=True))
    with op.batch_alter_table('subscriptions', schema=None) as batch_op:
        batch_op.add_column(sa.Column('hearing_id', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('first_name', sa.String(length=60), server_default='', nullable=False))
        batch_op.create_index(batch_op.f('ix_subscriptions_hearing_id'), ['hearing_id'], unique=False)
        batch_op.create_foreign_key(batch_op.f('fk_subscriptions_hearing_id_hearings'), 'hearings',
                                    ['hearing_id'], ['id'], ondelete='CASCADE')


def downgrade():
    with op.batch_alter_table('subscriptions', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_subscriptions_hearing_id_hearings'), type_='foreignkey')
        batch_op.drop_index(batch_op.f('ix_subscriptions_hearing_id'))
        batch_op.drop_column('first_name')
        batch_op.drop_column('hearing_id')
    with op.batch_alter_table('hearings', schema=None) as batch_op:
        batch_op.drop_column('seats')
