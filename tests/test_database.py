"""SQLite settings, and no write surviving a request that was told it failed."""

import importlib.util
import sqlite3
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from flask_migrate import downgrade, upgrade
from sqlalchemy import MetaData, Table, event, func, insert, select, text
from sqlalchemy.exc import IntegrityError

from campaign import ROOT, create_app
from campaign.accounts.models import User
from campaign.appeals import operations as appeal_operations
from campaign.appeals.operations import AddresseeData, AppealData, create_appeal, publish_appeal
from campaign.database import after_commit, savepoint
from campaign.extensions import db
from campaign.signatures.contacts import name_identity
from campaign.signatures.models import Signature
from campaign.signatures.names import fold_name
from campaign.signatures.operations import SignData, sign_appeal
from tests.conftest import TEST_DATA_KEY


@pytest.fixture
def sqlite_app(tmp_path):
    """An app on its own SQLite file, whatever database the rest of the suite uses."""
    path = tmp_path / "lock.sqlite"
    app = create_app(
        {
            "TESTING": True,
            "SECRET_KEY": "x",
            "DATA_KEYS": TEST_DATA_KEY,
            "WTF_CSRF_ENABLED": False,
            "SQLALCHEMY_DATABASE_URI": f"sqlite:///{path}",
            "SQLITE_BUSY_TIMEOUT_MS": 100,
            "TASK_QUEUE_IMMEDIATE": True,
            "MAIL_OUTBOX": str(tmp_path / "outbox"),
        }
    )
    with app.app_context():
        upgrade()
    yield app, path
    with app.app_context():
        db.engine.dispose()


@pytest.fixture
def app_on_file():
    """Make apps on their own SQLite files, not yet migrated; their connections are closed
    after the test (Python 3.13 warns of a connection left to the garbage collector)."""
    made = []

    def make(path):
        app = create_app(
            {
                "TESTING": True,
                "SECRET_KEY": "x",
                "DATA_KEYS": TEST_DATA_KEY,
                "SQLALCHEMY_DATABASE_URI": f"sqlite:///{path}",
            }
        )
        made.append(app)
        return app

    yield make
    for app in made:
        with app.app_context():
            db.session.remove()
            db.engine.dispose()


def test_sqlite_pragmas(sqlite_app):
    app, _path = sqlite_app
    app.config["SQLITE_BUSY_TIMEOUT_MS"] = 100
    with app.app_context():
        connection = db.session.connection()
        pragma = lambda name: connection.execute(text(f"PRAGMA {name}")).scalar()  # noqa: E731
        assert pragma("journal_mode") == "wal"
        assert pragma("synchronous") == 1  # NORMAL
        assert pragma("foreign_keys") == 1
        assert pragma("busy_timeout") == 100
        assert pragma("secure_delete") == 1  # freed content is zeroed, whatever the build


def test_default_busy_timeout_is_at_least_five_seconds():
    from campaign.config import Defaults

    assert Defaults.SQLITE_BUSY_TIMEOUT_MS >= 5000


def signup(client, email):
    return client.post(
        "/accounts/signup",
        data={
            "name": "N",
            "email": email,
            "password": "long enough pw",
            "confirm": "long enough pw",
        },
        headers={"Accept-Language": "en"},
    )


def test_a_write_refused_for_a_lock_is_never_committed_later(sqlite_app):
    app, path = sqlite_app
    used = []
    with app.app_context():
        event.listen(db.engine, "checkout", lambda dbapi, _rec, _proxy: used.append(dbapi))

    blocker = sqlite3.connect(path, isolation_level=None)
    blocker.execute("BEGIN IMMEDIATE")  # another writer holds the lock
    try:
        refused = signup(app.test_client(), "refused@example.org")
    finally:
        blocker.execute("ROLLBACK")
        blocker.close()
    assert refused.status_code == 503
    assert "nothing was saved" in refused.get_data(as_text=True)
    failed_connection = used[-1]

    # The next requests commit their own work, and only theirs.
    accepted = signup(app.test_client(), "accepted@example.org")
    assert accepted.status_code == 302
    assert failed_connection not in used[used.index(failed_connection) + 1 :]
    with app.app_context():
        emails = db.session.scalars(select(User.email)).all()
    assert emails == ["accepted@example.org"]


