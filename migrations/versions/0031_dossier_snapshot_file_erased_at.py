"""a dossier's file may go with the signers' private details

Revision ID: 0031
Revises: 0030
Create Date: 2026-12-08

The erasure of an appeal's private details deletes the files of the dossiers that hold them
(the submission edition, the signature sheets) which no submission records as handed in.
`file_erased_at` says when; the row, with its fingerprints, stays for checking copies.
"""

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "0031"
down_revision = "0030"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("dossier_snapshot") as batch:
        batch.add_column(sa.Column("file_erased_at", sa.DateTime(timezone=True), nullable=True))


def downgrade():
    with op.batch_alter_table("dossier_snapshot") as batch:
        batch.drop_column("file_erased_at")
