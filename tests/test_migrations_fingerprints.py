"""Migration 0026 stores the SHA-256 of every drawn signature stored before it."""

import hashlib

from flask_migrate import downgrade, upgrade
from sqlalchemy import MetaData, inspect, text

from campaign.crypto import seal
from campaign.extensions import db
from campaign.signatures.models import SignatureImage
from tests.old_rows import insert_appeal, insert_row, insert_signer

# More than the migration reads at a time.
SIGNERS = 520


def drawing(n):
    return b"\x89PNG drawing %d" % n


def fill_at_0025():
    """Signatures with drawings (every other signer), sealed as release 0025 stored them."""
    with db.engine.begin() as connection:
        metadata = MetaData()
        metadata.reflect(connection)
        appeal, version = insert_appeal(connection, metadata)
        drawn = {}
        for n in range(SIGNERS):
            signature = insert_signer(connection, metadata, appeal, version, n, source="online")
            if n % 2:
                insert_row(
                    connection,
                    metadata,
                    "signature_image",
                    signature_id=signature,
                    png=seal(drawing(n), "signature_image.png"),
                    width=300,
                    height=100,
                )
                drawn[signature] = drawing(n)
    return drawn


def test_every_drawing_stored_before_gets_its_sha256(unmigrated_app):
    upgrade(revision="0025")
    drawn = fill_at_0025()

    upgrade()
    for signature_id, png in drawn.items():
        image = db.session.get(SignatureImage, signature_id)
        assert image.png == png
        assert image.png_sha256 == hashlib.sha256(png).hexdigest()
    column = next(
        c for c in inspect(db.engine).get_columns("signature_image") if c["name"] == "png_sha256"
    )
    assert column["nullable"] is False
    db.session.commit()

    downgrade(revision="0025")
    columns = {c["name"] for c in inspect(db.engine).get_columns("signature_image")}
    assert "png_sha256" not in columns
    assert db.session.scalar(text("SELECT count(*) FROM signature_image")) == len(drawn)
