"""Configuration: defaults here, then instance/config.py, then CAMPAIGN_* variables, then tests."""

import json
import os
import secrets
from datetime import timedelta
from pathlib import Path
from typing import Any, ClassVar

from flask import Flask

from campaign.private_files import private_folder

ENV_PREFIX = "CAMPAIGN_"


class Defaults:
    """Settings that hold unless the instance, the environment or a test says otherwise."""

    SECRET_KEY: str | None = None
    SQLALCHEMY_DATABASE_URI: str | None = None
    # SQLite waits this long (ms) for a lock before giving up; the PDF notes ask for >= 5 s.
    SQLITE_BUSY_TIMEOUT_MS = 5000
    # hide_parameters: a database error's message (logged with its traceback) must not quote
    # the values of the statement, a signer's address or phone among them.
    SQLALCHEMY_ENGINE_OPTIONS: ClassVar[dict[str, Any]] = {
        "pool_pre_ping": True,
        "hide_parameters": True,
    }

    SESSION_COOKIE_HTTPONLY = True
    SESSION_COOKIE_SAMESITE = "Lax"
    # False means "Secure when the request came over HTTPS" (see security.py); True forces it.
    SESSION_COOKIE_SECURE = False
    # A login session ends after this long unused (the cookie's lifetime too), and after
    # SESSION_ABSOLUTE_LIFETIME however much it is used (both checked on the server).
    PERMANENT_SESSION_LIFETIME = timedelta(hours=12)
    SESSION_ABSOLUTE_LIFETIME = timedelta(hours=24)
    # Number of proxies in front of the app whose X-Forwarded-* headers are trusted.
    PROXY_COUNT = 0

    WTF_CSRF_TIME_LIMIT = 3600 * 12
    MAX_CONTENT_LENGTH = 2 * 1024 * 1024
    # A scanned receipt or answer (PDF, JPEG, PNG) of a submission; its upload alone may be
    # larger than MAX_CONTENT_LENGTH. Stored in SUBMISSION_SCANS_DIR (instance/ by default).
    SUBMISSION_SCAN_MAX_BYTES = 8 * 1024 * 1024
    # Messages a second to signers about a submission (a notice, an update): a mail server
    # takes a burst of thousands as spam.
    SUBMISSION_MAIL_PER_SECOND = 5.0

    LANGUAGES = ("ru", "en")
    BABEL_DEFAULT_LOCALE = "ru"
    BABEL_DEFAULT_TIMEZONE = "UTC"
    # A new appeal's time zone when its country has it (campaign.time_zones).
    DEFAULT_TIME_ZONE = "Europe/Moscow"

    RATELIMIT_STORAGE_URI = "memory://"
    RATELIMIT_HEADERS_ENABLED = False
    LOGIN_LIMIT_PER_IP = "20 per minute;100 per hour"
    # Wrong passwords per account from one connection: a flood from one place stops there.
    LOGIN_LIMIT_PER_ACCOUNT_AND_IP = "5 per 15 minutes"
    # Wrong passwords per account from everywhere (a flood from many places): its owner is
    # mailed a link that lets her log in despite it (UNLOCK_LINK_LIFETIME), at most as often
    # as UNLOCK_MAIL_LIMIT.
    LOGIN_LIMIT_PER_ACCOUNT = "20 per hour"
    UNLOCK_LINK_LIFETIME = timedelta(hours=24)
    UNLOCK_MAIL_LIMIT = "1 per 3 hours"
    # Wrong second-step codes per account: six digits must not be guessed from many places.
    TWO_FACTOR_LIMIT = "5 per 15 minutes"

    INVITATION_LIFETIME = timedelta(days=7)
    # Mailed links work this long, and only until the password changes.
    SIGNUP_LINK_LIFETIME = timedelta(days=2)
    RESET_LINK_LIFETIME = timedelta(hours=1)
    # The link that lets an address an account left bring it back (it survives new passwords).
    EMAIL_UNDO_LINK_LIFETIME = timedelta(days=7)
    SIGNUP_LIMIT_PER_IP = "10 per hour"
    SIGNUP_LIMIT_PER_ACCOUNT = "3 per hour"
    RESET_LINK_LIMIT_PER_IP = "5 per hour"
    RESET_LINK_LIMIT_PER_ACCOUNT = "3 per hour"
    # Wrong current passwords on the account page and on mailed links' pages, per account
    # and per link.
    ACCOUNT_CHANGE_LIMIT = "5 per 15 minutes"
    # Links mailed to a new address, per account: each is a mail to an address not verified.
    EMAIL_CHANGE_LIMIT = "3 per hour"

    # Each message as an .eml file in MAIL_OUTBOX (default instance/outbox); "smtp" for a server.
    MAIL_BACKEND = "campaign.mail.EmailBackend"
    MAIL_DEFAULT_SENDER = "Campaign <no-reply@localhost>"

    # Keys that seal private data at rest (campaign.crypto): "id:key" items, the first one
    # sealing, e.g. from the environment; None: the file DATA_KEY_FILE (default
    # instance/data_keys), made on first use. Never SECRET_KEY, never in the database.
    DATA_KEYS: str | list[str] | None = None
    DATA_KEY_FILE: str | None = None
    # Signers' private details (contacts, postal addresses, signature images, helpers' names,
    # answers to private questions) are erased this many months after an appeal ends
    # (signatures.retention); the privacy page says so.
    PRIVATE_DATA_RETENTION_MONTHS = 12
    # The development mail backend deletes messages from its outbox after this many days.
    MAIL_OUTBOX_RETENTION_DAYS = 3
    # Mail is sent by the queued job "mail.send" (campaign.mail_queue): a failure the server
    # may get over is tried again after MAIL_RETRY_DELAY seconds, doubling, MAIL_RETRIES times;
    # then the message is kept as a dead letter (`flask mail dead-letters`, `flask mail retry`).
    MAIL_RETRIES = 5
    MAIL_RETRY_DELAY = 60
    # Dead letters (a signer's address, her private links) are deleted by `flask mail
    # purge-dead` this many days after they were written.
    MAIL_DEAD_LETTER_DAYS = 30
    # Seconds an SMTP server may take to answer before the try counts as failed.
    MAIL_TIMEOUT = 30

    # Keyed hashes of signers' contacts; defaults to SECRET_KEY. Keep it outside the database.
    CONTACT_HASH_KEY: str | None = None
    # Per appeal. Families sign together on one Wi-Fi, and mobile networks put many phones
    # behind one address: a limit for robots, not for a village.
    SIGN_LIMIT_PER_IP = "60 per hour"
    SIGN_MIN_SECONDS = 3
    CONFIRMATION_LIFETIME = timedelta(days=7)
    # The organiser's desk shows pairs of signatures scoring at least this (0-100) as possible
    # duplicates, and so does `flask signatures duplicates` (signatures.duplicates).
    DUPLICATE_THRESHOLD = 80
    PUBLIC_LIST_PAGE_SIZE = 20
    # The appeal page is the same for every anonymous visitor: each process keeps it this many
    # seconds, and tells proxies they may (Cache-Control: public, max-age). Its counts and
    # latest signatories are that much behind; 0 turns both off.
    PUBLIC_PAGE_MAX_AGE = 10
    PUBLIC_PAGE_CACHE_SIZE = 512
    TITLE_MAX_LENGTH = 200
    BODY_MAX_LENGTH = 50_000

    # Where queued jobs wait (see tasks.py): "sqlite" is instance/tasks.sqlite, consumed by
    # threads inside the app so `make run` needs no worker; "sqlite:///path" another file;
    # "memory" for tests; "redis://host:port/db" for production, consumed by `flask tasks worker`.
    TASK_QUEUE = "sqlite"
    # Run each job synchronously inside enqueue(), with no queue and no consumer (tests).
    TASK_QUEUE_IMMEDIATE = False
    # Stable per installation (Redis keys, rows of the SQLite file); tests sharing a Redis
    # give each run its own.
    TASK_QUEUE_NAME = "campaign"
    # Consumer threads per app process for the sqlite and memory queues (0: none, run
    # `flask tasks worker`); also the worker command's default --workers.
    TASK_WORKERS = 1

    # Where dossier snapshots (and the cache of rendered blocks) are kept; None: instance/dossiers.
    DOSSIER_FOLDER: str | None = None
    # Worker processes that lay out a dossier's parts in parallel, and the time a render may take.
    DOSSIER_PROCESSES = max(1, min(4, os.cpu_count() or 1))
    DOSSIER_TIME_LIMIT = 600
    # With the queue on Redis, a render offers its uncached blocks to task workers on other
    # hosts too (dossiers/shared_blocks.py: jobs as private files on the shared DOSSIER_FOLDER,
    # only block keys in Redis). Off unless asked for: with workers on one host it only adds
    # the writing of every job and a second pool of render processes. Ignored without Redis.
    DOSSIER_SHARED_BLOCKS = False
    # Helper jobs a render queues for other workers (each renders blocks until none is left).
    DOSSIER_BLOCK_HELPERS = 3
    # Largest PDF accepted by the public verification page.
    VERIFY_MAX_BYTES = 200 * 1024 * 1024
    # Where scans of signed sheets and tables waiting to be imported are kept (0700, files
    # 0600); None: instance/paper.
    PAPER_FOLDER: str | None = None
    # Seconds an uploaded table waits there, not imported, before `flask signatures
    # purge-uploads` (run daily with the other purges) deletes it: 24 hours.
    IMPORT_UPLOAD_MAX_AGE = 24 * 3600
    # The site's public address: every link given out (mail, sharing, QR codes, dossiers).
    PUBLIC_URL = "http://127.0.0.1:5000"

    # PKCS#12 file (certificate and key) that signs dossiers, relative to instance/ unless
    # absolute; None means instance/dossier-signing.p12 if it exists, else no signing.
    DOSSIER_SIGNING_CERT: str | None = None
    # Passphrase of that file as a string (None when it has none); keep it out of git.
    DOSSIER_SIGNING_PASSPHRASE: str | None = None


