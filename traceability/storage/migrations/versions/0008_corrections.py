"""corrections: a finding remembers the correction that cleared it; shipments with a quantity
are lot facts, for the quantity rule

Revision ID: 0008
Revises: 0007
"""

import sqlalchemy as sa
from alembic import op

from signing.payloads import LotRecord
from traceability.findings.lot_rules import fact_of

revision = '0008'
down_revision = '0007'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('findings') as batch:
        batch.add_column(sa.Column('resolved_by', sa.BigInteger(), nullable=True))
    facts = sa.table(
        'lot_facts',
        *(sa.column(name) for name in ('lot', 'kind', 'idx', 'occurred_at', 'safe_from', 'label', 'amount', 'family')),
    )
    rows = op.get_bind().execute(sa.text("SELECT idx, entry FROM log_entries WHERE event_type = 'shipping' ORDER BY idx"))
    found = []
    for idx, entry in rows:
        record = LotRecord.from_entry(idx, bytes(entry))
        fact = fact_of(record.lot, idx, record.type, record.occurred_at, record.data)
        if fact is not None:
            found.append({column.name: getattr(fact, column.name) for column in facts.columns})
    if found:
        op.bulk_insert(facts, found)


def downgrade() -> None:
    op.execute("DELETE FROM lot_facts WHERE kind = 'shipping'")
    with op.batch_alter_table('findings') as batch:
        batch.drop_column('resolved_by')
