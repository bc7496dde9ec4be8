"""photo evidence

Revision ID: 0002
Revises: 0001
"""

import sqlalchemy as sa
from alembic import op

revision = '0002'
down_revision = '0001'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('photos',
    sa.Column('sha256', sa.String(length=64), nullable=False),
    sa.Column('media_type', sa.String(length=32), nullable=False),
    sa.Column('size_bytes', sa.BigInteger(), nullable=False),
    sa.Column('width', sa.Integer(), nullable=False),
    sa.Column('height', sa.Integer(), nullable=False),
    sa.Column('taken_at', sa.String(length=40), nullable=True),
    sa.Column('lat', sa.Float(), nullable=True),
    sa.Column('lon', sa.Float(), nullable=True),
    sa.Column('make', sa.String(length=100), nullable=True),
    sa.Column('model', sa.String(length=100), nullable=True),
    sa.Column('perceptual_hash', sa.String(length=512), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('sha256', name=op.f('pk_photos'))
    )
    op.create_table('photo_neighbours',
    sa.Column('sha256', sa.String(length=64), nullable=False),
    sa.Column('neighbour', sa.String(length=64), nullable=False),
    sa.Column('distance', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['neighbour'], ['photos.sha256'], name=op.f('fk_photo_neighbours_neighbour_photos')),
    sa.ForeignKeyConstraint(['sha256'], ['photos.sha256'], name=op.f('fk_photo_neighbours_sha256_photos')),
    sa.PrimaryKeyConstraint('sha256', 'neighbour', name=op.f('pk_photo_neighbours'))
    )
    op.create_table('photo_uploads',
    sa.Column('sha256', sa.String(length=64), nullable=False),
    sa.Column('uploader_id', sa.String(length=32), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['sha256'], ['photos.sha256'], name=op.f('fk_photo_uploads_sha256_photos')),
    sa.ForeignKeyConstraint(['uploader_id'], ['identities.id'], name=op.f('fk_photo_uploads_uploader_id_identities')),
    sa.PrimaryKeyConstraint('sha256', 'uploader_id', name=op.f('pk_photo_uploads'))
    )
    with op.batch_alter_table('photo_uploads', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_photo_uploads_uploader_id'), ['uploader_id'], unique=False)

    op.create_table('photo_citations',
    sa.Column('sha256', sa.String(length=64), nullable=False),
    sa.Column('idx', sa.BigInteger(), nullable=False),
    sa.Column('lot', sa.String(length=20), nullable=False),
    sa.Column('grower_id', sa.String(length=32), nullable=False),
    sa.ForeignKeyConstraint(['grower_id'], ['identities.id'], name=op.f('fk_photo_citations_grower_id_identities')),
    sa.ForeignKeyConstraint(['lot'], ['batches.lot'], name=op.f('fk_photo_citations_lot_batches')),
    sa.ForeignKeyConstraint(['sha256'], ['photos.sha256'], name=op.f('fk_photo_citations_sha256_photos')),
    sa.PrimaryKeyConstraint('sha256', 'idx', name=op.f('pk_photo_citations'))
    )
    with op.batch_alter_table('photo_citations', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_photo_citations_lot'), ['lot'], unique=False)

    op.create_table('warnings',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('code', sa.String(length=32), nullable=False),
    sa.Column('message', sa.Text(), nullable=False),
    sa.Column('grower_id', sa.String(length=32), nullable=False),
    sa.Column('lot', sa.String(length=20), nullable=True),
    sa.Column('idx', sa.BigInteger(), nullable=True),
    sa.Column('sha256', sa.String(length=64), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['grower_id'], ['identities.id'], name=op.f('fk_warnings_grower_id_identities')),
    sa.ForeignKeyConstraint(['lot'], ['batches.lot'], name=op.f('fk_warnings_lot_batches')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_warnings'))
    )
    with op.batch_alter_table('warnings', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_warnings_code'), ['code'], unique=False)
        batch_op.create_index(batch_op.f('ix_warnings_grower_id'), ['grower_id'], unique=False)
        batch_op.create_index('ix_warnings_lot_idx', ['lot', 'idx'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('warnings', schema=None) as batch_op:
        batch_op.drop_index('ix_warnings_lot_idx')
        batch_op.drop_index(batch_op.f('ix_warnings_grower_id'))
        batch_op.drop_index(batch_op.f('ix_warnings_code'))

    op.drop_table('warnings')
    with op.batch_alter_table('photo_citations', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_photo_citations_lot'))

    op.drop_table('photo_citations')
    with op.batch_alter_table('photo_uploads', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_photo_uploads_uploader_id'))

    op.drop_table('photo_uploads')
    op.drop_table('photo_neighbours')
    op.drop_table('photos')
