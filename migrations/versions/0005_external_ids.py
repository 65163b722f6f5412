"""external ids on defendants and hearings; uploads waiting for an import's confirmation

Revision ID: 0005_external_ids
Revises: 0004_outbox_claims
Create Date: 2026-12-01

"""
from alembic import op
import sqlalchemy as sa

import tracker.extensions


# revision identifiers, used by Alembic.
revision = '0005_external_ids'
down_revision = '0004_outbox_claims'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('defendants', schema=None) as batch_op:
        batch_op.add_column(sa.Column('external_id', sa.String(length=120), nullable=True))
        batch_op.create_unique_constraint(batch_op.f('uq_defendants_external_id'), ['external_id'])

    with op.batch_alter_table('hearings', schema=None) as batch_op:
        batch_op.add_column(sa.Column('external_id', sa.String(length=120), nullable=True))
        batch_op.create_unique_constraint(batch_op.f('uq_hearings_external_id'), ['external_id'])

    op.create_table('import_uploads',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('token', sa.String(length=64), nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('created_at', tracker.extensions.UTCDateTime(timezone=True), nullable=False),
    sa.Column('filename', sa.String(length=255), nullable=False),
    sa.Column('sha256', sa.String(length=64), nullable=False),
    sa.Column('data', sa.LargeBinary(), nullable=False),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_import_uploads_user_id_users'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_import_uploads'))
    )
    with op.batch_alter_table('import_uploads', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_import_uploads_created_at'), ['created_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_import_uploads_token'), ['token'], unique=False)
        batch_op.create_index(batch_op.f('ix_import_uploads_user_id'), ['user_id'], unique=False)


def downgrade():
    with op.batch_alter_table('import_uploads', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_import_uploads_user_id'))
        batch_op.drop_index(batch_op.f('ix_import_uploads_token'))
        batch_op.drop_index(batch_op.f('ix_import_uploads_created_at'))
    op.drop_table('import_uploads')

    with op.batch_alter_table('hearings', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('uq_hearings_external_id'), type_='unique')
        batch_op.drop_column('external_id')

    with op.batch_alter_table('defendants', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('uq_defendants_external_id'), type_='unique')
        batch_op.drop_column('external_id')
