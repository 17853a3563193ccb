"""`flask tasks worker` as systemd stops it (SIGTERM to its process group) and as the memory
killer does (SIGKILL): it stops within its grace period, the job it ran is failed with a
reason, and no dossier file is left half-written. Likewise a web process whose own consumer
(TASK_WORKERS > 0) is rendering as it exits."""

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from sqlalchemy import func, select

from campaign.dossiers.models import DossierJob, DossierSnapshot, Edition, JobStatus
from campaign.dossiers.operations import enqueue_job, jobs_to_show, request_dossier
from campaign.extensions import db
from campaign.mail_queue import MailStatus, OutgoingMail, queue_mail
from tests.conftest import TEST_DATA_KEY
from tests.workers import (
    GRACE_SECONDS,
    Workers,
    real_queue,
    silent_mail_server,
    stop_group,
)

SIGNATURES = 40


@pytest.fixture
def queue_file(tmp_path: Path) -> Path:
    return tmp_path / "queue" / "tasks.sqlite"


@pytest.fixture
def dossier_folder(tmp_path: Path) -> Path:
    return tmp_path / "dossiers"


@pytest.fixture
def app_config(queue_file, dossier_folder):
    return {**real_queue(queue_file), "DOSSIER_FOLDER": str(dossier_folder), "DOSSIER_PROCESSES": 2}


@pytest.fixture
def worker(database_url, queue_file, dossier_folder, tmp_path):
    """Start `flask tasks worker` in its own process group, as systemd does; kill it after."""
    workers = Workers(database_url, queue_file, dossier_folder, tmp_path)
    yield workers.start
    workers.kill_all()


@pytest.fixture
def appeal(make_published_appeal, make_signature):
    appeal = make_published_appeal()
    for _ in range(SIGNATURES):
        make_signature(appeal)
    db.session.commit()
    return appeal


def queue_render(appeal) -> int:
    job = request_dossier(
        appeal, Edition.submission, appeal.memberships[0].user, landscape=False, sign=False
    )
    db.session.commit()
    enqueue_job(job)
    return job.id


def wait_for(job_id: int, statuses: set[JobStatus], seconds: float = 300) -> DossierJob:
    deadline = time.monotonic() + seconds
    while True:
        db.session.expire_all()
        job = db.session.get(DossierJob, job_id)
        if job.status in statuses or time.monotonic() > deadline:
            return job
        time.sleep(0.1)


def wait_for_mail(mail_id: int, done, seconds: float = GRACE_SECONDS) -> OutgoingMail | None:
    """The stored message once done(message) holds (None: sent and deleted), or at the end."""
    deadline = time.monotonic() + seconds
    while True:
        db.session.expire_all()
        message = db.session.get(OutgoingMail, mail_id)
        if done(message) or time.monotonic() > deadline:
            return message
        time.sleep(0.1)


def files_under(folder: Path) -> list[str]:
    return sorted(str(path.relative_to(folder)) for path in folder.rglob("*") if path.is_file())


def dossier_files(folder: Path, appeal) -> list[str]:
    return [name for name in files_under(folder) if name.startswith(f"{appeal.id}/")]


def test_sigterm_to_the_group_after_a_render_stops_the_worker(appeal, worker, dossier_folder):
    process = worker()
    job = wait_for(queue_render(appeal), {JobStatus.done, JobStatus.failed})
    assert job.status is JobStatus.done, job.error
    # The render workers (and the fork server) are idle now, as after any render.
    assert stop_group(process, signal.SIGTERM) is not None, "the worker hung after SIGTERM"


def test_sigterm_mid_render_fails_the_job_with_a_reason_and_leaves_no_partial_file(
    appeal, worker, dossier_folder
):
    process = worker()
    job_id = queue_render(appeal)
    job = wait_for(job_id, {JobStatus.running, JobStatus.done, JobStatus.failed})
    assert job.status is JobStatus.running
    assert stop_group(process, signal.SIGTERM) is not None, "the worker hung after SIGTERM"
    job = wait_for(job_id, {JobStatus.done, JobStatus.failed}, seconds=0)
    # Either it finished in its grace period, or it says why it did not.
    if job.status is JobStatus.failed:
        assert job.error == "interrupted"
        assert db.session.scalar(select(func.count()).select_from(DossierSnapshot)) == 0
        assert not dossier_files(dossier_folder, appeal)
    else:
        assert job.status is JobStatus.done
    assert not [name for name in files_under(dossier_folder) if ".tmp-" in name]


