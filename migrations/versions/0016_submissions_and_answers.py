"""submissions of dossiers, the authorities' answers and their scans; listed appeals; signers
who asked to hear of the answer

Revision ID: 0016
Revises: 0019
Create Date: 2026-12-06

"""

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = "0016"
down_revision = "0017"
branch_labels = None
depends_on = None

CHANNEL = sa.Enum("post", "in_person", "online", "email", "other", name="channel")
ANSWER_KIND = sa.Enum("answered", "partly", "refused", "forwarded", name="answerkind")
SCAN_KIND = sa.Enum("receipt", "answer", name="scankind")
MAILING_KIND = sa.Enum("notice", "update", name="mailingkind")
MAILING_STATUS = sa.Enum("queued", "sending", "done", "failed", name="mailingstatus")


def upgrade():
    op.create_table(
        "submission",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("appeal_id", sa.Integer(), nullable=False),
        sa.Column("snapshot_id", sa.String(length=32), nullable=False),
        sa.Column("parent_id", sa.Integer(), nullable=True),
        sa.Column("addressee", sa.String(length=500), nullable=False),
        sa.Column("channel", CHANNEL, nullable=False),
        sa.Column("channel_detail", sa.String(length=200), nullable=False),
        sa.Column("sent_on", sa.Date(), nullable=True),
        sa.Column("received_on", sa.Date(), nullable=True),
        sa.Column("registration_number", sa.String(length=100), nullable=False),
        sa.Column("registered_on", sa.Date(), nullable=True),
        sa.Column("registration_public", sa.Boolean(), server_default=sa.false(), nullable=False),
        sa.Column("extension_days", sa.Integer(), server_default="0", nullable=False),
        sa.Column("notice_days", sa.Integer(), server_default="0", nullable=False),
        sa.Column("notice_sent_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("followup_template", sa.Text(), server_default="", nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("created_by_id", sa.Integer(), nullable=True),
        sa.Column("revision", sa.Integer(), server_default="0", nullable=False),
        sa.CheckConstraint(
            "notice_days BETWEEN 0 AND 7", name=op.f("ck_submission_notice_days_range")
        ),
        sa.CheckConstraint(
            "extension_days BETWEEN 0 AND 30", name=op.f("ck_submission_extension_days_range")
        ),
        sa.ForeignKeyConstraint(
            ["appeal_id"], ["appeal.id"], name=op.f("fk_submission_appeal_id_appeal"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["snapshot_id"], ["dossier_snapshot.id"],
            name=op.f("fk_submission_snapshot_id_dossier_snapshot"),
        ),
        sa.ForeignKeyConstraint(
            ["parent_id"], ["submission.id"], name=op.f("fk_submission_parent_id_submission"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["created_by_id"], ["user.id"], name=op.f("fk_submission_created_by_id_user"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_submission")),
    )
    with op.batch_alter_table("submission", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_submission_appeal_id"), ["appeal_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_submission_parent_id"), ["parent_id"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_submission_snapshot_id"), ["snapshot_id"], unique=False
        )
    op.create_table(
        "answer",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("submission_id", sa.Integer(), nullable=False),
        sa.Column("kind", ANSWER_KIND, nullable=False),
        sa.Column("answered_on", sa.Date(), nullable=False),
        sa.Column("outgoing_number", sa.String(length=100), nullable=False),
        sa.Column("summary", sa.Text(), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("public", sa.Boolean(), server_default=sa.false(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("created_by_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["submission_id"], ["submission.id"], name=op.f("fk_answer_submission_id_submission"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["created_by_id"], ["user.id"], name=op.f("fk_answer_created_by_id_user"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_answer")),
        sa.UniqueConstraint("submission_id", name=op.f("uq_answer_submission_id")),
    )
    op.create_table(
        "scan",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("submission_id", sa.Integer(), nullable=False),
        sa.Column("kind", SCAN_KIND, nullable=False),
        sa.Column("media_type", sa.String(length=40), nullable=False),
        sa.Column("size", sa.Integer(), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("filename", sa.String(length=100), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("created_by_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["submission_id"], ["submission.id"], name=op.f("fk_scan_submission_id_submission"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["created_by_id"], ["user.id"], name=op.f("fk_scan_created_by_id_user"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_scan")),
        sa.UniqueConstraint("filename", name=op.f("uq_scan_filename")),
    )
    with op.batch_alter_table("scan", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_scan_submission_id"), ["submission_id"], unique=False)
    op.create_table(
        "mailing",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("submission_id", sa.Integer(), nullable=False),
        sa.Column("kind", MAILING_KIND, nullable=False),
        sa.Column("request_key", sa.String(length=64), nullable=False),
        sa.Column("subject", sa.String(length=200), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("status", MAILING_STATUS, nullable=False),
        sa.Column("total", sa.Integer(), nullable=False),
        sa.Column("sent", sa.Integer(), nullable=False),
        sa.Column("failed", sa.Integer(), nullable=False),
        sa.Column("unsubscribed", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("created_by_id", sa.Integer(), nullable=True),
        sa.Column("finished_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["submission_id"], ["submission.id"], name=op.f("fk_mailing_submission_id_submission"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["created_by_id"], ["user.id"], name=op.f("fk_mailing_created_by_id_user"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_mailing")),
        sa.UniqueConstraint("request_key", name=op.f("uq_mailing_request_key")),
    )
    with op.batch_alter_table("mailing", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_mailing_submission_id"), ["submission_id"], unique=False)
    op.create_table(
        "delivery",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("mailing_id", sa.Integer(), nullable=False),
        sa.Column("signature_id", sa.Integer(), nullable=False),
        sa.Column("sent_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["mailing_id"], ["mailing.id"], name=op.f("fk_delivery_mailing_id_mailing"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["signature_id"], ["signature.id"], name=op.f("fk_delivery_signature_id_signature"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_delivery")),
        sa.UniqueConstraint(
            "mailing_id", "signature_id", name=op.f("uq_delivery_mailing_id_signature_id")
        ),
    )
    with op.batch_alter_table("appeal", schema=None) as batch_op:
        batch_op.add_column(sa.Column("listed", sa.Boolean(), server_default=sa.false(), nullable=False))
    with op.batch_alter_table("signature", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("hear_of_answer", sa.Boolean(), server_default=sa.false(), nullable=False)
        )
        batch_op.add_column(sa.Column("unsubscribed_at", sa.DateTime(timezone=True), nullable=True))


def downgrade():
    with op.batch_alter_table("signature", schema=None) as batch_op:
        batch_op.drop_column("unsubscribed_at")
        batch_op.drop_column("hear_of_answer")
    with op.batch_alter_table("appeal", schema=None) as batch_op:
        batch_op.drop_column("listed")
    op.drop_table("delivery")
    with op.batch_alter_table("mailing", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_mailing_submission_id"))
    op.drop_table("mailing")
    with op.batch_alter_table("scan", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_scan_submission_id"))
    op.drop_table("scan")
    op.drop_table("answer")
    with op.batch_alter_table("submission", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_submission_snapshot_id"))
        batch_op.drop_index(batch_op.f("ix_submission_parent_id"))
        batch_op.drop_index(batch_op.f("ix_submission_appeal_id"))
    op.drop_table("submission")
    for enum in (MAILING_STATUS, MAILING_KIND, SCAN_KIND, ANSWER_KIND, CHANNEL):
        enum.drop(op.get_bind(), checkfirst=True)