def load(app: Flask, test_config: dict[str, Any] | None = None) -> None:
    """Apply the configuration layers to the app, in order."""
    app.config.from_object(Defaults)
    app.config.from_pyfile("config.py", silent=True)
    _load_environment(app)
    if "DATABASE_URL" in os.environ and "SQLALCHEMY_DATABASE_URI" not in _env_keys():
        app.config["SQLALCHEMY_DATABASE_URI"] = _sqlalchemy_url(os.environ["DATABASE_URL"])
    if test_config:
        app.config.update(test_config)
    secret_from_file = not app.config.get("SECRET_KEY")
    _fill_derived(app)
    _warn_of_local_state(app, secret_from_file)
    _check_lifetimes(app)
    if app.config["PRIVATE_DATA_RETENTION_MONTHS"] < 1:
        raise ValueError("PRIVATE_DATA_RETENTION_MONTHS must be at least 1.")


# Mails and pages give each lifetime in whole units of this size, rounded down: a shorter
# lifetime would be promised as longer than it is.
_LIFETIME_UNITS = {
    "RESET_LINK_LIFETIME": timedelta(minutes=1),
    "SIGNUP_LINK_LIFETIME": timedelta(hours=1),
    "EMAIL_UNDO_LINK_LIFETIME": timedelta(days=1),
    "CONFIRMATION_LIFETIME": timedelta(days=1),
    "INVITATION_LIFETIME": timedelta(days=1),
    "UNLOCK_LINK_LIFETIME": timedelta(hours=1),
}


