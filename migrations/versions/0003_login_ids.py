"""users.login_id: what sessions and remember cookies carry, replaced to end them all

Revision ID: 0003_login_ids
Revises: 0002_reminders
Create Date: 2026-11-27

Existing accounts each get their own random login id. Sessions and "Stay logged in"
cookies made before this revision carried the row id, which no login id matches: everyone
logs in once more after the upgrade.
"""
import secrets

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0003_login_ids'
down_revision = '0002_reminders'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.add_column(sa.Column('login_id', sa.String(length=64), nullable=True))

    users = sa.table('users', sa.column('id', sa.Integer), sa.column('login_id', sa.String))
    connection = op.get_bind()
    for (user_id,) in connection.execute(sa.select(users.c.id)).all():
        connection.execute(
            users.update().where(users.c.id == user_id).values(login_id=secrets.token_urlsafe(32))
        )

    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.alter_column('login_id', existing_type=sa.String(length=64), nullable=False)
        batch_op.create_unique_constraint(batch_op.f('uq_users_login_id'), ['login_id'])


def downgrade():
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('uq_users_login_id'), type_='unique')
        batch_op.drop_column('login_id')
