"""`flask keys ...`: every private field resealed under a new key, in batches that resume."""

import os
import signal
import stat
import subprocess
import sys

import pytest
from sqlalchemy import event, select, update

from campaign import ROOT, key_rotation
from campaign.accounts.models import User
from campaign.crypto import (
    DataKeys,
    Keyring,
    data_keys,
    format_key_id,
    new_key_line,
    sealed_columns,
)
from campaign.extensions import db
from campaign.key_rotation import key_usage
from campaign.signatures.models import Signature
from tests import private_values as planted
from tests.conftest import TEST_DATA_KEY

PRIVATE_COLUMNS = {
    "signature.email",
    "signature.phone",
    "signature.postal_address",
    "signature.helper_name",
    "signature_answer.value",
    "signature_image.png",
    "user.totp_secret",
}


@pytest.fixture
def app_config(tmp_path):
    # The keys in a file, which `flask keys` rewrites.
    return {"DATA_KEYS": None, "DATA_KEY_FILE": str(tmp_path / "data_keys")}


@pytest.fixture
def signed(make_published_appeal):
    appeal = make_published_appeal()
    planted.ask_everything(appeal)
    # An organiser's authenticator secret is sealed too.
    owner = appeal.memberships[0].user
    owner.totp_secret = "JBSWY3DPEHPK3PXP"
    db.session.commit()
    return [planted.plant(appeal, n) for n in range(1, 6)]


def everything(signatures):
    db.session.expire_all()
    values = {s.id: planted.private_values(db.session.get(Signature, s.id)) for s in signatures}
    secrets = select(User.totp_secret).where(User.totp_secret.is_not(None))
    values["totp"] = db.session.scalars(secrets).all()
    return values


def keys_by_column():
    return {name: set(counts) for name, counts in key_usage().items() if counts}


def test_a_rotation_reseals_every_private_field_and_each_reads_back(runner, signed, tmp_path):
    before = everything(signed)
    old = data_keys().keyring().current_id
    assert {name for name, keys in keys_by_column().items() if keys == {old}} == PRIVATE_COLUMNS

    result = runner.invoke(args=["keys", "rotate", "--batch-size", "2"])
    assert result.exit_code == 0, result.output
    new = data_keys().keyring().current_id
    assert new != old
    assert f"New key {format_key_id(new)} seals from now on." in result.output
    assert keys_by_column() == {name: {new} for name in PRIVATE_COLUMNS}
    assert everything(signed) == before
    assert stat.S_IMODE((tmp_path / "data_keys").stat().st_mode) == 0o600

    # The old key, used by nothing now, is retired; everything still reads.
    assert data_keys().keyring().ids == [new, old]
    result = runner.invoke(args=["keys", "retire"])
    assert result.exit_code == 0, result.output
    assert f"Retired {format_key_id(old)}" in result.output
    assert data_keys().keyring(fresh=True).ids == [new]
    assert everything(signed) == before

    status = runner.invoke(args=["keys", "status"])
    assert f"signature.email: {format_key_id(new)}: 5" in status.output


def test_a_rotation_stopped_midway_resumes_where_it_stopped(runner, signed, monkeypatch):
    before = everything(signed)
    old = data_keys().keyring().current_id
    real = key_rotation.reseal_batch
    calls = []

    def crash_in_the_second_batch(table, *args, **kwargs):
        result = real(table, *args, **kwargs)
        if table.name == "signature":
            calls.append(result)
        if len(calls) == 2:
            raise KeyboardInterrupt  # written and flushed, never committed
        return result

    monkeypatch.setattr(key_rotation, "reseal_batch", crash_in_the_second_batch)
    stopped = runner.invoke(args=["keys", "rotate", "--batch-size", "2"])
    assert stopped.exit_code != 0
    new = data_keys().keyring(fresh=True).current_id
    db.session.rollback()
    usage = key_usage()
    # The first batch (two signatures) is done; the second went with its transaction.
    assert usage["signature.email"] == {new: 2, old: 3}
    assert set(usage["signature_image.png"]) == {old}
    assert everything(signed) == before  # both keys open what they sealed

    monkeypatch.setattr(key_rotation, "reseal_batch", real)
    resumed = runner.invoke(args=["keys", "rotate", "--batch-size", "2"])
    assert resumed.exit_code == 0, resumed.output
    assert "Resuming: " in resumed.output
    assert data_keys().keyring(fresh=True).ids == [new, old]  # no third key
    assert keys_by_column() == {name: {new} for name in PRIVATE_COLUMNS}
    assert everything(signed) == before


