"""names and places in their original script; the search key of defendants' names

Courts' names and addresses, placements' facilities and defendants' addresses for letters get
an `_original` column beside the Latin one (empty until an editor or an import fills it).
Defendants' `search_name` becomes the search key of records.names (folded, transliterated,
variant spellings merged): recomputed here for every row.

Revision ID: 0009_original_script
Revises: 0008_transit
Create Date: 2027-01-20

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0009_original_script'
down_revision = '0008_transit'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('courts', schema=None) as batch_op:
        batch_op.add_column(sa.Column('name_original', sa.String(length=200), server_default='', nullable=False))
        batch_op.add_column(sa.Column('address_original', sa.String(length=300), server_default='', nullable=False))
    with op.batch_alter_table('placements', schema=None) as batch_op:
        batch_op.add_column(sa.Column('facility_original', sa.String(length=300), server_default='', nullable=False))
    with op.batch_alter_table('defendants', schema=None) as batch_op:
        batch_op.add_column(sa.Column('letters_address_original', sa.Text(), server_default='', nullable=False))
    _rekey_defendants()


def _rekey_defendants():
    """Every defendant's search key from their names, as the model computes it on each change."""
    from tracker.records.names import search_key  # the one definition of the key

    connection = op.get_bind()
    defendants = _defendants()
    rows = connection.execute(sa.select(defendants.c.id, defendants.c.name_original, defendants.c.name_latin)).all()
    for row in rows:
        connection.execute(defendants.update().where(defendants.c.id == row.id)
                           .values(search_name=search_key(row.name_original, row.name_latin)[:420]))


def downgrade():
    with op.batch_alter_table('defendants', schema=None) as batch_op:
        batch_op.drop_column('letters_address_original')
    with op.batch_alter_table('placements', schema=None) as batch_op:
        batch_op.drop_column('facility_original')
    with op.batch_alter_table('courts', schema=None) as batch_op:
        batch_op.drop_column('address_original')
        batch_op.drop_column('name_original')
    # the earlier key: both names casefolded, as 0008's model wrote it
    connection = op.get_bind()
    defendants = _defendants()
    for row in connection.execute(sa.select(defendants.c.id, defendants.c.name_original, defendants.c.name_latin)).all():
        connection.execute(defendants.update().where(defendants.c.id == row.id)
                           .values(search_name=f"{row.name_original} {row.name_latin}".casefold()))


def _defendants():
    return sa.table('defendants', sa.column('id', sa.Integer), sa.column('name_original', sa.String),
                    sa.column('name_latin', sa.String), sa.column('search_name', sa.String))