def test_after_commit_waits_for_the_outermost_commit(app):
    calls = []
    with app.app_context():
        db.session.add(User(name="A", email="a@example.org", password_hash="x", language="en"))
        after_commit(lambda: calls.append("first"))
        db.session.flush()
        with db.session.begin_nested():
            after_commit(lambda: calls.append("second"))
            db.session.add(User(name="B", email="b@example.org", password_hash="x", language="en"))
        assert calls == []  # neither at a flush nor at a savepoint's release
        db.session.commit()
        assert calls == ["first", "second"]
        db.session.commit()
        assert calls == ["first", "second"]  # once


def test_after_commit_is_dropped_on_rollback(app):
    calls = []
    with app.app_context():
        db.session.add(User(name="A", email="a@example.org", password_hash="x", language="en"))
        after_commit(lambda: calls.append("rolled back"))
        db.session.rollback()
        db.session.add(User(name="B", email="b@example.org", password_hash="x", language="en"))
        db.session.commit()
        assert calls == []
        after_commit(lambda: calls.append("closed"))
        db.session.close()
        db.session.commit()
        assert calls == []


def test_accounts_made_before_confirmation_count_as_confirmed(tmp_path, app_on_file):
    app = app_on_file(tmp_path / "old.sqlite")
    with app.app_context():
        upgrade(revision="0003")
        db.session.execute(
            text(
                "INSERT INTO user (email, name, password_hash, language, created_at) "
                "VALUES ('old@example.org', 'Old', 'x', 'en', '2026-11-01 10:00:00')"
            )
        )
        db.session.commit()
        upgrade()
        user = db.session.scalar(select(User))
        assert user.email_confirmed_at == user.created_at


def test_the_migrations_build_the_schema_the_models_describe(app):
    # The suite's database is made by the migrations alone: a column added to a model without
    # its migration (or the reverse) shows here, on SQLite and on PostgreSQL.
    with db.engine.connect() as connection:
        assert compare_metadata(MigrationContext.configure(connection), db.metadata) == []


def test_a_savepoint_commits_nothing_by_itself(app):
    def accounts(connection):
        return connection.scalar(select(func.count()).select_from(User))

    # Nothing written before it: on SQLite the savepoint would otherwise be its own transaction.
    with savepoint():
        db.session.add(User(name="A", email="a@example.org", password_hash="x", language="en"))
        db.session.flush()
    with db.engine.connect() as other:
        assert accounts(other) == 0
    db.session.rollback()
    assert accounts(db.session) == 0


def test_an_error_in_a_savepoint_leaves_the_rest_of_the_transaction(app):
    db.session.add(User(name="A", email="a@example.org", password_hash="x", language="en"))
    db.session.flush()
    with pytest.raises(IntegrityError), savepoint():
        db.session.add(User(name="B", email="a@example.org", password_hash="x", language="en"))
        db.session.flush()
    db.session.commit()
    assert db.session.scalars(select(User.name)).all() == ["A"]


def test_a_database_error_does_not_quote_the_values_it_was_given(app):
    # Its message reaches the log with the traceback: the statement's values (a signer's
    # address, say) must not be in it. (PostgreSQL's own DETAIL may still name a unique key's
    # value; signers' contacts are unique only as keyed hashes.)
    db.session.add(User(name="A", email="private@example.org", password_hash="x", language="en"))
    db.session.commit()
    db.session.add(User(name="Private Name", email="private@example.org", password_hash="x"))
    with pytest.raises(IntegrityError) as refused:
        db.session.flush()
    assert "SQL parameters hidden" in str(refused.value)
    assert "Private Name" not in str(refused.value)
    db.session.rollback()


def test_signers_contacts_are_hashed_again_with_their_names_and_back(tmp_path, app_on_file):
    # Down to 0009 goes through 0011, whose downgrade rebuilds the appeal table (SQLite).

    app = app_on_file(tmp_path / "hashes.sqlite")
    with app.app_context():
        upgrade()
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
        # A daughter, and her mother on the daughter's phone and address.
        for given_name in ("Madina", "Khadizhat"):
            data = SignData(
                surname="Naloeva",
                given_name=given_name,
                email="madina@example.org",
                phone="+79281234567",
            )
            assert not sign_appeal(appeal, data, consent="", confirm_within=None).duplicate
        db.session.commit()

        def hashes():
            rows = db.session.execute(
                select(Signature.email_hash, Signature.phone_hash).order_by(Signature.id)
            )
            return [tuple(row) for row in rows]

        named = hashes()
        assert len({value for row in named for value in row}) == 4
        downgrade(revision="0009")
        db.session.expire_all()
        before = hashes()
        # One contact per appeal before 0010: the mother's (later) keeps no hash.
        assert before[1] == (None, None)
        assert before[0][0] not in named[0] and before[0][0] is not None
        upgrade()
        db.session.expire_all()
        assert hashes() == named  # both again: hashed from the contacts the rows keep
        # Rebuilding the appeal table (0011 down) kept the signatures referring to it, and
        # the connections have their foreign keys on again.
        assert db.session.scalar(text("PRAGMA foreign_keys")) == 1


