"""Migration 0020 seals the private details that earlier releases stored in plaintext, and
leaves no readable copy of them in the database's files; going back opens them again."""

import io
import os
import uuid
from datetime import UTC, datetime

import pytest
from flask_migrate import downgrade, upgrade
from PIL import Image, ImageDraw
from PIL.PngImagePlugin import PngInfo
from sqlalchemy import JSON, Boolean, DateTime, Enum, Integer, MetaData, create_engine, insert, text
from sqlalchemy.engine import make_url

from campaign import create_app
from campaign.extensions import db
from campaign.signatures.models import Signature, SignatureAnswer, SignatureImage
from tests import private_values as planted
from tests.conftest import TEST_DATA_KEY

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


@pytest.fixture
def fresh_url(database, tmp_path):
    """An empty database of the run's kind, not migrated."""
    if database["kind"] == "sqlite":
        yield f"sqlite:///{tmp_path / 'old.sqlite'}"
        return
    admin = make_url(os.environ["TEST_DATABASE_URL"])
    name = f"campaign_sealing_{uuid.uuid4().hex[:12]}"
    engine = create_engine(admin, isolation_level="AUTOCOMMIT")
    with engine.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield admin.set(database=name).render_as_string(hide_password=False)
    finally:
        with engine.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        engine.dispose()


def _insert(connection, metadata, table, **values):
    """Insert a row as the schema of the time has it: required columns not given get a
    neutral value of their type."""
    columns = metadata.tables[table].columns
    for column in columns:
        if column.name in values or column.nullable or column.server_default is not None:
            continue
        if column.primary_key and isinstance(column.type, Integer):
            continue
        if isinstance(column.type, Enum):
            raise AssertionError(f"give {table}.{column.name}")
        if isinstance(column.type, DateTime):
            values[column.name] = datetime(2026, 11, 1, 10, tzinfo=UTC)
        elif isinstance(column.type, Boolean):
            values[column.name] = False
        elif isinstance(column.type, JSON):
            values[column.name] = []
        elif isinstance(column.type, Integer):
            values[column.name] = 0
        else:
            values[column.name] = ""
    return connection.execute(insert(metadata.tables[table]).values(**values)).inserted_primary_key[
        0
    ]


def fill_at_0012():
    """Two signatures with plaintext private details, as release 0012 stored them."""
    with db.engine.begin() as connection:
        metadata = MetaData()
        metadata.reflect(connection)
        appeal = _insert(
            connection, metadata, "appeal", slug="old", status="open", language="en", title="T"
        )
        version = _insert(
            connection, metadata, "appeal_version", appeal_id=appeal, number=1, language="en"
        )
        _insert(connection, metadata, "sign_form_settings", appeal_id=appeal, fields={})
        question = _insert(
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
            signatures.append(
                _insert(
                    connection,
                    metadata,
                    "signature",
                    appeal_id=appeal,
                    version_id=version,
                    status="valid",
                    display="full",
                    surname=f"Naloeva-{n}",
                    given_name="Madina",
                    **{k: v or "" for k, v in expected(n).items() if k in SIGNATURE_FIELDS},
                )
            )
        _insert(
            connection,
            metadata,
            "signature_answer",
            signature_id=signatures[0],
            question_id=question,
            value=planted.PRIVATE_ANSWER,
        )
        _insert(
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


def test_rows_stored_in_plaintext_are_sealed_and_no_copy_remains(fresh_url):
    app = create_app(
        {
            "TESTING": True,
            "SECRET_KEY": "x",
            "DATA_KEYS": TEST_DATA_KEY,
            "SQLALCHEMY_DATABASE_URI": fresh_url,
        }
    )
    with app.app_context():
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
            tuple(expected(n)[name] or "" for name in SIGNATURE_FIELDS)
            for n in range(1, SIGNERS + 1)
        ]
        assert db.session.scalar(text("SELECT value FROM signature_answer")) == (
            planted.PRIVATE_ANSWER
        )
        assert bytes(db.session.scalar(text("SELECT png FROM signature_image"))) == old_png()
        db.session.commit()

        upgrade()
        db.session.expire_all()
        assert db.session.get(SignatureAnswer, (ids[0], 1)).value == planted.PRIVATE_ANSWER
        assert db.session.get(SignatureImage, ids[0]).png == old_png()
        db.session.remove()
        db.engine.dispose()
