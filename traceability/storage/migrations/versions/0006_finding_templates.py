"""findings keep their sentence as a translatable template and its values

Revision ID: 0006
Revises: 0005
"""

import sqlalchemy as sa
from alembic import op

revision = '0006'
down_revision = '0005'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('warnings') as batch:
        batch.add_column(sa.Column('template', sa.Text(), nullable=True))
        batch.add_column(sa.Column('params', sa.Text(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('warnings') as batch:
        batch.drop_column('params')
        batch.drop_column('template')
