"""audit events of an account that was deleted say so

Revision ID: 0027
Revises: 0026
Create Date: 2026-12-07

A member may delete her own account. Her events lose their actor (the foreign key is SET NULL)
and would read as if no member had acted; `actor_deleted` keeps "a deleted account" instead,
without keeping who it was.
"""

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "0027"
down_revision = "0026"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("audit_event") as batch:
        batch.add_column(
            sa.Column("actor_deleted", sa.Boolean(), server_default=sa.false(), nullable=False)
        )


def downgrade():
    with op.batch_alter_table("audit_event") as batch:
        batch.drop_column("actor_deleted")
