"""lot facts for the anomaly rules, filled from the records already in the log

Revision ID: 0005
Revises: 0004
"""

import sqlalchemy as sa
from alembic import op

from signing.payloads import LotRecord
from traceability.findings.lot_rules import fact_of

revision = '0005'
down_revision = '0004'
branch_labels = None
depends_on = None


def upgrade() -> None:
    facts = op.create_table('lot_facts',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('lot', sa.String(length=20), nullable=False),
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('idx', sa.BigInteger(), nullable=False),
    sa.Column('occurred_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('safe_from', sa.DateTime(timezone=True), nullable=True),
    sa.Column('label', sa.String(length=200), nullable=True),
    sa.Column('amount', sa.Float(), nullable=True),
    sa.Column('family', sa.String(length=8), nullable=True),
    sa.ForeignKeyConstraint(['lot'], ['batches.lot'], name=op.f('fk_lot_facts_lot_batches')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_lot_facts'))
    )
    op.create_index('ix_lot_facts_lot_kind_at', 'lot_facts', ['lot', 'kind', 'occurred_at'], unique=False)
    # The records already logged: the same facts the service writes at append time.
    rows = op.get_bind().execute(
        sa.text("SELECT idx, entry FROM log_entries WHERE event_type IN ('planting', 'input', 'harvest', 'packing') ORDER BY idx")
    )
    found = []
    for idx, entry in rows:
        record = LotRecord.from_entry(idx, bytes(entry))
        fact = fact_of(record.lot, idx, record.type, record.occurred_at, record.data)
        if fact is not None:
            found.append({column.name: getattr(fact, column.name) for column in facts.columns if column.name != "id"})
    if found:
        op.bulk_insert(facts, found)


def downgrade() -> None:
    op.drop_index('ix_lot_facts_lot_kind_at', table_name='lot_facts')
    op.drop_table('lot_facts')
