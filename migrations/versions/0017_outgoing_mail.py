"""outgoing mail: messages waiting for the queue, and dead letters

Revision ID: 0017
Revises: 0019
Create Date: 2026-12-06

"""

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = "0017"
down_revision = "0019"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "outgoing_mail",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("status", sa.Enum("queued", "dead", name="mailstatus"), nullable=False),
        sa.Column("purpose", sa.String(length=48), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("next_attempt_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_error", sa.String(length=80), nullable=False),
        sa.Column("recipient", sa.LargeBinary(), nullable=False),
        sa.Column("subject", sa.LargeBinary(), nullable=False),
        sa.Column("body", sa.LargeBinary(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_outgoing_mail")),
    )
    with op.batch_alter_table("outgoing_mail", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_outgoing_mail_status"), ["status"], unique=False)


def downgrade():
    with op.batch_alter_table("outgoing_mail", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_outgoing_mail_status"))
    op.drop_table("outgoing_mail")
    sa.Enum(name="mailstatus").drop(op.get_bind(), checkfirst=True)
