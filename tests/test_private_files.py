"""What instance/ holds is for this user's eyes only: folders 0700, files 0600."""

import os
import shutil
import stat
import time

import pytest
from flask import Flask
from sqlalchemy import select

from campaign import config, create_app, tasks
from campaign.dossiers.models import DossierSnapshot, Edition
from campaign.dossiers.operations import enqueue_job, request_dossier
from campaign.extensions import db
from campaign.mail import send_mail
from campaign.private_files import private_file, private_folder, write_private
from tests import private_values as planted


def mode(path):
    return stat.S_IMODE(path.stat().st_mode)


@pytest.fixture
def loose_umask():
    """Files and folders made with the common default mode, 0644 and 0755."""
    previous = os.umask(0o022)
    yield
    os.umask(previous)


def test_a_private_folder_is_made_0700_with_its_parents_and_tightened(tmp_path, loose_umask):
    made = private_folder(tmp_path / "a" / "b")
    assert mode(made) == mode(tmp_path / "a") == 0o700
    loose = tmp_path / "loose"
    loose.mkdir(mode=0o755)
    assert mode(private_folder(loose)) == 0o700
    # A folder that is not the application's own keeps its mode; only what is made is private.
    shared = tmp_path / "shared"
    shared.mkdir(mode=0o755)
    private_folder(shared / "keys", tighten=False)
    assert mode(shared) == 0o755 and mode(shared / "keys") == 0o700


def test_private_files_are_made_or_tightened_to_0600(tmp_path, loose_umask):
    assert mode(private_file(tmp_path / "new")) == 0o600
    old = tmp_path / "old"
    old.write_text("x")
    assert mode(old) == 0o644
    assert mode(private_file(old)) == 0o600 and old.read_text() == "x"
    write_private(tmp_path / "written", b"one")
    assert mode(tmp_path / "written") == 0o600
    with pytest.raises(FileExistsError):
        write_private(tmp_path / "written", b"two", overwrite=False)
    assert (tmp_path / "written").read_bytes() == b"one"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["new", "old", "written"]


def test_the_instance_folder_is_made_0700(tmp_path, loose_umask):
    app = Flask("probe", instance_path=str(tmp_path / "instance"))
    config.load(app, {"SECRET_KEY": None})
    assert mode(tmp_path / "instance") == 0o700
    assert mode(tmp_path / "instance" / "secret_key") == 0o600


def test_everything_the_instance_holds_after_use_is_private(
    database, tmp_path, loose_umask, make_signature_in
):
    instance = tmp_path / "instance"
    instance.mkdir(mode=0o755)
    # A database made by an earlier release, readable by everyone.
    database_file = instance / "campaign.sqlite"
    if database["kind"] == "sqlite":
        shutil.copyfile(database["template"], database_file)
        database_file.chmod(0o644)
        url = f"sqlite:///{database_file}"
    else:
        url = database["url"]
    app = create_app(
        {
            "TESTING": True,
            "SECRET_KEY": "s",
            "SQLALCHEMY_DATABASE_URI": url,
            "SERVER_NAME": "campaign.test",
            "DATA_KEY_FILE": str(instance / "data_keys"),
            "MAIL_OUTBOX": str(instance / "outbox"),
            "DOSSIER_FOLDER": str(instance / "dossiers"),
            "DOSSIER_PROCESSES": 1,
            "DOSSIER_SIGNING_CERT": str(instance / "dossier-signing.p12"),
            "TASK_QUEUE": f"sqlite:///{instance / 'tasks.sqlite'}",
            "TASK_QUEUE_IMMEDIATE": False,
        }
    )
    try:
        with app.app_context():
            if database["kind"] == "postgresql":
                from tests.conftest import _empty_postgresql

                _empty_postgresql(url)
            assert app.test_cli_runner().invoke(args=["dossiers", "make-cert"]).exit_code == 0
            appeal, owner = make_signature_in(app)  # a key file, the database's log
            send_mail("madina@example.org", "Subject", "Body")  # the outbox
            job = request_dossier(appeal, Edition.submission, owner, landscape=False, sign=False)
            db.session.commit()
            enqueue_job(job)  # the queue's file, then the render's folders and files
            deadline = time.monotonic() + 120
            while db.session.scalar(select(DossierSnapshot.id)) is None:
                assert time.monotonic() < deadline, "the dossier was not rendered"
                time.sleep(0.2)
                db.session.rollback()
    finally:
        tasks.stop(app)
        with app.app_context():
            db.engine.dispose()

    found = {path.relative_to(instance).as_posix(): path for path in instance.rglob("*")}
    expected = {"data_keys", "outbox", "dossiers", "dossier-signing.p12", "tasks.sqlite"}
    assert expected <= set(found)
    assert any(name.endswith(".pdf") for name in found)  # the snapshot
    assert any(name.startswith("outbox/") for name in found)
    loose = {
        name: oct(mode(path))
        for name, path in found.items()
        if mode(path) != (0o700 if path.is_dir() else 0o600)
    }
    assert loose == {}
    assert mode(instance) == 0o755  # not made here: the test gave it (config makes it 0700)


@pytest.fixture
def make_signature_in():
    """Make an owner, a published appeal and one signature with private details in an app."""

    def make(app):
        from campaign.accounts.models import User
        from campaign.appeals.operations import (
            AddresseeData,
            AppealData,
            create_appeal,
            publish_appeal,
        )

        owner = User(name="O", email="o@example.org", password_hash="x", language="en")
        db.session.add(owner)
        db.session.flush()
        appeal = create_appeal(
            owner,
            AppealData(
                title="T",
                language="en",
                addressees=(AddresseeData("The President", "Office"),),
                body="Body",
                closing="Respectfully",
            ),
        )
        publish_appeal(appeal, owner, seen_revision=appeal.draft_revision)
        db.session.commit()
        planted.ask_everything(appeal)
        planted.plant(appeal)
        return appeal, owner

    return make
