"""import jobs: a table's import run on the task queue, and where it stands; the words of
signers' names in an index, for the desk's search

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
_BATCH = 5000

signature = sa.table(
    "signature",
    sa.column("id", sa.Integer),
    sa.column("appeal_id", sa.Integer),
    sa.column("name_key", sa.String),
)
name_word = sa.table(
    "signature_name_word",
    sa.column("appeal_id", sa.Integer),
    sa.column("word", sa.String),
    sa.column("signature_id", sa.Integer),
)


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

    op.create_table(
        "signature_name_word",
        sa.Column("appeal_id", sa.Integer(), nullable=False),
        sa.Column("word", sa.String(length=64), nullable=False),
        sa.Column("signature_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["signature_id"], ["signature.id"],
            name=op.f("fk_signature_name_word_signature_id_signature"), ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint(
            "appeal_id", "word", "signature_id", name=op.f("pk_signature_name_word")
        ),
    )
    with op.batch_alter_table("signature_name_word", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_signature_name_word_signature_id"), ["signature_id"], unique=False
        )
    # The words of the keys made so far (0013 made them), in batches by id.
    connection = op.get_bind()
    last = 0
    while True:
        rows = connection.execute(
            sa.select(signature.c.id, signature.c.appeal_id, signature.c.name_key)
            .where(signature.c.id > last)
            .order_by(signature.c.id)
            .limit(_BATCH)
        ).all()
        if not rows:
            break
        words = [
            {"appeal_id": appeal_id, "word": word, "signature_id": signature_id}
            for signature_id, appeal_id, key in rows
            for word in sorted({word[:64] for word in (key or "").split()})
        ]
        if words:
            connection.execute(name_word.insert(), words)
        last = rows[-1][0]


def downgrade():
    with op.batch_alter_table("signature_name_word", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_signature_name_word_signature_id"))
    op.drop_table("signature_name_word")
    with op.batch_alter_table("import_job", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_import_job_appeal_id"))
    op.drop_table("import_job")