def _check_lifetimes(app: Flask) -> None:
    for name, unit in _LIFETIME_UNITS.items():
        if app.config[name] < unit:
            raise ValueError(f"{name} must be at least {unit}: mails state it in such units.")


def _env_keys() -> set[str]:
    return {key.removeprefix(ENV_PREFIX) for key in os.environ if key.startswith(ENV_PREFIX)}


def _load_environment(app: Flask) -> None:
    for key, raw in os.environ.items():
        if not key.startswith(ENV_PREFIX):
            continue
        try:
            value = json.loads(raw)
        except ValueError:
            value = raw
        app.config[key.removeprefix(ENV_PREFIX)] = value


def _sqlalchemy_url(url: str) -> str:
    """Use psycopg 3 for PostgreSQL URLs written the usual way."""
    for prefix in ("postgres://", "postgresql://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url.removeprefix(prefix)
    return url


def _fill_derived(app: Flask) -> None:
    instance = Path(app.instance_path)
    if not app.config.get("SQLALCHEMY_DATABASE_URI"):
        private_folder(instance)
        app.config["SQLALCHEMY_DATABASE_URI"] = f"sqlite:///{instance / 'campaign.sqlite'}"
    app.config["SQLALCHEMY_DATABASE_URI"] = _sqlalchemy_url(app.config["SQLALCHEMY_DATABASE_URI"])
    if not app.config.get("DOSSIER_FOLDER"):
        app.config["DOSSIER_FOLDER"] = str(instance / "dossiers")
    if not app.config.get("SUBMISSION_SCANS_DIR"):
        app.config["SUBMISSION_SCANS_DIR"] = str(instance / "submission_scans")
    if not app.config.get("PAPER_FOLDER"):
        app.config["PAPER_FOLDER"] = str(instance / "paper")
    if not app.config.get("SECRET_KEY"):
        app.config["SECRET_KEY"] = _instance_secret(instance)


def local_state(app: Flask, secret_from_file: bool) -> list[str]:
    """Name the settings that keep state on this host while the queue is shared (Redis)."""
    if not str(app.config["TASK_QUEUE"]).startswith(("redis://", "rediss://", "unix://")):
        return []  # one host: the SQLite queue and everything else may stay in instance/
    instance = Path(app.instance_path).resolve()
    local = []
    if str(app.config["RATELIMIT_STORAGE_URI"]).startswith("memory://"):
        local.append("RATELIMIT_STORAGE_URI (limits counted per process: use Redis)")
    if secret_from_file:
        local.append("SECRET_KEY (instance/secret_key differs per host)")
    if app.config.get("DATA_KEYS") is None and app.config.get("DATA_KEY_FILE") is None:
        local.append("DATA_KEYS (instance/data_keys differs per host)")
    if str(app.config["SQLALCHEMY_DATABASE_URI"]).startswith("sqlite:"):
        local.append("SQLALCHEMY_DATABASE_URI (a SQLite file: use PostgreSQL)")
    if Path(app.config["DOSSIER_FOLDER"]).resolve().is_relative_to(instance):
        local.append("DOSSIER_FOLDER (under instance/: use shared storage)")
    return local


def _warn_of_local_state(app: Flask, secret_from_file: bool) -> None:
    local = local_state(app, secret_from_file)
    if local:
        app.logger.warning(
            "TASK_QUEUE is Redis, for several processes or hosts, but these settings keep "
            "state on this host: %s. See the README, 'Running in production and at scale'.",
            "; ".join(local),
        )


def _instance_secret(instance: Path) -> str:
    """Keep a generated secret key in instance/ so sessions survive restarts."""
    path = instance / "secret_key"
    if path.exists():
        return path.read_text().strip()
    private_folder(instance)
    key = secrets.token_urlsafe(48)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as handle:
        handle.write(key)
    return key
