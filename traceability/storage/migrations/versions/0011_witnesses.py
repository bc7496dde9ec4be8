"""witnesses: the newest checkpoint cosigned by the quorum, and what each witness last answered

Written beside 0010 (keys held by the grower), and chained after it when both landed.

Revision ID: 0011
Revises: 0010
"""

import sqlalchemy as sa
from alembic import op

revision = '0011'
down_revision = '0010'
branch_labels = None
depends_on = None


def upgrade() -> None:
    cosigned = op.create_table(
        'cosigned_head',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('size', sa.BigInteger(), nullable=False),
        sa.Column('root_hash', sa.LargeBinary(length=32), nullable=False),
        sa.Column('note', sa.Text(), nullable=False),
        sa.Column('cosignatures', sa.Integer(), nullable=False),
        sa.Column('stored_at', sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_cosigned_head')),
    )
    # The one row, so that storing is always a compare-and-set UPDATE (size -1: none yet).
    op.bulk_insert(cosigned, [{'id': 1, 'size': -1, 'root_hash': b'', 'note': '', 'cosignatures': 0, 'stored_at': None}])
    op.create_table(
        'witness_status',
        sa.Column('vkey', sa.String(length=512), nullable=False),
        sa.Column('cosigned_size', sa.BigInteger(), nullable=True),
        sa.Column('cosigned_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('error', sa.Text(), nullable=True),
        sa.Column('error_at', sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint('vkey', name=op.f('pk_witness_status')),
    )


def downgrade() -> None:
    op.drop_table('witness_status')
    op.drop_table('cosigned_head')
