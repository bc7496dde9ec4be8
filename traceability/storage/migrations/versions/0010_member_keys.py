"""keys held by the grower: every signing key of a member in `member_keys` (custodial keys
sealed, device keys with no private half here), moved out of `identities`, which kept one

Revision ID: 0010
Revises: 0009
"""

import sqlalchemy as sa
from alembic import op

revision = '0010'
down_revision = '0009'
branch_labels = None
depends_on = None

_MOVED = ('keyid', 'public_key', 'private_key_sealed', 'key_index')


def upgrade() -> None:
    op.create_table('member_keys',
    sa.Column('keyid', sa.String(length=64), nullable=False),
    sa.Column('identity_id', sa.String(length=32), nullable=False),
    sa.Column('public_key', sa.LargeBinary(length=32), nullable=False),
    sa.Column('custody', sa.String(length=16), nullable=False),
    sa.Column('holder', sa.String(length=16), nullable=True),
    sa.Column('private_key_sealed', sa.LargeBinary(), nullable=True),
    sa.Column('key_index', sa.BigInteger(), nullable=False),
    sa.Column('revoked_index', sa.BigInteger(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['identity_id'], ['identities.id'], name=op.f('fk_member_keys_identity_id_identities')),
    sa.PrimaryKeyConstraint('keyid', name=op.f('pk_member_keys'))
    )
    op.create_index(op.f('ix_member_keys_identity_id'), 'member_keys', ['identity_id'], unique=False)
    # Every key until now was custodial, and revoked with its identity.
    op.execute(
        "INSERT INTO member_keys (keyid, identity_id, public_key, custody, holder, private_key_sealed, key_index, "
        "revoked_index, created_at) SELECT keyid, id, public_key, 'custodial', NULL, private_key_sealed, key_index, "
        "revoked_index, created_at FROM identities"
    )
    with op.batch_alter_table('identities') as batch:
        batch.drop_constraint('uq_identities_keyid', type_='unique')
        for column in _MOVED:
            batch.drop_column(column)


def downgrade() -> None:
    with op.batch_alter_table('identities') as batch:
        batch.add_column(sa.Column('keyid', sa.String(length=64), nullable=True))
        batch.add_column(sa.Column('public_key', sa.LargeBinary(length=32), nullable=True))
        batch.add_column(sa.Column('private_key_sealed', sa.LargeBinary(), nullable=True))
        batch.add_column(sa.Column('key_index', sa.BigInteger(), nullable=True))
    # An identity's first key is the one it was registered with.
    op.execute(
        "UPDATE identities SET (keyid, public_key, private_key_sealed, key_index) = (SELECT k.keyid, k.public_key, "
        "k.private_key_sealed, k.key_index FROM member_keys k WHERE k.identity_id = identities.id "
        "ORDER BY k.key_index LIMIT 1)"
    )
    with op.batch_alter_table('identities') as batch:
        batch.create_unique_constraint('uq_identities_keyid', ['keyid'])
        # Fails for a member who holds all their keys: the old schema has no place for one.
        for column in _MOVED:
            batch.alter_column(column, nullable=False)
    op.drop_index(op.f('ix_member_keys_identity_id'), table_name='member_keys')
    op.drop_table('member_keys')

