"""initial schema

Revision ID: 0001
Revises: 
"""

import sqlalchemy as sa
from alembic import op

revision = '0001'
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('idempotent_responses',
    sa.Column('actor_id', sa.String(length=32), nullable=False),
    sa.Column('key', sa.String(length=255), nullable=False),
    sa.Column('request_hash', sa.LargeBinary(length=32), nullable=False),
    sa.Column('status_code', sa.Integer(), nullable=False),
    sa.Column('body', sa.Text(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('actor_id', 'key', name=op.f('pk_idempotent_responses'))
    )
    op.create_table('identities',
    sa.Column('id', sa.String(length=32), nullable=False),
    sa.Column('role', sa.String(length=16), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('region', sa.String(length=200), nullable=True),
    sa.Column('agency', sa.String(length=200), nullable=True),
    sa.Column('phone', sa.String(length=40), nullable=True),
    sa.Column('keyid', sa.String(length=64), nullable=False),
    sa.Column('public_key', sa.LargeBinary(length=32), nullable=False),
    sa.Column('private_key_sealed', sa.LargeBinary(), nullable=False),
    sa.Column('key_index', sa.BigInteger(), nullable=False),
    sa.Column('revoked_index', sa.BigInteger(), nullable=True),
    sa.Column('registered_by', sa.String(length=32), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_identities')),
    sa.UniqueConstraint('keyid', name=op.f('uq_identities_keyid'))
    )
    op.create_table('log_entries',
    sa.Column('idx', sa.BigInteger(), autoincrement=False, nullable=False),
    sa.Column('entry', sa.LargeBinary(), nullable=False),
    sa.Column('leaf_hash', sa.LargeBinary(length=32), nullable=False),
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('lot', sa.String(length=20), nullable=True),
    sa.Column('seq', sa.Integer(), nullable=True),
    sa.Column('event_type', sa.String(length=16), nullable=True),
    sa.Column('signer_keyid', sa.String(length=64), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('idx', name=op.f('pk_log_entries')),
    sa.UniqueConstraint('lot', 'seq', name=op.f('uq_log_entries_lot_seq'))
    )
    op.create_table('log_head',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('origin', sa.String(length=255), nullable=False),
    sa.Column('operator_public_key', sa.LargeBinary(length=32), nullable=False),
    sa.Column('size', sa.BigInteger(), nullable=False),
    sa.Column('root_hash', sa.LargeBinary(length=32), nullable=False),
    sa.Column('frontier', sa.LargeBinary(), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_log_head'))
    )
    op.create_table('log_nodes',
    sa.Column('pos', sa.BigInteger(), autoincrement=False, nullable=False),
    sa.Column('hash', sa.LargeBinary(length=32), nullable=False),
    sa.PrimaryKeyConstraint('pos', name=op.f('pk_log_nodes'))
    )
    op.create_table('plots',
    sa.Column('id', sa.String(length=32), nullable=False),
    sa.Column('owner_id', sa.String(length=32), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('lat', sa.Float(), nullable=False),
    sa.Column('lon', sa.Float(), nullable=False),
    sa.Column('area_mu', sa.Float(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['owner_id'], ['identities.id'], name=op.f('fk_plots_owner_id_identities')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_plots'))
    )
    with op.batch_alter_table('plots', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_plots_owner_id'), ['owner_id'], unique=False)

    op.create_table('tokens',
    sa.Column('token_hash', sa.LargeBinary(length=32), nullable=False),
    sa.Column('identity_id', sa.String(length=32), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('revoked_at', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['identity_id'], ['identities.id'], name=op.f('fk_tokens_identity_id_identities')),
    sa.PrimaryKeyConstraint('token_hash', name=op.f('pk_tokens'))
    )
    with op.batch_alter_table('tokens', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_tokens_identity_id'), ['identity_id'], unique=False)

    op.create_table('batches',
    sa.Column('lot', sa.String(length=20), nullable=False),
    sa.Column('owner_id', sa.String(length=32), nullable=False),
    sa.Column('product', sa.String(length=200), nullable=False),
    sa.Column('variety', sa.String(length=200), nullable=True),
    sa.Column('plot_id', sa.String(length=32), nullable=True),
    sa.Column('gtin', sa.String(length=14), nullable=True),
    sa.Column('created_index', sa.BigInteger(), nullable=False),
    sa.Column('last_seq', sa.Integer(), nullable=False),
    sa.Column('last_leaf_hash', sa.LargeBinary(length=32), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['owner_id'], ['identities.id'], name=op.f('fk_batches_owner_id_identities')),
    sa.ForeignKeyConstraint(['plot_id'], ['plots.id'], name=op.f('fk_batches_plot_id_plots')),
    sa.PrimaryKeyConstraint('lot', name=op.f('pk_batches'))
    )
    with op.batch_alter_table('batches', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_batches_owner_id'), ['owner_id'], unique=False)

    op.create_table('batch_inputs',
    sa.Column('lot', sa.String(length=20), nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.Column('input_lot', sa.String(length=20), nullable=False),
    sa.Column('quantity', sa.Float(), nullable=False),
    sa.Column('unit', sa.String(length=16), nullable=False),
    sa.ForeignKeyConstraint(['input_lot'], ['batches.lot'], name=op.f('fk_batch_inputs_input_lot_batches')),
    sa.ForeignKeyConstraint(['lot'], ['batches.lot'], name=op.f('fk_batch_inputs_lot_batches')),
    sa.PrimaryKeyConstraint('lot', 'position', name=op.f('pk_batch_inputs'))
    )
    with op.batch_alter_table('batch_inputs', schema=None) as batch_op:
        batch_op.create_index('ix_batch_inputs_input_lot', ['input_lot'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('batch_inputs', schema=None) as batch_op:
        batch_op.drop_index('ix_batch_inputs_input_lot')

    op.drop_table('batch_inputs')
    with op.batch_alter_table('batches', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_batches_owner_id'))

    op.drop_table('batches')
    with op.batch_alter_table('tokens', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_tokens_identity_id'))

    op.drop_table('tokens')
    with op.batch_alter_table('plots', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_plots_owner_id'))

    op.drop_table('plots')
    op.drop_table('log_nodes')
    op.drop_table('log_head')
    op.drop_table('log_entries')
    op.drop_table('identities')
    op.drop_table('idempotent_responses')
