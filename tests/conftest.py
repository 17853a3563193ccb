"""Fixtures: a fresh, migrated, empty database per test (SQLite, or PostgreSQL when asked)."""

import io
import logging
import os
import shutil
import threading
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient, FlaskCliRunner
from flask_migrate import upgrade
from PIL import Image, ImageDraw
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url
from werkzeug.serving import make_server

from campaign import create_app, tasks
from campaign.accounts.models import Role, User
from campaign.accounts.operations import hash_password
from campaign.appeals.models import Appeal
from campaign.appeals.operations import AddresseeData, AppealData, create_appeal, publish_appeal
from campaign.clock import utcnow
from campaign.extensions import db
from campaign.signatures.images import clean_png
from campaign.signatures.models import Display
from campaign.signatures.operations import SignData, sign_appeal
from campaign.upstream_warnings import filterwarnings_lines

PASSWORD = "correct horse battery"
TEST_DATA_KEY = "0000c0de:" + "A" * 43  # 32 zero bytes, base64
# Hashing with Argon2 defaults costs ~50 ms; factories reuse one hash of PASSWORD.
_PASSWORD_HASH = hash_password(PASSWORD)


def pytest_configure(config: pytest.Config) -> None:
    """Ignore the third-party warnings listed in campaign.upstream_warnings, and only those."""
    for line in filterwarnings_lines():
        # Appended after pyproject's "error": a later filter takes precedence.
        config.addinivalue_line("filterwarnings", line)


def _base_config(url: str) -> dict[str, Any]:
    return {
        "TESTING": True,
        "SECRET_KEY": "test-secret",
        # A fixed data key (campaign.crypto): no key file is made in the project's instance/.
        "DATA_KEYS": TEST_DATA_KEY,
        "SQLALCHEMY_DATABASE_URI": url,
        "WTF_CSRF_ENABLED": False,
        # Pages as they are now: the tests that keep them say so.
        "PUBLIC_PAGE_MAX_AGE": 0,
        "RATELIMIT_STORAGE_URI": "memory://",
        "SERVER_NAME": "campaign.test",
        "PUBLIC_URL": "http://campaign.test",
        # Jobs run inside enqueue(): no queue file, no consumer threads.
        "TASK_QUEUE_IMMEDIATE": True,
    }


def _migrate(url: str) -> None:
    app = create_app(_base_config(url))
    with app.app_context():
        upgrade()
        db.engine.dispose()


@pytest.fixture(scope="session")
def database(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, str]]:
    """Create the run's database once: a migrated SQLite template, or a new PostgreSQL db."""
    admin_url = os.environ.get("TEST_DATABASE_URL")
    if not admin_url:
        template = tmp_path_factory.mktemp("db") / "template.sqlite"
        _migrate(f"sqlite:///{template}")
        yield {"kind": "sqlite", "template": str(template)}
        return
    admin = make_url(admin_url.replace("postgresql://", "postgresql+psycopg://", 1))
    name = f"campaign_test_{uuid.uuid4().hex[:12]}"
    engine = create_engine(admin, isolation_level="AUTOCOMMIT")
    with engine.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    url = admin.set(database=name).render_as_string(hide_password=False)
    try:
        _migrate(url)
        yield {"kind": "postgresql", "url": url}
    finally:
        with engine.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        engine.dispose()


def _empty_postgresql(url: str) -> None:
    engine = create_engine(url)
    with engine.begin() as connection:
        tables = (
            connection.execute(
                text(
                    "SELECT tablename FROM pg_tables WHERE schemaname = 'public' "
                    "AND tablename <> 'alembic_version'"
                )
            )
            .scalars()
            .all()
        )
        if tables:
            names = ", ".join(f'"{table}"' for table in tables)
            connection.execute(text(f"TRUNCATE {names} RESTART IDENTITY CASCADE"))
    engine.dispose()


@pytest.fixture
def database_url(database: dict[str, str], tmp_path: Path) -> str:
    """Return the URL of an empty, migrated database for this test."""
    if database["kind"] == "sqlite":
        path = tmp_path / "test.sqlite"
        shutil.copyfile(database["template"], path)
        return f"sqlite:///{path}"
    _empty_postgresql(database["url"])
    return database["url"]


