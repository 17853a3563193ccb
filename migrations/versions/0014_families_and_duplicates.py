"""families (a person concerned per family), pairs marked distinct, and contacts hashed with
names folded across scripts

Revision ID: 0014
Revises: 0012
Create Date: 2026-12-08

"""

import hashlib
import hmac
import re
import unicodedata

from alembic import op
from anyascii import anyascii
from flask import current_app
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = "0014"
down_revision = "0012"
branch_labels = None
depends_on = None

signature = sa.table(
    "signature",
    sa.column("id", sa.Integer),
    sa.column("appeal_id", sa.Integer),
    sa.column("surname", sa.String),
    sa.column("given_name", sa.String),
    sa.column("patronymic", sa.String),
    sa.column("relative_name", sa.String),
    sa.column("email", sa.String),
    sa.column("phone", sa.String),
    sa.column("email_hash", sa.String),
    sa.column("phone_hash", sa.String),
    sa.column("relative_key", sa.String),
)


# As campaign.signatures.names and contacts have them at this revision: a migration does not
# follow later changes of the code (tests/test_database.py checks that they agree today).
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


def _folded_identity(surname: str, given_name: str, patronymic: str) -> str:
    key = fold_name(surname, given_name)
    key = key or " ".join(f"{surname or ''} {given_name or ''}".casefold().split())
    return f"{key}|{fold_name(patronymic)}"


def _identity_0010(surname: str, given_name: str, patronymic: str) -> str:
    surname, given_name, patronymic = (
        " ".join(unicodedata.normalize("NFKC", part or "").casefold().replace("ё", "е").split())
        for part in (surname, given_name, patronymic)
    )
    return "|".join([*sorted([surname, given_name]), patronymic])


def _email_identity(email: str) -> str:
    local, _, domain = email.strip().lower().rpartition("@")
    local = local.split("+", 1)[0]
    if domain in {"gmail.com", "googlemail.com"}:
        local, domain = local.replace(".", ""), "gmail.com"
    return f"{local}@{domain}"


def _hash(kind: str, identity: str, name: str) -> str:
    key = current_app.config["CONTACT_HASH_KEY"] or current_app.config["SECRET_KEY"]
    message = f"{kind}:{identity}\n{name}"
    return hmac.new(key.encode(), message.encode(), hashlib.sha256).hexdigest()


def _rehash(identity, *, relative_keys: bool) -> None:
    # The hashes are keyed with the application's key (not in the database) and computed from
    # the contacts the rows keep; withdrawn signatures keep neither, nor a relative's name.
    connection = op.get_bind()
    rows = connection.execute(
        sa.select(signature)
        .where(
            sa.or_(
                signature.c.email.is_not(None),
                signature.c.phone.is_not(None),
                signature.c.relative_name != "",
            )
        )
        .order_by(signature.c.id)
    ).all()
    taken: set[tuple[int, str]] = set()
    changes = []
    for row in rows:
        name = identity(row.surname, row.given_name, row.patronymic)
        values = {
            "email_hash": _hash("email", _email_identity(row.email), name) if row.email else None,
            "phone_hash": _hash("phone", row.phone, name) if row.phone else None,
        }
        for column, value in values.items():
            # Spellings of one name that signed twice with one contact before (or relatives
            # whose names fold apart, going back) would collide: the earliest keeps the hash,
            # and the later signature stays, for the duplicate finder to show.
            if value is not None and (row.appeal_id, value) in taken:
                values[column] = None
            if values[column] is not None:
                taken.add((row.appeal_id, value))
        if relative_keys:
            values["relative_key"] = fold_name(row.relative_name)
        changes.append({"row_id": row.id, **values})
    if changes:
        connection.execute(
            sa.update(signature)
            .where(signature.c.id == sa.bindparam("row_id"))
            .values({column: sa.bindparam(column) for column in changes[0] if column != "row_id"}),
            changes,
        )


def upgrade():
    op.create_table(
        "person_concerned",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("appeal_id", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["appeal_id"], ["appeal.id"], name=op.f("fk_person_concerned_appeal_id_appeal"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_person_concerned")),
    )
    with op.batch_alter_table("person_concerned", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_person_concerned_appeal_id"), ["appeal_id"], unique=False
        )
    op.create_table(
        "distinct_pair",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("appeal_id", sa.Integer(), nullable=False),
        sa.Column("first_id", sa.Integer(), nullable=False),
        sa.Column("second_id", sa.Integer(), nullable=False),
        sa.Column("marked_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("marked_by_id", sa.Integer(), nullable=True),
        sa.CheckConstraint("first_id < second_id", name=op.f("ck_distinct_pair_ordered")),
        sa.ForeignKeyConstraint(
            ["appeal_id"], ["appeal.id"], name=op.f("fk_distinct_pair_appeal_id_appeal"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["first_id"], ["signature.id"], name=op.f("fk_distinct_pair_first_id_signature"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["second_id"], ["signature.id"], name=op.f("fk_distinct_pair_second_id_signature"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["marked_by_id"], ["user.id"], name=op.f("fk_distinct_pair_marked_by_id_user"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_distinct_pair")),
        sa.UniqueConstraint("first_id", "second_id", name=op.f("uq_distinct_pair_first_id_second_id")),
    )
    with op.batch_alter_table("distinct_pair", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_distinct_pair_appeal_id"), ["appeal_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_distinct_pair_second_id"), ["second_id"], unique=False)
    with op.batch_alter_table("signature", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("relative_key", sa.String(length=200), server_default="", nullable=False)
        )
        batch_op.add_column(sa.Column("person_concerned_id", sa.Integer(), nullable=True))
        batch_op.add_column(
            sa.Column(
                "person_concerned_fixed", sa.Boolean(), server_default=sa.false(), nullable=False
            )
        )
        batch_op.create_foreign_key(
            batch_op.f("fk_signature_person_concerned_id_person_concerned"),
            "person_concerned",
            ["person_concerned_id"],
            ["id"],
            ondelete="SET NULL",
        )
        batch_op.create_index(
            batch_op.f("ix_signature_person_concerned_id"), ["person_concerned_id"], unique=False
        )
        batch_op.create_index(
            "ix_signature_relative_key", ["appeal_id", "relative_key"], unique=False
        )
    # Families are not made here (that is the application's code, which changes): each
    # appeal's signatures are placed when the next one comes in with the same relative, when
    # its families are recomputed, and until then as a recompute would place them.
    _rehash(_folded_identity, relative_keys=True)


def downgrade():
    _rehash(_identity_0010, relative_keys=False)
    with op.batch_alter_table("signature", schema=None) as batch_op:
        batch_op.drop_index("ix_signature_relative_key")
        batch_op.drop_index(batch_op.f("ix_signature_person_concerned_id"))
        batch_op.drop_constraint(
            batch_op.f("fk_signature_person_concerned_id_person_concerned"), type_="foreignkey"
        )
        batch_op.drop_column("person_concerned_fixed")
        batch_op.drop_column("person_concerned_id")
        batch_op.drop_column("relative_key")
    op.drop_table("distinct_pair")
    op.drop_table("person_concerned")
