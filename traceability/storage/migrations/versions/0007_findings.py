"""one name for one idea: the table of findings is `findings`

Revision ID: 0007
Revises: 0006
"""

from alembic import op

revision = '0007'
down_revision = '0006'
branch_labels = None
depends_on = None

# (old, new, columns)
INDEXES = (
    ('ix_warnings_code', 'ix_findings_code', ['code']),
    ('ix_warnings_grower_id', 'ix_findings_grower_id', ['grower_id']),
    ('ix_warnings_lot_idx', 'ix_findings_lot_idx', ['lot', 'idx']),
    ('ix_warnings_created_at', 'ix_findings_created_at', ['created_at']),
)
CONSTRAINTS = (
    ('pk_warnings', 'pk_findings'),
    ('fk_warnings_grower_id_identities', 'fk_findings_grower_id_identities'),
    ('fk_warnings_lot_batches', 'fk_findings_lot_batches'),
)


def upgrade() -> None:
    _rename('warnings', 'findings', INDEXES, CONSTRAINTS)


def downgrade() -> None:
    _rename(
        'findings', 'warnings',
        tuple((new, old, columns) for old, new, columns in INDEXES), tuple((new, old) for old, new in CONSTRAINTS),
    )


def _rename(table: str, to: str, indexes: tuple, constraints: tuple) -> None:
    op.rename_table(table, to)
    if op.get_bind().dialect.name == 'postgresql':
        for old, new, _columns in indexes:
            op.execute(f'ALTER INDEX {old} RENAME TO {new}')
        for old, new in constraints:
            op.execute(f'ALTER TABLE {to} RENAME CONSTRAINT {old} TO {new}')
        op.execute(f'ALTER SEQUENCE {table}_id_seq RENAME TO {to}_id_seq')
        return
    # SQLite renames neither indexes nor constraints: the table is rebuilt with the new names.
    for old, _new, _columns in indexes:
        op.drop_index(old, table_name=to)
    with op.batch_alter_table(to, recreate='always') as batch:
        for old, _new in constraints:
            if old.startswith('fk_'):
                batch.drop_constraint(old, type_='foreignkey')
        batch.create_foreign_key(constraints[1][1], 'identities', ['grower_id'], ['id'])
        batch.create_foreign_key(constraints[2][1], 'batches', ['lot'], ['lot'])
    for _old, new, columns in indexes:
        op.create_index(new, to, columns, unique=False)