def test_a_worker_killed_mid_render_leaves_no_partial_file_and_its_job_is_marked(
    app, appeal, worker, dossier_folder
):
    process = worker()
    job_id = queue_render(appeal)
    job = wait_for(job_id, {JobStatus.running, JobStatus.done, JobStatus.failed})
    assert job.status is JobStatus.running
    assert stop_group(process, signal.SIGKILL) is not None
    # No snapshot recorded and no dossier file: what was written, was written whole.
    assert db.session.scalar(select(func.count()).select_from(DossierSnapshot)) == 0
    assert not dossier_files(dossier_folder, appeal)

    # Nothing hears from it again: once its time is up, the organiser's page says so.
    job = db.session.get(DossierJob, job_id)
    assert job.status is JobStatus.running
    stale = time.time() - app.config["DOSSIER_TIME_LIMIT"] - 120
    db.session.execute(
        DossierJob.__table__.update()
        .where(DossierJob.id == job_id)
        .values(updated_at=job.updated_at.fromtimestamp(stale, job.updated_at.tzinfo))
    )
    db.session.commit()
    db.session.expire_all()
    [shown] = jobs_to_show(appeal)
    db.session.commit()
    assert shown.status is JobStatus.failed and shown.error == "interrupted"

    # Another worker starts, and renders what is asked next, with no leftover in its way.
    second = worker()
    job = wait_for(queue_render(appeal), {JobStatus.done, JobStatus.failed})
    assert job.status is JobStatus.done, job.error
    assert not [name for name in files_under(dossier_folder) if ".tmp-" in name]
    assert stop_group(second, signal.SIGTERM) is not None


EXIT_MID_RENDER = """
import sys, time
from campaign import create_app

app = create_app()
from campaign.dossiers.models import DossierJob, JobStatus
from campaign.dossiers.operations import enqueue_job
from campaign.extensions import db

with app.app_context():
    job_id = int(sys.argv[1])
    enqueue_job(db.session.get(DossierJob, job_id))
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        db.session.expire_all()
        if db.session.get(DossierJob, job_id).status is not JobStatus.queued:
            break
        time.sleep(0.02)
    db.session.remove()
print("leaving mid-render", flush=True)
"""


def test_a_process_leaving_mid_render_fails_its_in_process_consumers_job_with_a_reason(
    appeal, database_url, queue_file, dossier_folder
):
    # The web process's own consumer (`make run`, TASK_WORKERS > 0) as its process exits: the
    # render workers are stopped, and Python starts no thread once it is exiting.
    job = request_dossier(
        appeal, Edition.submission, appeal.memberships[0].user, landscape=False, sign=False
    )
    db.session.commit()
    env = {
        **os.environ,
        "CAMPAIGN_SECRET_KEY": "test-secret",
        "CAMPAIGN_DATA_KEYS": TEST_DATA_KEY,
        "CAMPAIGN_SQLALCHEMY_DATABASE_URI": database_url,
        "CAMPAIGN_TASK_QUEUE": f"sqlite:///{queue_file}",
        "CAMPAIGN_TASK_WORKERS": "1",
        "CAMPAIGN_DOSSIER_FOLDER": str(dossier_folder),
        "CAMPAIGN_DOSSIER_PROCESSES": "2",
        "CAMPAIGN_PUBLIC_URL": "http://campaign.test",
    }
    finished = subprocess.run(
        [sys.executable, "-c", EXIT_MID_RENDER, str(job.id)],
        env=env,
        capture_output=True,
        timeout=GRACE_SECONDS,
    )
    assert finished.returncode == 0, finished.stderr.decode()
    assert b"leaving mid-render" in finished.stdout
    job = wait_for(job.id, {JobStatus.done, JobStatus.failed}, seconds=0)
    # Interrupted, as a stopped worker's job is (it was "unexpected": no thread starts once
    # Python is exiting); or, should the render have been quicker than the exit, done.
    if job.status is JobStatus.failed:
        assert job.error == "interrupted", finished.stderr[-2000:]
        assert db.session.scalar(select(func.count()).select_from(DossierSnapshot)) == 0
        assert not dossier_files(dossier_folder, appeal)
    else:
        assert job.status is JobStatus.done
    assert not [name for name in files_under(dossier_folder) if ".tmp-" in name]


def test_sigterm_mid_send_gives_the_claim_back_and_the_mail_goes_after_the_restart(
    app, worker, tmp_path
):
    with silent_mail_server() as hanging:
        mail_id = queue_mail("stopped@example.org", "Subject", "Body", purpose="tests.stop")
        process = worker(**hanging)
        sending = wait_for_mail(mail_id, lambda m: m is None or m.claimed_until is not None)
        assert sending is not None and sending.claimed_until is not None
        assert stop_group(process, signal.SIGTERM) is not None, "the worker hung after SIGTERM"
    stopped = wait_for_mail(mail_id, lambda m: True)
    assert stopped.status is MailStatus.queued and stopped.attempts == 0
    assert stopped.claimed_until is None  # given back, and its job queued 10 s on

    outbox = tmp_path / "outbox"
    second = worker(CAMPAIGN_MAIL_OUTBOX=str(outbox))
    assert wait_for_mail(mail_id, lambda m: m is None) is None, "the mail was not sent"
    [sent] = list(outbox.iterdir())
    assert "To: stopped@example.org" in sent.read_text()
    assert stop_group(second, signal.SIGTERM) is not None