@pytest.fixture
def empty_database_url(database: dict[str, str], tmp_path: Path) -> Iterator[str]:
    """An empty database of the run's kind, not migrated."""
    if database["kind"] == "sqlite":
        yield f"sqlite:///{tmp_path / 'old.sqlite'}"
        return
    admin = make_url(os.environ["TEST_DATABASE_URL"])
    name = f"campaign_migrating_{uuid.uuid4().hex[:12]}"
    engine = create_engine(admin, isolation_level="AUTOCOMMIT")
    with engine.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield admin.set(database=name).render_as_string(hide_password=False)
    finally:
        with engine.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        engine.dispose()


@pytest.fixture
def unmigrated_app(empty_database_url: str) -> Iterator[Flask]:
    """The app on an empty database, not migrated, in its app context: for migrations' tests."""
    app = create_app(
        {
            "TESTING": True,
            "SECRET_KEY": "x",
            "DATA_KEYS": TEST_DATA_KEY,
            "SQLALCHEMY_DATABASE_URI": empty_database_url,
        }
    )
    with app.app_context():
        yield app
        db.session.remove()
        db.engine.dispose()


@pytest.fixture
def app_config() -> dict[str, Any]:
    """Extra settings a test module may override."""
    return {}


@pytest.fixture
def outbox(tmp_path: Path) -> Path:
    """Where this test's mail is written, one .eml file per message."""
    return tmp_path / "outbox"


@pytest.fixture
def app(
    database_url: str, app_config: dict[str, Any], outbox: Path, tmp_path: Path
) -> Iterator[Flask]:
    """The application bound to this test's empty database, its files in the test's folder
    (never the project's instance/)."""
    folders = {
        "MAIL_OUTBOX": str(outbox),
        "DOSSIER_FOLDER": str(tmp_path / "dossiers"),
        "PAPER_FOLDER": str(tmp_path / "paper"),
        "SUBMISSION_SCANS_DIR": str(tmp_path / "submission_scans"),
    }
    app = create_app({**_base_config(database_url), **folders, **app_config})
    with app.app_context():
        yield app
        db.session.remove()
        db.engine.dispose()
        # A file queue's SQLite connection too: left to the garbage collector, it is reported
        # (as an unraisable ResourceWarning) in whichever test runs next.
        tasks.stop(app)


class IsolatedClient(FlaskClient):
    """A test client whose every request runs in its own application context.

    The test body holds an application context for its own database work; without this, Flask
    would reuse it for the requests, sharing `g` (the logged-in user, the locale) and the
    database session between requests, which no real server does.
    """

    def open(self, *args: Any, **kwargs: Any) -> Any:
        # Commit the test's own writes and end its transaction, so that the request sees them
        # and the test's next read sees what the request wrote.
        db.session.commit()
        with self.application.app_context():
            return super().open(*args, **kwargs)


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    """A browser without cookies."""
    app.test_client_class = IsolatedClient
    client = app.test_client()
    # Tests read English messages unless they ask for another language.
    client.environ_base["HTTP_ACCEPT_LANGUAGE"] = "en"
    return client


