"""indexes on the foreign keys that point at a signature without one

Revision ID: 0025
Revises: 0015
Create Date: 2026-12-06

Deleting a signature makes the database look for rows pointing at it. Without an index on
signature.duplicate_of_id and delivery.signature_id, SQLite and PostgreSQL read those whole
tables once per deleted signature: replacing the demo's 100,000 signatories, or erasing a
large appeal, took time growing with the square of the rows.
"""

from alembic import op


# revision identifiers, used by Alembic.
revision = "0025"
down_revision = "0023"
branch_labels = None
depends_on = None


def upgrade():
    op.create_index("ix_signature_duplicate_of_id", "signature", ["duplicate_of_id"])
    op.create_index("ix_delivery_signature_id", "delivery", ["signature_id"])


def downgrade():
    op.drop_index("ix_delivery_signature_id", table_name="delivery")
    op.drop_index("ix_signature_duplicate_of_id", table_name="signature")
