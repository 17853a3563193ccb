"""the SHA-256 of each drawn signature, stored beside it

Revision ID: 0026
Revises: 0025
Create Date: 2026-12-07

The authority's dossier lists each drawn signature's SHA-256. A dossier rendered again after new
signatures opened every sealed drawing to find it (at 100,000 signatories, about a tenth of the
render); it is now kept in signature_image.png_sha256, filled here for the drawings stored before.
"""

import hashlib

from alembic import op
import sqlalchemy as sa

from campaign.crypto import keyring


# revision identifiers, used by Alembic.
revision = "0026"
down_revision = "0025"
branch_labels = None
depends_on = None

# Drawings read and fingerprinted at a time (each a few kilobytes).
BATCH = 500


def upgrade():
    with op.batch_alter_table("signature_image", schema=None) as batch_op:
        batch_op.add_column(sa.Column("png_sha256", sa.String(length=64), nullable=True))
    _fill()
    with op.batch_alter_table("signature_image", schema=None) as batch_op:
        batch_op.alter_column("png_sha256", existing_type=sa.String(length=64), nullable=False)


def downgrade():
    with op.batch_alter_table("signature_image", schema=None) as batch_op:
        batch_op.drop_column("png_sha256")


def _fill():
    """Fingerprint every drawing, opened as campaign.crypto sealed it (format 01), in id order."""
    connection = op.get_bind()
    keys = keyring()
    table = sa.table(
        "signature_image",
        sa.column("signature_id"),
        sa.column("png", sa.LargeBinary()),
        sa.column("png_sha256"),
    )
    last = 0
    while True:
        rows = connection.execute(
            sa.select(table.c.signature_id, table.c.png)
            .where(table.c.signature_id > last)
            .order_by(table.c.signature_id)
            .limit(BATCH)
        ).all()
        if not rows:
            return
        for signature_id, sealed in rows:
            png = keys.decrypt(bytes(sealed), "signature_image.png")
            connection.execute(
                sa.update(table)
                .where(table.c.signature_id == signature_id)
                .values(png_sha256=hashlib.sha256(png).hexdigest())
            )
        last = rows[-1][0]
