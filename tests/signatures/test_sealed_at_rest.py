"""A signer's private details are stored sealed: no file of the database holds them readable."""

import hashlib

from sqlalchemy import LargeBinary, select, type_coerce

from campaign.crypto import HEADER_BYTES, keyring, sealed_columns
from campaign.extensions import db
from campaign.signatures.models import Signature
from tests import private_values as planted


def sign_with_everything(open_appeal, sign):
    private_q, public_q = planted.ask_everything(open_appeal)
    response = sign(
        open_appeal,
        email=planted.EMAIL,
        phone="+7 928 555 81 81",
        postal_address=planted.POSTAL_ADDRESS,
        on_behalf="y",
        helper_name=planted.HELPER,
        **{f"q{private_q}": planted.PRIVATE_ANSWER, f"q{public_q}": planted.PUBLIC_ANSWER},
    )
    assert response.status_code == 302
    return db.session.scalar(select(Signature))


def test_the_sign_form_stores_private_details_sealed_and_reads_them_back(client, open_appeal, sign):
    signature = sign_with_everything(open_appeal, sign)
    values = planted.private_values(signature)
    assert values["email"] == planted.EMAIL
    assert values["phone"] == planted.PHONE
    assert values["postal_address"] == planted.POSTAL_ADDRESS
    assert values["helper_name"] == planted.HELPER
    assert values["png"].startswith(b"\x89PNG")
    assert sorted(values["answers"]) == sorted([planted.PRIVATE_ANSWER, planted.PUBLIC_ANSWER])

    # As stored: each value begins with the current key's id, and none holds its plaintext.
    header = b"\x01" + keyring().current_id.to_bytes(4, "big")
    for table, columns in sealed_columns(db.metadata):
        if table.name == "user":  # an account's sealed columns: not the sign form's to fill
            continue
        if table.name == "outgoing_mail":  # deleted once sent (see test_mail_failure.py)
            continue
        for column in columns:
            stored = db.session.scalars(
                select(type_coerce(column, LargeBinary)).where(column.is_not(None))
            ).all()
            assert stored, column
            for value in stored:
                assert value[:HEADER_BYTES] == header
                for needle in planted.needles(values).values():
                    assert needle not in value, (table.name, column.name)


def test_no_file_of_the_database_holds_a_planted_private_value(client, open_appeal, sign):
    signature = sign_with_everything(open_appeal, sign)
    values = planted.private_values(signature)
    db.session.commit()
    files = planted.database_files()
    # The search reads the files the rows are in: her public name is there, readable.
    assert any(b"Naloeva" in data for data in files.values())
    assert planted.found_in_files(values) == []


def test_a_drawing_is_stored_with_its_sha256_which_follows_it(client, open_appeal, sign):
    signature = sign_with_everything(open_appeal, sign)
    image = signature.image
    # Not sealed: the fingerprint the authority's dossier lists, which tells nothing of the drawing.
    assert image.png_sha256 == hashlib.sha256(image.png).hexdigest()
    image.png = b"\x89PNG another drawing"
    assert image.png_sha256 == hashlib.sha256(b"\x89PNG another drawing").hexdigest()