def test_appeals_made_before_time_zones_get_their_countrys(tmp_path, app_on_file):
    app = app_on_file(tmp_path / "zones.sqlite")
    with app.app_context():
        upgrade(revision="0010")
        for n, country in enumerate(["RU", "FR", "US"]):
            db.session.execute(
                text(
                    "INSERT INTO appeal (slug, status, language, country, title, body, closing, "
                    "representative_name, representative_address, created_at, updated_at) "
                    f"VALUES ('a-{n}', 'draft', 'ru', '{country}', 'T', '', '', '', '', "
                    "'2026-11-01 10:00:00', '2026-11-01 10:00:00')"
                )
            )
        db.session.commit()
        upgrade()
        zones = db.session.execute(text("SELECT country, time_zone FROM appeal ORDER BY id"))
        assert [tuple(row) for row in zones] == [
            ("RU", "Europe/Moscow"),
            ("FR", "Europe/Paris"),
            ("US", "UTC"),  # several zones: as its dates were until now
        ]


def test_a_migration_that_breaks_a_foreign_key_leaves_nothing_half_done(tmp_path, app_on_file):
    app = app_on_file(tmp_path / "broken.sqlite")
    with app.app_context():
        upgrade(revision="0010")
        with db.engine.connect() as connection:
            # A membership of an appeal that does not exist, written with the keys off.
            connection.exec_driver_sql("PRAGMA foreign_keys=OFF")
            connection.exec_driver_sql(
                "INSERT INTO user (email, name, password_hash, language, created_at) "
                "VALUES ('a@example.org', 'A', 'x', 'en', '2026-11-01 10:00:00')"
            )
            connection.exec_driver_sql(
                "INSERT INTO membership (user_id, appeal_id, role, created_at) "
                "VALUES (1, 999, 'owner', '2026-11-01 10:00:00')"
            )
            connection.commit()
            connection.exec_driver_sql("PRAGMA foreign_keys=ON")
        with pytest.raises(SystemExit):  # Flask-Migrate's answer to the error
            upgrade()
        # 0011 added a column before the check failed: the column went with the rollback.
        version = db.session.scalar(text("SELECT version_num FROM alembic_version"))
        columns = [row[1] for row in db.session.execute(text("PRAGMA table_info(appeal)"))]
        assert version == "0010" and "time_zone" not in columns
        assert db.session.scalar(text("PRAGMA foreign_keys")) == 1


def test_spellings_that_signed_twice_with_one_contact_keep_one_hash_after_0014(
    tmp_path, app_on_file
):
    app = app_on_file(tmp_path / "folded.sqlite")
    with app.app_context():
        upgrade()
        owner = User(name="O", email="o@example.org", password_hash="x", language="en")
        db.session.add(owner)
        db.session.flush()
        appeal = create_appeal(
            owner,
            AppealData(
                title="T",
                language="ru",
                addressees=(AddresseeData("The President", "Office"),),
                body="Body",
                closing="Respectfully",
            ),
        )
        publish_appeal(appeal, owner, seen_revision=appeal.draft_revision)
        data = SignData(
            surname="Налоева",
            given_name="Мадина",
            email="madina@example.org",
            relative_name="Ислам Налоев",
        )
        assert not sign_appeal(appeal, data, consent="", confirm_within=None).duplicate
        db.session.commit()
        folded = db.session.execute(select(Signature.email_hash, Signature.relative_key)).one()
        downgrade(revision="0012")
        db.session.expire_all()
        # Before 0014, her Latin spelling with the same address was a second signer.
        with db.engine.begin() as connection:
            table = Table("signature", MetaData(), autoload_with=connection)
            first = dict(connection.execute(select(table)).one()._mapping)
            assert first["email_hash"] != folded.email_hash
            second = {
                **first,
                "id": None,
                "surname": "Naloyeva",
                "given_name": "Madina",
                "relative_name": "Islam Naloyev",
                "email_hash": "0" * 64,
                "withdraw_token_hash": None,
                "submission_hash": None,
            }
            connection.execute(insert(table).values(second))
        upgrade()
        db.session.expire_all()
        rows = db.session.execute(
            select(Signature.email_hash, Signature.relative_key).order_by(Signature.id)
        ).all()
        # The first keeps her hash (as the app makes it now); the second stays, without one,
        # for the duplicate finder to show.
        assert [tuple(row) for row in rows] == [
            (folded.email_hash, "islam naloev"),
            (None, "islam naloev"),
        ]
        assert folded.relative_key == "islam naloev"


