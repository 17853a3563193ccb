"""a repeated signing's withdrawal link behaves as a new signature's

Revision ID: 0032
Revises: 0031
Create Date: 2026-12-08

A repeat stores no signature; the link its page shows led nowhere, which told whoever typed a
woman's name and number that she had signed. `withdrawal_decoy` keeps such links (their
hashes) so that they open, "withdraw" once and expire as a new signature's would.
"""

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "0032"
down_revision = "0031"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "withdrawal_decoy",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("appeal_id", sa.Integer(), nullable=False),
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["appeal_id"], ["appeal.id"], name=op.f("fk_withdrawal_decoy_appeal_id_appeal"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_withdrawal_decoy")),
        sa.UniqueConstraint("token_hash", name=op.f("uq_withdrawal_decoy_token_hash")),
    )
    with op.batch_alter_table("withdrawal_decoy") as batch:
        batch.create_index(batch.f("ix_withdrawal_decoy_appeal_id"), ["appeal_id"], unique=False)


def downgrade():
    with op.batch_alter_table("withdrawal_decoy") as batch:
        batch.drop_index(batch.f("ix_withdrawal_decoy_appeal_id"))
    op.drop_table("withdrawal_decoy")
