"""the outbox's composed messages in a table of their own, each stored once

The sender claims and marks every message (two updates each); with the composed message,
its text and its HTML in the row, each update rewrote 6-12 KiB. Existing messages move to
`outbox_bodies`: the composed message, or for a row written without one its text and HTML
(the sender composes it from them). Downgrading reads the text and HTML back from the
composed message.

Revision ID: 0014_outbox_bodies
Revises: 0013_action_external_id
Create Date: 2026-11-27

"""
from alembic import op
import sqlalchemy as sa

from tracker.mail.message import read_part
from tracker.mail.models import SQLITE_CASCADE


# revision identifiers, used by Alembic.
revision = '0014_outbox_bodies'
down_revision = '0013_action_external_id'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('outbox_bodies',
    sa.Column('outbox_id', sa.Integer(), nullable=False),
    sa.Column('raw', sa.LargeBinary(), nullable=True),
    sa.Column('text_body', sa.Text(), nullable=True),
    sa.Column('html_body', sa.Text(), nullable=True),
    sa.ForeignKeyConstraint(['outbox_id'], ['outbox.id'], name=op.f('fk_outbox_bodies_outbox_id_outbox'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('outbox_id', name=op.f('pk_outbox_bodies'))
    )
    op.execute(
        "INSERT INTO outbox_bodies (outbox_id, raw, text_body, html_body) "
        "SELECT id, raw, CASE WHEN raw IS NULL THEN text_body END, CASE WHEN raw IS NULL THEN html_body END "
        "FROM outbox"
    )
    with op.batch_alter_table('outbox', schema=None) as batch_op:
        batch_op.drop_column('raw')
        batch_op.drop_column('html_body')
        batch_op.drop_column('text_body')
    if op.get_bind().dialect.name == 'sqlite':  # after the batch: it rebuilt `outbox` (see the model)
        op.execute(SQLITE_CASCADE)


def downgrade():
    if op.get_bind().dialect.name == 'sqlite':
        op.execute("DROP TRIGGER outbox_bodies_follow_outbox")
    with op.batch_alter_table('outbox', schema=None) as batch_op:
        batch_op.add_column(sa.Column('text_body', sa.Text(), server_default='', nullable=False))
        batch_op.add_column(sa.Column('html_body', sa.Text(), nullable=True))
        batch_op.add_column(sa.Column('raw', sa.LargeBinary(), nullable=True))
    conn = op.get_bind()
    outbox = sa.table('outbox', sa.column('id', sa.Integer), sa.column('raw', sa.LargeBinary),
                      sa.column('text_body', sa.Text), sa.column('html_body', sa.Text))
    bodies = conn.execute(sa.text("SELECT outbox_id, raw, text_body, html_body FROM outbox_bodies")).all()
    for outbox_id, raw, text_body, html_body in bodies:
        if raw is not None:
            text_body, html_body = read_part(raw, "plain"), read_part(raw, "html")
        conn.execute(sa.update(outbox).where(outbox.c.id == outbox_id)
                     .values(raw=raw, text_body=text_body or '', html_body=html_body))
    with op.batch_alter_table('outbox', schema=None) as batch_op:
        batch_op.alter_column('text_body', server_default=None)
    op.drop_table('outbox_bodies')
