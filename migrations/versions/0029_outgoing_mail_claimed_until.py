"""a queued mail is claimed by the job sending it

Revision ID: 0029
Revises: 0028
Create Date: 2026-12-07

A message may have two jobs at once (its own, and one queued again by the lost-mail check or
`flask mail retry`). `claimed_until` marks the message a job is sending now, so that the other
leaves it alone, and the retry command does not queue a message being sent.
"""

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "0029"
down_revision = "0028"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("outgoing_mail") as batch:
        batch.add_column(sa.Column("claimed_until", sa.DateTime(timezone=True), nullable=True))


def downgrade():
    with op.batch_alter_table("outgoing_mail") as batch:
        batch.drop_column("claimed_until")