def test_the_folding_frozen_in_0014_is_the_applications_today():
    path = ROOT / "migrations" / "versions" / "0014_families_and_duplicates.py"
    spec = importlib.util.spec_from_file_location("migration_0014", path)
    migration = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(migration)
    names = [
        ("Налоева", "Мадина", "Руслановна"),
        ("Naloyeva", "Madina", ""),
        ("Цой", "Виктор", "Щукинович"),
        ("Khadidzhat", "Akhyadova", "Ёжиковна"),
        ("Налоева-2", "Ｍａｄｉｎａ", "O'Neil"),
        ("عائشة", "王", "Baghdad"),
        ("🌸", "🌼", ""),
    ]
    for surname, given_name, patronymic in names:
        assert migration._folded_identity(surname, given_name, patronymic) == name_identity(
            surname, given_name, patronymic
        )
        assert migration.fold_name(surname, given_name) == fold_name(surname, given_name)


def test_the_folding_frozen_in_0013_is_the_applications_today():
    path = ROOT / "migrations" / "versions" / "0013_signature_list_search_key.py"
    spec = importlib.util.spec_from_file_location("migration_0013", path)
    migration = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(migration)
    for parts in [
        ("Налоева", "Мадина", "Руслановна"),
        ("Khadidzhat", "Akhyadova", "Ёжиковна"),
        ("Налоева-2", "Ｍａｄｉｎａ", "O'Neil"),
        ("عائشة", "王", ""),
    ]:
        assert migration.fold_name(*parts) == fold_name(*parts)


def revision_before(revision: str) -> str:
    """The migration that `revision` follows (the chain is re-ordered as branches land)."""
    script = ScriptDirectory(str(Path(__file__).resolve().parent.parent / "migrations"))
    return script.get_revision(revision).down_revision


def test_0013_fills_the_search_key_of_signatures_made_before_it(tmp_path, app_on_file, monkeypatch):
    path = tmp_path / "before.sqlite"
    app = app_on_file(path)
    # Publishing is audited today, in columns the audit log had not yet at 0012.
    monkeypatch.setattr(appeal_operations, "record_event", lambda *_args, **_kwargs: None)
    with app.app_context():
        upgrade(revision=revision_before("0013"))  # the models' tables, 0013's not yet
        user = User(name="U", email="u@example.org", password_hash="-")
        db.session.add(user)
        db.session.flush()
        appeal = create_appeal(
            user,
            AppealData(
                title="T",
                language="ru",
                addressees=(AddresseeData("A", ""),),
                body="B",
                closing="C",
            ),
        )
        version = publish_appeal(appeal, user, seen_revision=appeal.draft_revision)
        db.session.commit()
        table = Table("signature", MetaData(), autoload_with=db.engine)
        db.session.execute(
            insert(table).values(
                appeal_id=appeal.id,
                version_id=version.id,
                status="valid",
                created_at=utcnow_naive(),
                surname="Налоева",
                given_name="Мадина",
                patronymic="",
                region="",
                region_other="",
                town="",
                relationship="",
                relative_name="",
                relative_location="",
                display="full",
                typed_signature="",
                consent_text="",
            )
        )
        db.session.commit()
        upgrade()
        assert db.session.scalar(select(Signature.name_key)) == "madina naloeva"
        downgrade(revision="0019")


def utcnow_naive():
    from campaign.clock import utcnow

    return utcnow().replace(tzinfo=None)
