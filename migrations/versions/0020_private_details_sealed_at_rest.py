"""private details of signatures sealed at rest (AES-GCM, campaign.crypto)

Contacts, postal addresses, helpers' names (NULL when there is none), answers and signature
images.

Revision ID: 0020
Revises: 0012
Create Date: 2026-12-10

"""

from alembic import op
import sqlalchemy as sa

from campaign.crypto import keyring


# revision identifiers, used by Alembic.
revision = "0020"
down_revision = "0014"
branch_labels = None
depends_on = None

# (table, its key columns, the column, its type before, nullable before). The sealed format
# (campaign.crypto, "01 | key id | nonce | ciphertext") is versioned by its first byte: this
# migration keeps working when the code moves on.
SEALED = [
    ("signature", ("id",), "email", sa.String(length=254), True),
    ("signature", ("id",), "phone", sa.String(length=32), True),
    ("signature", ("id",), "postal_address", sa.Text(), True),
    ("signature", ("id",), "helper_name", sa.String(length=200), False),
    ("signature_answer", ("signature_id", "question_id"), "value", sa.Text(), False),
    ("signature_image", ("signature_id",), "png", sa.LargeBinary(), False),
]
# Rows read and written at a time (a signature image is a few kilobytes).
BATCH = 500


def upgrade():
    pg = op.get_bind().dialect.name == "postgresql"
    for table in ("signature", "signature_answer"):
        with op.batch_alter_table(table, schema=None) as batch_op:
            for name, key, column, former, nullable in SEALED:
                if name != table:
                    continue
                batch_op.alter_column(
                    column,
                    existing_type=former,
                    type_=sa.LargeBinary(),
                    existing_nullable=nullable,
                    nullable=True if column == "helper_name" else nullable,
                    postgresql_using=f"convert_to({column}, 'UTF8')" if pg else None,
                )
    keys = keyring()
    for table, key, column, _former, _nullable in SEALED:
        context = f"{table}.{column}"

        def seal(value, context=context, column=column):
            if column == "helper_name" and not value:
                return None  # she filled the form in herself: nothing to keep
            return keys.encrypt(value, context)

        _rewrite(table, key, column, seal)
    _compact_afterwards()


def downgrade():
    pg = op.get_bind().dialect.name == "postgresql"
    keys = keyring()
    for table, key, column, former, _nullable in SEALED:
        context = f"{table}.{column}"
        text = not isinstance(former, sa.LargeBinary)

        def open_(value, context=context, text=text):
            plain = keys.decrypt(value, context)
            # SQLite keeps what it is given: text columns get text back.
            return plain.decode() if text and not pg else plain

        _rewrite(table, key, column, open_)
    signature = sa.table("signature", sa.column("helper_name"))
    op.get_bind().execute(
        sa.update(signature)
        .where(signature.c.helper_name.is_(None))
        .values(helper_name=b"" if pg else "")
    )
    for table in ("signature", "signature_answer"):
        with op.batch_alter_table(table, schema=None) as batch_op:
            for name, key, column, former, nullable in SEALED:
                if name != table:
                    continue
                batch_op.alter_column(
                    column,
                    existing_type=sa.LargeBinary(),
                    type_=former,
                    existing_nullable=True if column == "helper_name" else nullable,
                    nullable=nullable,
                    postgresql_using=f"convert_from({column}, 'UTF8')" if pg else None,
                )
    _compact_afterwards()


def _rewrite(name, key, column, change):
    """Pass every non-NULL value of a column through `change`, in batches in key order."""
    connection = op.get_bind()
    # Untyped columns: SQLite returns a value stored before as text as str, PostgreSQL bytea
    # as bytes; each is given back as `change` returns it.
    table = sa.table(name, *(sa.column(part) for part in key), sa.column(column))
    keys = [table.c[part] for part in key]
    last = None
    while True:
        query = sa.select(*keys, table.c[column]).where(table.c[column].is_not(None))
        if last is not None:
            query = query.where(sa.tuple_(*keys) > sa.tuple_(*last))
        rows = connection.execute(query.order_by(*keys).limit(BATCH)).all()
        if not rows:
            return
        for row in rows:
            value = row[-1]
            raw = value.encode() if isinstance(value, str) else bytes(value)
            connection.execute(
                sa.update(table)
                .where(*(part == found for part, found in zip(keys, row, strict=False)))
                .values({column: change(raw)})
            )
        last = tuple(row[: len(key)])


def _compact_afterwards():
    # Old values stay in the database's free space and write-ahead log until overwritten:
    # once the migration has committed, env.py empties the SQLite WAL and rewrites these
    # PostgreSQL tables (VACUUM FULL), so that no plaintext copy remains in their files.
    op.get_bind().info.setdefault("campaign.compact", set()).update(
        {"signature", "signature_answer", "signature_image"}
    )
