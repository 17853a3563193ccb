"""A render job that fails is failed once, with the reason it was given first."""

import pytest

from campaign.dossiers import operations
from campaign.dossiers.models import DossierJob, Edition, JobStatus
from campaign.dossiers.operations import mark_interrupted, request_dossier, run_dossier_job
from campaign.extensions import db
from campaign.pdf_workers import RenderError, WorkersStopped


@pytest.fixture
def job(open_appeal) -> DossierJob:
    owner = open_appeal.memberships[0].user
    job = request_dossier(open_appeal, Edition.public, owner, landscape=False, sign=False)
    db.session.commit()
    return job


def test_a_render_failing_of_its_workers_stop_stays_interrupted(job, monkeypatch):
    def stopped_meanwhile(*_args, **_options):
        # SIGTERM: the worker's main thread marks the job (on_interrupt), then the render's
        # thread fails of the stop, as at interpreter shutdown.
        mark_interrupted(job.id)
        raise RuntimeError("can't create new thread at interpreter shutdown")

    monkeypatch.setattr(operations, "make_snapshot", stopped_meanwhile)
    run_dossier_job(job.id)
    db.session.expire_all()
    assert (job.status, job.error) == (JobStatus.failed, "interrupted")


@pytest.mark.parametrize(
    ("error", "code"),
    [
        (RenderError("part 3: no room"), "layout"),
        (WorkersStopped("a render worker stopped"), "interrupted"),  # the memory killer, exit
        (KeyError("x"), "unexpected"),
    ],
)
def test_a_render_that_fails_by_itself_says_why(job, monkeypatch, error, code):
    def failing(*_args, **_options):
        raise error

    monkeypatch.setattr(operations, "make_snapshot", failing)
    run_dossier_job(job.id)
    db.session.expire_all()
    assert (job.status, job.error, job.snapshot_id) == (JobStatus.failed, code, None)
