"""a signer's separate agreement to show her relative's details publicly

Revision ID: 0021
Revises: 0019
Create Date: 2026-12-06

Existing signatures did not agree: their relative's details leave the public surfaces.
"""

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = "0021"
down_revision = "0016"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("signature", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("relative_public", sa.Boolean(), server_default=sa.false(), nullable=False)
        )


def downgrade():
    with op.batch_alter_table("signature", schema=None) as batch_op:
        batch_op.drop_column("relative_public")
