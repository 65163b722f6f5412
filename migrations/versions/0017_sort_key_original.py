"""defendants.sort_key_original: the order a reader of the originals' script lists them in

A Russian reader's home list was sorted by the Latin names («Вера» after «Тимур»). The key
(records.names.sort_key_original) is stored and indexed so the list, paginated in SQL, pages
in that order without computing and sorting every defendant's key in each query.

Revision ID: 0017_sort_key_original
Revises: 0016_outbox_body_lz4
Create Date: 2026-11-27

"""
import sqlalchemy as sa
from alembic import op


# revision identifiers, used by Alembic.
revision = '0017_sort_key_original'
down_revision = '0016_outbox_body_lz4'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('defendants', schema=None) as batch_op:
        batch_op.add_column(sa.Column('sort_key_original', sa.String(length=420), server_default='', nullable=False))
        batch_op.create_index(batch_op.f('ix_defendants_sort_key_original'), ['sort_key_original'], unique=False)
    from tracker.records.names import sort_key_original  # the one definition of the key

    connection = op.get_bind()
    defendants = sa.table('defendants', sa.column('id', sa.Integer), sa.column('name_original', sa.String),
                          sa.column('name_latin', sa.String), sa.column('sort_key_original', sa.String))
    rows = connection.execute(sa.select(defendants.c.id, defendants.c.name_latin, defendants.c.name_original)).all()
    if rows:
        connection.execute(defendants.update().where(defendants.c.id == sa.bindparam('row_id'))
                           .values(sort_key_original=sa.bindparam('key')),
                           [{'row_id': row.id, 'key': sort_key_original(row.name_latin, row.name_original)}
                            for row in rows])


def downgrade():
    with op.batch_alter_table('defendants', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_defendants_sort_key_original'))
        batch_op.drop_column('sort_key_original')
