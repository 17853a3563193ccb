"""the hash of the form that stored a signature, so that the same form sent twice stores one

Revision ID: 0009
Revises: 0008
Create Date: 2026-11-28

"""

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade():
    op.add_column("signature", sa.Column("submission_hash", sa.String(length=64), nullable=True))
    op.create_index(
        op.f("ix_signature_submission_hash"), "signature", ["submission_hash"], unique=True
    )


def downgrade():
    op.drop_index(op.f("ix_signature_submission_hash"), table_name="signature")
    with op.batch_alter_table("signature", schema=None) as batch_op:
        batch_op.drop_column("submission_hash")
