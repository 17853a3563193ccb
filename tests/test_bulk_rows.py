"""Rows inserted in bulk (COPY on PostgreSQL) read back as the ORM would have stored them."""

from datetime import UTC, datetime

import pytest
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from campaign.bulk_rows import insert_numbered_rows, insert_rows
from campaign.extensions import db
from campaign.signatures.models import (
    Display,
    Signature,
    SignatureImage,
    SignatureStatus,
    png_fingerprint,
)
from tests.conftest import signature_png

SIGNED_AT = datetime(2026, 11, 2, 9, 30, tzinfo=UTC)


def rows(appeal, count, **extra):
    return [
        {
            "appeal_id": appeal.id,
            "version_id": appeal.latest_version.id,
            "status": SignatureStatus.valid,
            "created_at": SIGNED_AT,
            "surname": f"Бакаева-{n}",
            "given_name": "Зарема",
            "email": f"zarema{n}@example.org",
            "children": n,
            **extra,
        }
        for n in range(count)
    ]


def test_numbered_rows_get_growing_ids_their_values_sealed_and_the_defaults_filled(
    make_published_appeal, make_signature
):
    appeal = make_published_appeal()
    before = make_signature(appeal)
    ids = insert_numbered_rows(Signature.__table__, rows(appeal, 3))
    db.session.commit()
    after = make_signature(appeal)

    assert len(set(ids)) == 3
    assert ids == sorted(ids)
    assert before.id < ids[0] and ids[-1] < after.id  # the sequence moved past them
    stored = db.session.get(Signature, ids[1])
    db.session.refresh(stored)
    assert (stored.surname, stored.given_name, stored.children) == ("Бакаева-1", "Зарема", 1)
    assert stored.status is SignatureStatus.valid
    assert stored.created_at == SIGNED_AT
    assert stored.email == "zarema1@example.org"  # sealed on the way in, opened on the way out
    # Left out: the columns' Python defaults, as a Core insert fills them.
    assert (stored.patronymic, stored.display, stored.revision) == ("", Display.full, 0)


def test_the_email_is_stored_sealed(make_published_appeal):
    appeal = make_published_appeal()
    [id_] = insert_numbered_rows(Signature.__table__, rows(appeal, 1))
    db.session.commit()
    table = Signature.__table__
    stored = db.session.execute(
        select(table.c.email.cast(db.LargeBinary)).where(table.c.id == id_)
    ).scalar_one()
    assert b"zarema0@example.org" not in bytes(stored)


def test_rows_without_ids_and_sealed_bytes(make_published_appeal):
    appeal = make_published_appeal()
    ids = insert_numbered_rows(Signature.__table__, rows(appeal, 2))
    pngs = [signature_png(1), signature_png(2)]
    insert_rows(
        SignatureImage.__table__,
        [
            {
                "signature_id": id_,
                "png": png,
                "png_sha256": png_fingerprint(png),
                "width": 300,
                "height": 100,
            }
            for id_, png in zip(ids, pngs, strict=True)
        ],
    )
    db.session.commit()
    assert [db.session.get(SignatureImage, id_).png for id_ in ids] == pngs


def test_a_bad_row_stores_none_of_them(make_published_appeal):
    appeal = make_published_appeal()
    batch = rows(appeal, 3)
    batch[2]["status"] = None  # NOT NULL
    with pytest.raises(IntegrityError):
        insert_numbered_rows(Signature.__table__, batch)
    db.session.rollback()
    assert db.session.scalar(select(func.count()).select_from(Signature)) == 0


def test_nothing_to_insert():
    assert insert_numbered_rows(Signature.__table__, []) == []
    insert_rows(SignatureImage.__table__, [])
