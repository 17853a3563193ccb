"""the desk's signature list: a folded name key to search by, and its indexes

Revision ID: 0013
Revises: 0019
Create Date: 2026-12-06

"""

import re
import unicodedata

from alembic import op
from anyascii import anyascii
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = "0013"
down_revision = "0021"
branch_labels = None
depends_on = None

signature = sa.table(
    "signature",
    sa.column("id", sa.Integer),
    sa.column("surname", sa.String),
    sa.column("given_name", sa.String),
    sa.column("patronymic", sa.String),
    sa.column("name_key", sa.String),
)

# As campaign.signatures.names has it at this revision: a migration does not follow later
# changes of the code (tests/test_database.py checks that they agree today).
_VARIANTS = (
    ("shch", "sh"), ("sch", "sh"), ("tch", "ch"), ("dzh", "z"), ("dz", "z"), ("zh", "z"),
    ("kh", "h"), ("gh", "g"), ("ts", "c"), ("tz", "c"), ("ch", "ch"), ("ck", "k"), ("c", "k"),
    ("yo", "e"), ("ye", "e"), ("jo", "e"), ("je", "e"), ("x", "ks"), ("ph", "f"), ("w", "v"),
    ("q", "k"), ("y", "i"), ("j", "i"),
)  # fmt: skip
_VARIANT = re.compile("|".join(spelling for spelling, _ in _VARIANTS))
_FOLDED = dict(_VARIANTS)
_DOUBLED = re.compile(r"(.)\1+")
_ENDING = re.compile(r"(?:o|e)v(a?)\Z")
_SIGNS = re.compile(r"['`ʹʺʼ’]")
_WORD = re.compile(r"[a-z]+|[0-9]+")
_BATCH = 5000


def _fold_word(word: str) -> str:
    word = _VARIANT.sub(lambda match: _FOLDED[match.group(0)], word)
    word = _DOUBLED.sub(r"\1", word)
    return _ENDING.sub(r"ev\1", word)


def fold_name(*parts: str) -> str:
    words = []
    for part in parts:
        latin = _SIGNS.sub("", anyascii(unicodedata.normalize("NFKC", part or "")).lower())
        words += [w if w.isdigit() else _fold_word(w) for w in _WORD.findall(latin)]
    return " ".join(sorted(words))


def upgrade():
    with op.batch_alter_table("signature", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("name_key", sa.String(length=320), server_default="", nullable=False)
        )
        # The search key is in the list's indexes: a search reads the index alone.
        batch_op.create_index(
            "ix_signature_appeal_created", ["appeal_id", "created_at", "id", "name_key"],
            unique=False,
        )
        batch_op.create_index(
            "ix_signature_appeal_surname", ["appeal_id", "surname", "id", "name_key"],
            unique=False,
        )
    # Names are public columns (never sealed): the keys are made here, in batches by id.
    connection = op.get_bind()
    last = 0
    while True:
        rows = connection.execute(
            sa.select(signature.c.id, signature.c.surname, signature.c.given_name,
                      signature.c.patronymic)
            .where(signature.c.id > last)
            .order_by(signature.c.id)
            .limit(_BATCH)
        ).all()  # fmt: skip
        if not rows:
            break
        last = rows[-1].id
        changes = [
            {"row_id": row.id, "key": fold_name(row.surname, row.given_name, row.patronymic)[:320]}
            for row in rows
        ]
        connection.execute(
            sa.update(signature)
            .where(signature.c.id == sa.bindparam("row_id"))
            .values(name_key=sa.bindparam("key")),
            changes,
        )


def downgrade():
    with op.batch_alter_table("signature", schema=None) as batch_op:
        batch_op.drop_index("ix_signature_appeal_surname")
        batch_op.drop_index("ix_signature_appeal_created")
        batch_op.drop_column("name_key")
