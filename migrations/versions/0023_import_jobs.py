"""import jobs: a table's import run on the task queue, and where it stands

Revision ID: 0023
Revises: 0015
Create Date: 2026-12-06

"""

from alembic import op
import sqlalchemy as sa
from sqlalchemy.dialects import postgresql


# revision identifiers, used by Alembic.
revision = "0023"
down_revision = "0015"
branch_labels = None
depends_on = None


STATUSES = ("queued", "running", "done", "failed")


def upgrade():
    # The dossier jobs' type (0002), shared: on PostgreSQL it exists already.
    status = sa.Enum(*STATUSES, name="jobstatus").with_variant(
        postgresql.ENUM(*STATUSES, name="jobstatus", create_type=False), "postgresql"
    )
    op.create_table(
        "import_job",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("appeal_id", sa.Integer(), nullable=False),
        sa.Column("upload", sa.String(length=32), nullable=False),
        sa.Column("live_upload", sa.String(length=32), nullable=True),
        sa.Column("mapping", sa.JSON(), nullable=False),
        sa.Column("file_format", sa.String(length=8), nullable=False),
        sa.Column("language", sa.String(length=8), nullable=False),
        sa.Column("status", status, nullable=False),
        sa.Column("rows_total", sa.Integer(), nullable=True),
        sa.Column("rows_done", sa.Integer(), nullable=False),
        sa.Column("stored", sa.Integer(), nullable=False),
        sa.Column("invalid_rows", sa.Integer(), nullable=False),
        sa.Column("error_count", sa.Integer(), nullable=False),
        sa.Column("errors", sa.JSON(), nullable=False),
        sa.Column("error", sa.String(length=40), nullable=False),
        sa.Column("requested_by_id", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["appeal_id"], ["appeal.id"], name=op.f("fk_import_job_appeal_id_appeal"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["requested_by_id"], ["user.id"], name=op.f("fk_import_job_requested_by_id_user"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_import_job")),
        sa.UniqueConstraint(
            "appeal_id", "live_upload", name=op.f("uq_import_job_appeal_id_live_upload")
        ),
    )
    with op.batch_alter_table("import_job", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_import_job_appeal_id"), ["appeal_id"], unique=False)


def downgrade():
    with op.batch_alter_table("import_job", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_import_job_appeal_id"))
    op.drop_table("import_job")
