"""indexes for regulators: exports by time, recalls, anomalies by time

Revision ID: 0003
Revises: 0002
"""

from alembic import op

revision = '0003'
down_revision = '0002'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index('ix_log_entries_created_at', 'log_entries', ['created_at'], unique=False)
    op.create_index('ix_log_entries_event_type_lot', 'log_entries', ['event_type', 'lot'], unique=False)
    op.create_index('ix_warnings_created_at', 'warnings', ['created_at'], unique=False)


def downgrade() -> None:
    op.drop_index('ix_warnings_created_at', table_name='warnings')
    op.drop_index('ix_log_entries_event_type_lot', table_name='log_entries')
    op.drop_index('ix_log_entries_created_at', table_name='log_entries')