@pytest.fixture
def live_server(app: Flask) -> Iterator[str]:
    """Serve the test app on 127.0.0.1 in threads; yield its base URL.

    A module using it sets SERVER_NAME to None in its app_config, since clients reach the
    server by address.
    """
    answering = threading.Condition()
    under_way = 0

    def counted(environ: dict[str, Any], start_response: Callable[..., Any]) -> list[bytes]:
        nonlocal under_way
        with answering:
            under_way += 1
        try:
            response = app(environ, start_response)
            try:
                return list(response)
            finally:
                if hasattr(response, "close"):  # as a WSGI server must (a file sent)
                    response.close()
        finally:
            with answering:
                under_way -= 1
                answering.notify_all()

    server = make_server("127.0.0.1", 0, counted, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    thread.join(timeout=5)
    # A request still under way (a page's last fetch of its form) gives its database
    # connection back before the app's engine is disposed: given back after, it was dropped
    # still open, and its ResourceWarning failed a later test (PostgreSQL, 2026-12-07).
    with answering:
        answering.wait_for(lambda: under_way == 0, timeout=10)


@pytest.fixture
def runner(app: Flask) -> FlaskCliRunner:
    """The flask command line."""
    return app.test_cli_runner()


@pytest.fixture
def make_user(app: Flask) -> Callable[..., User]:
    """Create a user; the password is PASSWORD."""
    counter = iter(range(1, 10_000))

    def make(**overrides: Any) -> User:
        n = next(counter)
        values = {
            "name": f"Organiser {n}",
            "email": f"organiser{n}@example.org",
            "password_hash": _PASSWORD_HASH,
            "language": "en",
            "email_confirmed_at": utcnow(),
        }
        values.update(overrides)
        user = User(**values)
        db.session.add(user)
        db.session.commit()
        return user

    return make


@pytest.fixture
def make_appeal(app: Flask, make_user: Callable[..., User]) -> Callable[..., Appeal]:
    """Create a draft appeal; its owner is a new user unless `owner` is given."""
    counter = iter(range(1, 10_000))

    def make(
        owner: User | None = None, members: dict[User, Role] | None = None, **overrides: Any
    ) -> Appeal:
        n = next(counter)
        values: dict[str, Any] = {
            "title": f"Appeal number {n}",
            "language": "en",
            "addressees": (AddresseeData("The President", "Office of the President"),),
            "body": "We ask for our relatives to be returned home.",
            "closing": "Respectfully",
        }
        values.update(overrides)
        appeal = create_appeal(owner or make_user(), AppealData(**values))
        for user, role in (members or {}).items():
            from campaign.accounts.models import Membership

            db.session.add(Membership(appeal_id=appeal.id, user=user, role=role))
        db.session.commit()
        return appeal

    return make


@pytest.fixture
def login(client: FlaskClient) -> Callable[[User], FlaskClient]:
    """Log the client in as a user through the login form."""

    def do_login(user: User, password: str = PASSWORD) -> FlaskClient:
        response = client.post("/accounts/login", data={"email": user.email, "password": password})
        assert response.status_code == 302, response.get_data(as_text=True)
        return client

    return do_login


@pytest.fixture
def switch_to(
    client: FlaskClient, login: Callable[[User], FlaskClient]
) -> Callable[[User], FlaskClient]:
    """Log out whoever is logged in, and log in as the user."""

    def switch(user: User) -> FlaskClient:
        client.post("/accounts/logout")
        return login(user)

    return switch


@pytest.fixture
def make_published_appeal(make_appeal: Callable[..., Appeal]) -> Callable[..., Appeal]:
    """Create an appeal and publish it as version 1; keywords as for make_appeal."""

    def make(**overrides: Any) -> Appeal:
        appeal = make_appeal(**overrides)
        publish_appeal(appeal, appeal.memberships[0].user, seen_revision=appeal.draft_revision)
        db.session.commit()
        return appeal

    return make


def signature_png(seed: int) -> bytes:
    """A distinct drawn signature per seed."""
    image = Image.new("RGBA", (300, 100), (255, 255, 255, 0))
    points = [(10 + 40 * i, 20 + (seed * 37 + i * 53) % 60) for i in range(7)]
    ImageDraw.Draw(image).line(points, fill="black", width=3)
    out = io.BytesIO()
    image.save(out, format="PNG")
    return out.getvalue()


@pytest.fixture
def make_signature(app):
    """Sign an appeal directly through the operation; keywords override SignData fields."""
    counter = iter(range(1, 100_000))

    def make(appeal, *, drawn=True, **overrides):
        n = next(counter)
        values = {
            "surname": f"Налоева-{n}",
            "given_name": "Мадина",
            "patronymic": "Руслановна",
            "region": "RU-CE",
            "town": "Грозный",
            "relationship": "мать",
            "relative_name": f"Ислам Налоев {n}",
            "relative_location": "Багдад, тюрьма Русафа",
            "children": 2,
            "email": f"signer{n}@example.org",
            "display": Display.full,
            "image": clean_png(signature_png(n)) if drawn else None,
        }
        values.update(overrides)
        outcome = sign_appeal(appeal, SignData(**values), consent="Согласие", confirm_within=None)
        db.session.commit()
        return outcome.signature

    return make


class _Lines(logging.Handler):
    def __init__(self) -> None:
        super().__init__()
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(self.format(record))


@pytest.fixture
def security_log(app: Flask) -> Iterator[list[str]]:
    """The lines the security log writes during the test, formatted as in production."""
    from campaign.security_log import FORMAT, UTCFormatter, logger

    handler = _Lines()
    handler.setFormatter(UTCFormatter(FORMAT))
    logger.addHandler(handler)
    try:
        yield handler.lines
    finally:
        logger.removeHandler(handler)
