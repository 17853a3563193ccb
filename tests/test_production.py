"""Production serving across processes: gunicorn app processes and `flask tasks worker`
processes that share nothing but the database, Redis and the dossier storage.

Slow (real processes); the concurrency is modest, for a loaded machine. Skipped, with the
reason, when Redis or PostgreSQL does not answer.
"""

import http.cookiejar
import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from sqlalchemy import func, select

from campaign import ROOT
from campaign.dossiers.models import DossierJob, Edition, JobStatus
from campaign.dossiers.operations import enqueue_job, request_dossier
from campaign.extensions import db
from campaign.mail_queue import OutgoingMail
from campaign.signatures.models import Signature
from tests.conftest import TEST_DATA_KEY
from tests.mailbox import mails
from tests.signatures.test_concurrency import NoRedirect, post_signature, started_stamp

REDIS_URL = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/15")
SIGNERS = 1000
CLIENT_THREADS = 32


def redis_answers() -> bool:
    import redis

    try:
        return bool(redis.Redis.from_url(REDIS_URL, socket_timeout=2).ping())
    except redis.RedisError:
        return False


needs_redis = pytest.mark.skipif(
    not redis_answers(), reason=f"Redis does not answer at {REDIS_URL} (set TEST_REDIS_URL)"
)


@pytest.fixture
def needs_postgresql(database):
    if database["kind"] != "postgresql":
        pytest.skip(
            "runs on PostgreSQL: set TEST_DATABASE_URL=postgresql+psycopg://... (make test does "
            "when a server answers)"
        )


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture
def shared(tmp_path, database_url):
    """What every process is given: the database, the storage, the secrets."""
    return {
        "FLASK_APP": "campaign",
        "CAMPAIGN_SECRET_KEY": "one-secret-for-every-host",
        "CAMPAIGN_DATA_KEYS": TEST_DATA_KEY,
        "CAMPAIGN_SQLALCHEMY_DATABASE_URI": database_url,
        "CAMPAIGN_DOSSIER_FOLDER": str(tmp_path / "shared" / "dossiers"),
        "CAMPAIGN_MAIL_OUTBOX": str(tmp_path / "shared" / "outbox"),
        "CAMPAIGN_PUBLIC_URL": "http://campaign.test",
        "CAMPAIGN_SIGN_MIN_SECONDS": "0",
        "CAMPAIGN_SIGN_LIMIT_PER_IP": "100000 per hour",
        "CAMPAIGN_DOSSIER_PROCESSES": "1",
    }


@pytest.fixture
def processes(tmp_path):
    """Start processes in their own group; stop them (SIGTERM, then SIGKILL) afterwards."""
    started: list[subprocess.Popen[bytes]] = []

    def start(args: list[str], env: dict[str, str], name: str) -> subprocess.Popen[bytes]:
        with (tmp_path / f"{name}.log").open("wb") as log:
            process = subprocess.Popen(
                args,
                env={**os.environ, **env},
                cwd=ROOT,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        started.append(process)
        return process

    yield start
    for process in started:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGTERM)
    for process in started:
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()


def serve(start, env: dict[str, str], workers: int, name: str) -> str:
    """Run gunicorn with deploy/gunicorn.conf.py; return its base URL once it answers."""
    port = free_port()
    process = start(
        [str(Path(sys.executable).parent / "gunicorn"), "-c", "deploy/gunicorn.conf.py"],
        {**env, "WEB_BIND": f"127.0.0.1:{port}", "WEB_WORKERS": str(workers)},
        name,
    )
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 180
    while time.monotonic() < deadline:
        assert process.poll() is None, f"gunicorn {name} exited"
        try:
            with urllib.request.urlopen(f"{base}/verify/", timeout=10):
                return base
        except (OSError, urllib.error.URLError):
            time.sleep(0.5)
    raise AssertionError(f"gunicorn {name} did not answer")


def stored() -> int:
    db.session.expire_all()
    return db.session.scalar(select(func.count()).select_from(Signature))


@pytest.fixture
def app_config():
    return {"SERVER_NAME": None}