def test_a_value_written_during_the_rotation_is_left_as_written(signed):
    # The rotation reads a batch, then writes each row only if it still holds what was read.
    source = data_keys()
    keyring = source.keyring().with_new_key()
    source.replace(keyring)
    table, columns = next(
        (table, columns)
        for table, columns in sealed_columns(db.metadata)
        if table.name == "signature"
    )
    first = signed[0].id
    db.session.commit()

    def change_her_address_first(connection, _cursor, statement, *_args):
        if statement.lstrip().upper().startswith("UPDATE SIGNATURE") and not changed:
            changed.append(True)
            with db.engine.begin() as other:
                other.execute(
                    update(Signature.__table__)
                    .where(Signature.__table__.c.id == first)
                    .values(postal_address="Changed meanwhile")
                )

    changed = []
    event.listen(db.engine, "before_cursor_execute", change_her_address_first)
    try:
        key_rotation.reseal_batch(table, columns, keyring, after=None, size=1)
        db.session.commit()
    finally:
        event.remove(db.engine, "before_cursor_execute", change_her_address_first)
    assert changed
    db.session.expire_all()
    assert db.session.get(Signature, first).postal_address == "Changed meanwhile"
    assert db.session.get(Signature, first).email == planted.private_values(signed[0])["email"]


class TestKeysFromTheSetting:
    @pytest.fixture
    def app_config(self):
        return {}  # the suite's DATA_KEYS

    def test_keys_from_the_setting_are_rotated_by_putting_a_new_one_first(
        self, app, runner, signed
    ):
        # The setting's single key seals everything: nothing to do until a new key is put first.
        refused = runner.invoke(args=["keys", "rotate"])
        assert refused.exit_code != 0
        assert "put a new key (flask keys new) first in DATA_KEYS" in refused.output

        line = runner.invoke(args=["keys", "new"]).output.strip()
        app.extensions["campaign.data_keys"] = DataKeys([line, TEST_DATA_KEY], path=None)
        before = everything(signed)
        result = runner.invoke(args=["keys", "rotate"])
        assert result.exit_code == 0, result.output
        new = int(line[:8], 16)
        assert keys_by_column() == {name: {new} for name in PRIVATE_COLUMNS}
        assert everything(signed) == before
        retire = runner.invoke(args=["keys", "retire"])
        assert f"No value is sealed with {TEST_DATA_KEY[:8]}: remove them from DATA_KEYS." in (
            retire.output
        )

    def test_a_rotation_refuses_values_sealed_with_a_key_it_lacks(self, app, runner, signed):
        app.extensions["campaign.data_keys"] = DataKeys([new_key_line()], path=None)
        result = runner.invoke(args=["keys", "rotate"])
        assert result.exit_code != 0
        assert f"sealed with keys this installation lacks: {TEST_DATA_KEY[:8]}" in result.output
        # Nothing was touched.
        app.extensions["campaign.data_keys"] = DataKeys(TEST_DATA_KEY, path=None)
        assert set(key_usage()["signature.email"]) == {int(TEST_DATA_KEY[:8], 16)}
        assert Keyring.loads(TEST_DATA_KEY).ids == [int(TEST_DATA_KEY[:8], 16)]
        assert db.session.scalar(select(Signature.email).limit(1)).startswith("planted-mailbox")


def test_a_rotation_killed_midway_is_finished_by_the_next_run(app, make_published_appeal):
    appeal = make_published_appeal()
    planted.ask_everything(appeal)
    signatures = [planted.plant(appeal, n) for n in range(1, 61)]
    before = everything(signatures)
    old = data_keys().keyring().current_id
    env = {key: value for key, value in os.environ.items() if not key.startswith("CAMPAIGN_")}
    env.update(
        FLASK_APP="campaign",
        CAMPAIGN_SECRET_KEY="test-secret",
        CAMPAIGN_SQLALCHEMY_DATABASE_URI=app.config["SQLALCHEMY_DATABASE_URI"],
        CAMPAIGN_DATA_KEY_FILE=app.config["DATA_KEY_FILE"],
    )
    command = [sys.executable, "-m", "flask", "keys", "rotate", "--batch-size", "1"]
    process = subprocess.Popen(
        command, cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True
    )
    for line in process.stdout:
        if "row(s) resealed" in line:  # a batch is committed: kill it, as a crash would
            process.kill()
            break
    process.wait()
    process.stdout.close()
    assert process.returncode == -signal.SIGKILL

    new = data_keys().keyring(fresh=True).current_id
    db.session.rollback()
    assert {key for counts in key_usage().values() for key in counts} == {old, new}  # midway
    assert everything(signatures) == before

    resumed = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True)
    assert resumed.returncode == 0, resumed.stderr
    assert "Resuming: " in resumed.stdout
    assert data_keys().keyring(fresh=True).ids == [new, old]
    db.session.rollback()
    # No organiser here has an authenticator secret: every other private column was resealed.
    assert keys_by_column() == {name: {new} for name in PRIVATE_COLUMNS - {"user.totp_secret"}}
    assert everything(signatures) == before
