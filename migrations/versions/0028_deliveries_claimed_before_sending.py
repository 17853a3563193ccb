"""each try of a mailing's message is claimed before it is made

Revision ID: 0028
Revises: 0027
Create Date: 2026-12-07

A mailing whose worker stopped is sent on by another run. `claimed_at` marks a message a run
is sending now, so that a second run of the same mailing leaves it alone (unless the claim is
older than a stalled run's silence) and no signer is written to twice.
"""

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "0028"
down_revision = "0027"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("delivery") as batch:
        batch.add_column(sa.Column("claimed_at", sa.DateTime(timezone=True), nullable=True))


def downgrade():
    with op.batch_alter_table("delivery") as batch:
        batch.drop_column("claimed_at")
