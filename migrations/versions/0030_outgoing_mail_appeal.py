"""a signer's queued mail names its appeal

Revision ID: 0030
Revises: 0029
Create Date: 2026-12-08

A message to a signer holds her address and her private links until it is sent; one that could
not go stayed as a dead letter for ever. `appeal_id` lets the erasure of an appeal's private
details delete its signers' mail not sent yet. Mail queued before this revision names no appeal
(`flask mail purge-dead` deletes the dead letters among it in time).
"""

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "0030"
down_revision = "0029"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("outgoing_mail") as batch:
        batch.add_column(sa.Column("appeal_id", sa.Integer(), nullable=True))
        batch.create_index("ix_outgoing_mail_appeal_id", ["appeal_id"])
        batch.create_foreign_key(
            "fk_outgoing_mail_appeal_id_appeal", "appeal", ["appeal_id"], ["id"], ondelete="CASCADE"
        )


def downgrade():
    with op.batch_alter_table("outgoing_mail") as batch:
        batch.drop_constraint("fk_outgoing_mail_appeal_id_appeal", type_="foreignkey")
        batch.drop_index("ix_outgoing_mail_appeal_id")
        batch.drop_column("appeal_id")
