"""photos bind their copies: the SHA-256 of each stored photo's display copy and thumbnail,
taken from their files as they are now (a file already replaced is taken as it is: see
docs/design.md), or from copies made again from a genuine original when a file is lost

Revision ID: 0009
Revises: 0008
"""

import sqlalchemy as sa
from alembic import context, op

from traceability.photos.copies import copy_hashes
from traceability.photos.files import PhotoFiles

revision = '0009'
down_revision = '0008'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('photos') as batch:
        batch.add_column(sa.Column('display_sha256', sa.String(length=64), nullable=True))
        batch.add_column(sa.Column('thumb_sha256', sa.String(length=64), nullable=True))
    bind = op.get_bind()
    stored = bind.execute(sa.text("SELECT sha256 FROM photos ORDER BY sha256")).scalars().all()
    if not stored:
        return
    root = context.config.attributes.get("photos")
    if root is None:
        raise RuntimeError("migration 0009 reads the stored photos: migrate with the photos directory")
    files = PhotoFiles(root)
    photos = sa.table('photos', sa.column('sha256'), sa.column('display_sha256'), sa.column('thumb_sha256'))
    for sha256 in stored:
        hashes = copy_hashes(files, sha256)
        bind.execute(
            photos.update()
            .where(photos.c.sha256 == sha256)
            .values(display_sha256=hashes["display"], thumb_sha256=hashes["thumb"])
        )


def downgrade() -> None:
    # Not in a batch: on SQLite that copies the table, and dropping the old one breaks the
    # foreign keys of the photos' uploads and citations. SQLite drops columns since 3.35.
    op.drop_column('photos', 'thumb_sha256')
    op.drop_column('photos', 'display_sha256')
