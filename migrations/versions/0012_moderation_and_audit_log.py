"""moderation of signatures (flagged, rejected with a reason, a revision) and the audit log

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-06

"""

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None


def upgrade():
    if op.get_bind().dialect.name == "postgresql":
        # Allowed inside the migration's transaction (PostgreSQL 12+), unused until it commits.
        # 'invalid' stays in the type: no release ever stored it, and it cannot be dropped.
        op.execute("ALTER TYPE signaturestatus ADD VALUE IF NOT EXISTS 'flagged'")
        op.execute("ALTER TYPE signaturestatus ADD VALUE IF NOT EXISTS 'rejected'")
    with op.batch_alter_table("signature", schema=None) as batch_op:
        batch_op.add_column(sa.Column("revision", sa.Integer(), server_default="0", nullable=False))
        batch_op.add_column(
            sa.Column("moderation_reason", sa.Text(), server_default="", nullable=False)
        )
        batch_op.add_column(sa.Column("moderated_at", sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column("moderated_by_id", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("duplicate_of_id", sa.Integer(), nullable=True))
        batch_op.create_foreign_key(
            batch_op.f("fk_signature_moderated_by_id_user"),
            "user",
            ["moderated_by_id"],
            ["id"],
            ondelete="SET NULL",
        )
        batch_op.create_foreign_key(
            batch_op.f("fk_signature_duplicate_of_id_signature"),
            "signature",
            ["duplicate_of_id"],
            ["id"],
            ondelete="SET NULL",
        )
    op.create_table(
        "audit_event",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("appeal_id", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("actor_id", sa.Integer(), nullable=True),
        sa.Column("via", sa.String(length=8), nullable=False),
        sa.Column("action", sa.String(length=48), nullable=False),
        sa.Column("subject_type", sa.String(length=24), nullable=False),
        sa.Column("subject_id", sa.Integer(), nullable=True),
        sa.Column("details", sa.JSON(), nullable=False),
        sa.ForeignKeyConstraint(
            ["appeal_id"], ["appeal.id"], name=op.f("fk_audit_event_appeal_id_appeal"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["actor_id"], ["user.id"], name=op.f("fk_audit_event_actor_id_user"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_audit_event")),
    )
    with op.batch_alter_table("audit_event", schema=None) as batch_op:
        batch_op.create_index(
            "ix_audit_event_appeal_list", ["appeal_id", "created_at", "id"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_audit_event_actor_id"), ["actor_id"], unique=False)


def downgrade():
    op.drop_table("audit_event")
    with op.batch_alter_table("signature", schema=None) as batch_op:
        batch_op.drop_constraint(
            batch_op.f("fk_signature_duplicate_of_id_signature"), type_="foreignkey"
        )
        batch_op.drop_constraint(batch_op.f("fk_signature_moderated_by_id_user"), type_="foreignkey")
        batch_op.drop_column("duplicate_of_id")
        batch_op.drop_column("moderated_by_id")
        batch_op.drop_column("moderated_at")
        batch_op.drop_column("moderation_reason")
        batch_op.drop_column("revision")
