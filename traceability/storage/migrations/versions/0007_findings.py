"""one name for one idea: the table of findings is `findings`

Revision ID: 0007
Revises: 0006
"""

import sqlalchemy as sa
from alembic import op

revision = '0007'
down_revision = '0006'
branch_labels = None
depends_on = None

COLUMNS = ('code', 'grower_id', ('lot', 'idx'), 'created_at')


def upgrade() -> None:
    _rename('warnings', 'findings')


def downgrade() -> None:
    _rename('findings', 'warnings')


def _rename(old: str, new: str) -> None:
    indexes = [(f'ix_{old}_{_name(c)}', f'ix_{new}_{_name(c)}', _columns(c)) for c in COLUMNS]
    constraints = [
        (f'pk_{old}', f'pk_{new}'),
        (f'fk_{old}_grower_id_identities', f'fk_{new}_grower_id_identities'),
        (f'fk_{old}_lot_batches', f'fk_{new}_lot_batches'),
    ]
    op.rename_table(old, new)
    if op.get_bind().dialect.name == 'postgresql':
        for was, now, _columns_of in indexes:
            op.execute(f'ALTER INDEX {was} RENAME TO {now}')
        for was, now in constraints:
            op.execute(f'ALTER TABLE {new} RENAME CONSTRAINT {was} TO {now}')
        op.execute(f'ALTER SEQUENCE {old}_id_seq RENAME TO {new}_id_seq')
        return
    # SQLite renames neither indexes nor constraints: the table is rebuilt with the new names.
    for was, _now, _columns_of in indexes:
        op.drop_index(was, table_name=new)
    with op.batch_alter_table(new, recreate='always', copy_from=_table(new)):
        pass
    for _was, now, columns in indexes:
        op.create_index(now, new, columns, unique=False)


def _table(name: str) -> sa.Table:
    """The findings table as migrations 0002 and 0006 made it, its constraints named for `name`."""
    return sa.Table(
        name,
        sa.MetaData(),
        sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
        sa.Column('code', sa.String(length=32), nullable=False),
        sa.Column('message', sa.Text(), nullable=False),
        sa.Column('grower_id', sa.String(length=32), nullable=False),
        sa.Column('lot', sa.String(length=20), nullable=True),
        sa.Column('idx', sa.BigInteger(), nullable=True),
        sa.Column('sha256', sa.String(length=64), nullable=True),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('template', sa.Text(), nullable=True),
        sa.Column('params', sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(['grower_id'], ['identities.id'], name=f'fk_{name}_grower_id_identities'),
        sa.ForeignKeyConstraint(['lot'], ['batches.lot'], name=f'fk_{name}_lot_batches'),
        sa.PrimaryKeyConstraint('id', name=f'pk_{name}'),
    )


def _name(column: str | tuple[str, ...]) -> str:
    return column if isinstance(column, str) else '_'.join(column)


def _columns(column: str | tuple[str, ...]) -> list[str]:
    return [column] if isinstance(column, str) else list(column)
