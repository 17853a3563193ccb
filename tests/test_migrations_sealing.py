"""Migration 0020 seals the private details that earlier releases stored in plaintext, and
leaves no readable copy of them in the database's files; going back opens them again."""

import io

from flask_migrate import downgrade, upgrade
from PIL import Image, ImageDraw
from PIL.PngImagePlugin import PngInfo
from sqlalchemy import MetaData, text

from campaign.extensions import db
from campaign.signatures.models import Signature, SignatureAnswer, SignatureImage
from tests import private_values as planted
from tests.old_rows import insert_appeal, insert_row, insert_signer

IMAGE_MARKER = "Planted-Image-Marker-Zz55"
# Enough rows that the pages the migration frees are not all reused by the tables it builds.
SIGNERS = 80
SIGNATURE_FIELDS = ("email", "phone", "postal_address", "helper_name")


def old_png():
    """A drawn signature as an earlier release stored it, with a text chunk easy to find."""
    image = Image.new("RGB", (300, 100), "white")
    ImageDraw.Draw(image).line([(10, 80), (90, 20), (200, 70)], fill="black", width=3)
    info = PngInfo()
    info.add_text("Comment", IMAGE_MARKER)
    out = io.BytesIO()
    image.save(out, format="PNG", pnginfo=info)
    return out.getvalue()


def fill_at_0012():
    """Two signatures with plaintext private details, as release 0012 stored them."""
    with db.engine.begin() as connection:
        metadata = MetaData()
        metadata.reflect(connection)
        appeal, version = insert_appeal(connection, metadata)
        insert_row(connection, metadata, "sign_form_settings", appeal_id=appeal, fields={})
        question = insert_row(
            connection,
            metadata,
            "custom_question",
            appeal_id=appeal,
            position=1,
            label="Where is he held?",
            kind="text",
            private=True,
        )
        signatures = []
        for n in range(1, SIGNERS + 1):
            private = {k: v or "" for k, v in expected(n).items() if k in SIGNATURE_FIELDS}
            signatures.append(insert_signer(connection, metadata, appeal, version, n, **private))
        insert_row(
            connection,
            metadata,
            "signature_answer",
            signature_id=signatures[0],
            question_id=question,
            value=planted.PRIVATE_ANSWER,
        )
        insert_row(
            connection,
            metadata,
            "signature_image",
            signature_id=signatures[0],
            png=old_png(),
            width=300,
            height=100,
        )
    return signatures


def expected(n):
    """The private details of the n-th signer, as the application reads them."""
    return {
        "email": f"old-{n}-{planted.EMAIL}",
        "phone": f"+7928555{n:04d}",
        "postal_address": f"{planted.POSTAL_ADDRESS}, house {n}, the green gate by the well",
        "helper_name": f"{planted.HELPER}-{n}" if n % 2 else None,  # "" before 0020
        "png": old_png() if n == 1 else None,
        "answers": [planted.PRIVATE_ANSWER] if n == 1 else [],
    }


def every_value():
    """Every planted value, for the search of the database's files."""
    values = {"image marker": IMAGE_MARKER}
    for n in range(1, SIGNERS + 1):
        values.update({f"{name} {n}": value for name, value in expected(n).items()})
    return values


def test_rows_stored_in_plaintext_are_sealed_and_no_copy_remains(unmigrated_app):
    upgrade(revision="0012")
    ids = fill_at_0012()
    if db.engine.dialect.name == "sqlite":
        # As in a database used for a while: the rows are in its file, not only in its log.
        with db.engine.connect() as connection:
            connection.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
    # The search finds what is there in plaintext.
    assert "email" in {what for what, _file in planted.found_in_files(expected(1))}

    upgrade()
    db.session.expire_all()
    for n, signature_id in enumerate(ids, start=1):
        signature = db.session.get(Signature, signature_id)
        assert planted.private_values(signature) == expected(n)
    stored = db.session.scalar(text("SELECT email FROM signature ORDER BY id LIMIT 1"))
    assert bytes(stored)[:1] == b"\x01"  # sealed, key id next
    db.session.commit()
    assert planted.found_in_files(every_value()) == []
    assert any(b"Naloeva-1" in data for data in planted.database_files().values())

    # Back to 0012: the details are plaintext again, and a helper's name is "" when none.
    downgrade(revision="0012")
    rows = db.session.execute(
        text("SELECT email, phone, postal_address, helper_name FROM signature ORDER BY id")
    ).all()
    assert [tuple(row) for row in rows] == [
        tuple(expected(n)[name] or "" for name in SIGNATURE_FIELDS) for n in range(1, SIGNERS + 1)
    ]
    assert db.session.scalar(text("SELECT value FROM signature_answer")) == (planted.PRIVATE_ANSWER)
    assert bytes(db.session.scalar(text("SELECT png FROM signature_image"))) == old_png()
    db.session.commit()

    upgrade()
    db.session.expire_all()
    assert db.session.get(SignatureAnswer, (ids[0], 1)).value == planted.PRIVATE_ANSWER
    assert db.session.get(SignatureImage, ids[0]).png == old_png()