def test_concurrent_signs_across_two_gunicorn_workers_store_exactly_the_acknowledged(
    make_published_appeal, shared, processes, tmp_path
):
    appeal = make_published_appeal()
    slug = appeal.slug
    env = {
        **shared,
        "CAMPAIGN_WTF_CSRF_ENABLED": "false",  # every POST a new signer from one client
        # Mail is stored and queued; no consumer here (the mail is not this test's subject).
        "CAMPAIGN_TASK_QUEUE": f"sqlite:///{tmp_path / 'tasks.sqlite'}",
        "CAMPAIGN_TASK_WORKERS": "0",
    }
    base = serve(processes, env, workers=2, name="web")
    started = started_stamp(base, slug)

    def sign(n: int) -> int:
        return post_signature(base, slug, started, n, f"crowd{n}@example.org")

    with ThreadPoolExecutor(max_workers=CLIENT_THREADS) as pool:
        statuses = list(pool.map(sign, range(SIGNERS)))
    acknowledged = statuses.count(302)
    # A refusal under load is allowed (503 "busy, try again"), a loss is not.
    assert set(statuses) <= {302, 503}, sorted(set(statuses))
    assert acknowledged >= SIGNERS // 2
    assert stored() == acknowledged
    # And each acknowledged signer's mail waits in the queue: none lost either.
    assert db.session.scalar(select(func.count()).select_from(OutgoingMail)) == acknowledged


@needs_redis
def test_two_app_processes_and_two_workers_share_only_the_database_redis_and_storage(
    needs_postgresql, make_published_appeal, shared, processes, tmp_path
):
    appeal = make_published_appeal()
    slug = appeal.slug
    queue = f"campaign-test-{os.getpid()}-{time.monotonic_ns()}"
    env = {
        **shared,
        "CAMPAIGN_TASK_QUEUE": REDIS_URL,
        "CAMPAIGN_TASK_QUEUE_NAME": queue,
        "CAMPAIGN_RATELIMIT_STORAGE_URI": REDIS_URL,
    }
    first = serve(processes, env, workers=1, name="web-1")
    second = serve(processes, env, workers=1, name="web-2")
    for n in (1, 2):
        processes([sys.executable, "-m", "flask", "tasks", "worker"], env, f"worker-{n}")

    # A visitor gets the page (and her session) from one host and signs on the other, with
    # CSRF on: the session and its token hold across hosts.
    cookies = http.cookiejar.CookieJar()
    browser = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(cookies), NoRedirect)
    with browser.open(f"{first}/a/{slug}", timeout=60) as response:
        assert response.status == 200
    # The page is the same for every visitor: its script asks for her token and stamp.
    with browser.open(f"{first}/a/{slug}/form", timeout=60) as response:
        values = json.loads(response.read())
    form = {
        "csrf_token": values["csrf_token"],
        "started": values["started"],
        "surname": "Налоева",
        "given_name": "Мадина",
        "region": "RU-CE",
        "relationship": "mother",
        "typed_signature": "Мадина Налоева",
        "display": "initials",
        "consent": "y",
        "email": "madina@example.org",
    }
    request = urllib.request.Request(
        f"{second}/a/{slug}", data=urllib.parse.urlencode(form).encode(), method="POST"
    )
    try:
        status = browser.open(request, timeout=60).status
    except urllib.error.HTTPError as error:
        status = error.code
    assert status == 302
    assert stored() == 1

    # Her mail went through Redis to one of the workers, which wrote it.
    outbox = Path(shared["CAMPAIGN_MAIL_OUTBOX"])
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and not (outbox.is_dir() and mails(outbox)):
        time.sleep(0.5)
    [message] = mails(outbox)
    assert message["To"] == "madina@example.org"
    db.session.expire_all()
    assert db.session.scalar(select(func.count()).select_from(OutgoingMail)) == 0

    # A dossier asked for here is rendered by a worker, onto the shared storage, and its
    # verification page answers on either host.
    job = request_dossier(
        appeal, Edition.public, appeal.memberships[0].user, landscape=False, sign=False
    )
    db.session.commit()
    _enqueue_on({"TASK_QUEUE": REDIS_URL, "TASK_QUEUE_NAME": queue}, job.id)
    deadline = time.monotonic() + 300
    while time.monotonic() < deadline:
        db.session.expire_all()
        job = db.session.get(DossierJob, job.id)
        if job.status in (JobStatus.done, JobStatus.failed):
            break
        time.sleep(0.5)
    assert job.status is JobStatus.done, job.error
    snapshot_file = Path(shared["CAMPAIGN_DOSSIER_FOLDER"]) / f"{appeal.id}"
    assert [path.suffix for path in snapshot_file.iterdir()] == [".pdf"]
    for base in (first, second):
        with urllib.request.urlopen(f"{base}/verify/{job.snapshot_id}", timeout=60) as page:
            assert page.status == 200


def _enqueue_on(config: dict[str, str], job_id: int) -> None:
    """Queue the render through an app configured like the hosts (Redis), not the test's."""
    from campaign import create_app

    app = create_app(
        {
            "SQLALCHEMY_DATABASE_URI": db.engine.url.render_as_string(hide_password=False),
            "SECRET_KEY": "one-secret-for-every-host",
            "DATA_KEYS": TEST_DATA_KEY,
            **config,
        }
    )
    with app.app_context():
        enqueue_job(db.session.get(DossierJob, job_id))
        db.session.remove()
        db.engine.dispose()
