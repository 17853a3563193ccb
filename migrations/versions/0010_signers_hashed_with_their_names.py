"""signers' contacts hashed with their names: relatives sharing a mailbox or a phone each sign

Revision ID: 0010
Revises: 0009
Create Date: 2026-11-28

"""

import hashlib
import hmac
import unicodedata

from alembic import op
from flask import current_app
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None

signature = sa.table(
    "signature",
    sa.column("id", sa.Integer),
    sa.column("appeal_id", sa.Integer),
    sa.column("surname", sa.String),
    sa.column("given_name", sa.String),
    sa.column("patronymic", sa.String),
    sa.column("email", sa.String),
    sa.column("phone", sa.String),
    sa.column("email_hash", sa.String),
    sa.column("phone_hash", sa.String),
)


# As campaign.signatures.contacts has them at this revision: a migration does not follow
# later changes of the code.


def _email_identity(email: str) -> str:
    local, _, domain = email.strip().lower().rpartition("@")
    local = local.split("+", 1)[0]
    if domain in {"gmail.com", "googlemail.com"}:
        local, domain = local.replace(".", ""), "gmail.com"
    return f"{local}@{domain}"


def _name_identity(surname: str, given_name: str, patronymic: str) -> str:
    surname, given_name, patronymic = (
        " ".join(unicodedata.normalize("NFKC", part or "").casefold().replace("ё", "е").split())
        for part in (surname, given_name, patronymic)
    )
    return "|".join([*sorted([surname, given_name]), patronymic])


def _hash(kind: str, identity: str, name: str | None) -> str:
    # With the name (this revision) or without it (before).
    key = current_app.config["CONTACT_HASH_KEY"] or current_app.config["SECRET_KEY"]
    message = f"{kind}:{identity}" if name is None else f"{kind}:{identity}\n{name}"
    return hmac.new(key.encode(), message.encode(), hashlib.sha256).hexdigest()


def _rehash(with_names: bool) -> None:
    # The hashes are keyed with the application's key (not in the database) and computed from
    # the contacts the rows keep; withdrawn signatures keep neither.
    connection = op.get_bind()
    rows = connection.execute(
        sa.select(signature)
        .where(sa.or_(signature.c.email.is_not(None), signature.c.phone.is_not(None)))
        .order_by(signature.c.id)
    ).all()
    taken: set[tuple[int, str]] = set()
    for row in rows:
        name = _name_identity(row.surname, row.given_name, row.patronymic) if with_names else None
        values = {
            "email_hash": _hash("email", _email_identity(row.email), name) if row.email else None,
            "phone_hash": _hash("phone", row.phone, name) if row.phone else None,
        }
        for column, value in values.items():
            # Going back, relatives on one contact would collide: the earliest keeps it.
            if value is not None and (row.appeal_id, value) in taken:
                values[column] = None
            if values[column] is not None:
                taken.add((row.appeal_id, value))
        connection.execute(sa.update(signature).where(signature.c.id == row.id).values(values))


def upgrade():
    _rehash(with_names=True)


def downgrade():
    _rehash(with_names=False)
