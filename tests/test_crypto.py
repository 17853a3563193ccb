"""Sealing private values: the cipher, the keys outside the database, the column types."""

import stat

import pytest
from sqlalchemy import select

from campaign import create_app
from campaign.crypto import (
    DataKeys,
    Keyring,
    KeyUnavailable,
    SealedBytes,
    SealedText,
    TamperedValue,
    data_keys,
    key_id_of,
    new_key_line,
    sealed_columns,
)
from campaign.extensions import db
from campaign.signatures.models import Signature


def test_a_value_opens_with_its_key_and_context_only():
    keyring = Keyring.generate()
    sealed = keyring.encrypt(b"madina@example.org", "signature.email")
    assert keyring.decrypt(sealed, "signature.email") == b"madina@example.org"
    assert b"madina" not in sealed
    assert key_id_of(sealed) == keyring.current_id
    # A new nonce each time: equal values do not look equal.
    assert keyring.encrypt(b"madina@example.org", "signature.email") != sealed
    # Copied into another column, it does not open there.
    with pytest.raises(TamperedValue):
        keyring.decrypt(sealed, "signature.phone")
    # One bit changed anywhere, or a value cut short, is refused.
    for position in (0 + 6, len(sealed) // 2, len(sealed) - 1):
        altered = bytearray(sealed)
        altered[position] ^= 1
        with pytest.raises(TamperedValue):
            keyring.decrypt(bytes(altered), "signature.email")
    with pytest.raises(TamperedValue):
        keyring.decrypt(sealed[:20], "signature.email")
    # Another keyring does not have the key.
    with pytest.raises(KeyUnavailable):
        Keyring.generate().decrypt(sealed, "signature.email")


def test_the_first_key_seals_and_every_key_opens():
    old = Keyring.generate()
    sealed_before = old.encrypt(b"x", "c")
    rotated = old.with_new_key()
    assert rotated.ids[1:] == old.ids and rotated.current_id != old.current_id
    assert key_id_of(rotated.encrypt(b"x", "c")) == rotated.current_id
    assert rotated.decrypt(sealed_before, "c") == b"x"
    assert rotated.without(old.ids).ids == [rotated.current_id]
    assert rotated.without([rotated.current_id]).ids == rotated.ids  # never the current one
    assert Keyring.loads(rotated.dumps()).ids == rotated.ids


def test_keys_given_in_the_setting_are_read_as_items_or_lines():
    first, second = new_key_line(), new_key_line()
    for configured in (f"{first},{second}", f"{first}\n{second}", [first, second]):
        keys = DataKeys(configured, path=None).keyring()
        assert [f"{key_id:08x}" for key_id in keys.ids] == [first[:8], second[:8]]
    for bad in ("zz", "0000c0de:short", f"{first},{first}"):
        with pytest.raises(KeyUnavailable):
            DataKeys(bad, path=None)


def test_the_key_file_is_made_once_0600_apart_from_the_secret_key(tmp_path, database_url):
    path = tmp_path / "keys" / "data_keys"
    config = {
        "TESTING": True,
        "SECRET_KEY": "s",
        "SQLALCHEMY_DATABASE_URI": database_url,
        "DATA_KEY_FILE": str(path),
    }
    app = create_app(config)
    assert not path.exists()  # nothing is read or made before it is needed
    with app.app_context():
        first = data_keys().keyring()
        db.engine.dispose()
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert stat.S_IMODE(path.parent.stat().st_mode) == 0o700
    with create_app(config).app_context():
        assert data_keys().keyring().ids == first.ids  # read again, not made again
        db.engine.dispose()
    # Not derived from the secret key: another installation with the same one has its own.
    other = {**config, "DATA_KEY_FILE": str(tmp_path / "other_keys")}
    with create_app(other).app_context():
        assert data_keys().keyring().ids != first.ids
        db.engine.dispose()


def test_a_process_opens_what_a_key_added_by_another_process_sealed(tmp_path):
    path = tmp_path / "data_keys"
    here, elsewhere = DataKeys(None, path), DataKeys(None, path)
    old = here.keyring()
    elsewhere.replace(elsewhere.keyring().with_new_key())  # `flask keys rotate`, elsewhere
    sealed = elsewhere.keyring().encrypt(b"value", "c")
    assert not old.has(key_id_of(sealed))
    assert here.keyring(fresh=True).decrypt(sealed, "c") == b"value"


def test_a_sealed_column_cannot_be_compared():
    with pytest.raises(TypeError, match="cannot be compared"):
        select(Signature).where(Signature.email == "madina@example.org")
    with pytest.raises(TypeError, match="cannot be compared"):
        select(Signature).where(Signature.phone.in_(["+79280000000"]))
    assert str(select(Signature.id).where(Signature.email.is_not(None))).endswith(
        "signature.email IS NOT NULL"
    )


def test_every_private_field_is_a_sealed_column(app):
    sealed = {
        f"{table.name}.{column.name}": column.type
        for table, columns in sealed_columns(db.metadata)
        for column in columns
    }
    assert {
        "signature.email",
        "signature.phone",
        "signature.postal_address",
        "signature.helper_name",
        "signature_answer.value",
        "signature_image.png",
    } <= set(sealed)
    assert isinstance(sealed["signature_image.png"], SealedBytes)
    assert isinstance(sealed["signature.email"], SealedText)
    # Each is bound to its own column's name.
    assert all(type_.context == name for name, type_ in sealed.items())
