"""paper signatures: where a signature came from, and the sheet and line it was written on

Revision ID: 0015
Revises: 0019
Create Date: 2026-12-06

"""

from alembic import op
import sqlalchemy as sa
from sqlalchemy.dialects import postgresql


# revision identifiers, used by Alembic.
revision = "0015"
down_revision = "0013"
branch_labels = None
depends_on = None


SOURCES = ("online", "paper")


def upgrade():
    # The type first (PostgreSQL; nothing on SQLite), then a column that does not create it again.
    sa.Enum(*SOURCES, name="signaturesource").create(op.get_bind(), checkfirst=True)
    source = sa.Enum(*SOURCES, name="signaturesource").with_variant(
        postgresql.ENUM(*SOURCES, name="signaturesource", create_type=False), "postgresql"
    )
    with op.batch_alter_table("signature", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column(
                "source",
                source,
                nullable=False,
                server_default="online",
            )
        )
        batch_op.add_column(sa.Column("sheet", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("line", sa.Integer(), nullable=True))
        batch_op.create_index("ix_signature_appeal_sheet", ["appeal_id", "sheet"], unique=False)


def downgrade():
    with op.batch_alter_table("signature", schema=None) as batch_op:
        batch_op.drop_index("ix_signature_appeal_sheet")
        batch_op.drop_column("line")
        batch_op.drop_column("sheet")
        batch_op.drop_column("source")
    sa.Enum(name="signaturesource").drop(op.get_bind(), checkfirst=True)
