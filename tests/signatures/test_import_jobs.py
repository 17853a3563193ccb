"""Imports run as jobs: refused twice, failed with a reason, given up when their worker died."""

import io
from datetime import timedelta

import pytest
from flask_babel import force_locale
from sqlalchemy import func, select, update
from sqlalchemy.exc import IntegrityError

from campaign.accounts.deletion import delete_account
from campaign.accounts.models import Membership, Role
from campaign.audit.models import AuditEvent
from campaign.clock import utcnow
from campaign.extensions import db
from campaign.job_rows import JobStatus
from campaign.signatures.import_job_model import ImportJob
from campaign.signatures.import_jobs import (
    STALLED_AFTER,
    ImportUnderWay,
    failure_message,
    give_up_if_stalled,
    mark_interrupted,
    request_import,
    run_import_job,
)
from campaign.signatures.import_uploads import discard_upload, keep_upload, upload_path
from campaign.signatures.models import Signature
from tests.audit_log import logged
from tests.conftest import PASSWORD

TABLE = (
    "surname,given_name,region,relationship\n"
    "Налоева,Мадина,RU-CE,mother\nAliyeva,Aisha,RU-DA,mother\n"
).encode()
MAPPING = {0: "surname", 1: "given_name", 2: "region", 3: "relationship"}


@pytest.fixture
def app_config(tmp_path):
    return {"SIGN_MIN_SECONDS": 0, "PAPER_FOLDER": str(tmp_path / "paper")}


@pytest.fixture
def queued(open_appeal):
    """An import recorded but not run yet (enqueue is the view's)."""
    token = keep_upload(open_appeal.id, io.BytesIO(TABLE))
    user = open_appeal.memberships[0].user
    job = request_import(open_appeal, token, MAPPING, "csv", user, language="en")
    db.session.commit()
    return job


def test_a_second_import_of_the_same_table_is_refused(open_appeal, queued):
    user = open_appeal.memberships[0].user
    with pytest.raises(ImportUnderWay) as refused:
        request_import(open_appeal, queued.upload, MAPPING, "csv", user, language="en")
    assert refused.value.job.id == queued.id
    run_import_job(queued.id)
    run_import_job(queued.id)  # delivered twice: runs once
    assert db.session.scalar(select(func.count(Signature.id))) == 2
    assert (queued.status, queued.stored) == (JobStatus.done, 2)
    assert upload_path(open_appeal.id, queued.upload) is None


def test_an_import_asked_for_by_a_since_deleted_account_is_logged_as_hers(
    open_appeal, queued, make_user
):
    # She asked, then deleted her account while the job waited: the log says "a deleted
    # account", as for what she did herself, not "no member".
    requester = open_appeal.memberships[0].user
    db.session.add(Membership(appeal_id=open_appeal.id, user=make_user(), role=Role.owner))
    db.session.commit()
    delete_account(requester, PASSWORD)
    run_import_job(queued.id)
    db.session.refresh(queued)
    assert (queued.status, queued.stored, queued.requested_by_id) == (JobStatus.done, 2, None)
    event = db.session.scalars(
        select(AuditEvent).where(AuditEvent.action == "signatures.imported")
    ).one()
    assert (event.actor_id, event.actor_deleted, event.via) == (None, True, "web")


def test_an_import_is_logged_as_its_requesters(open_appeal, queued):
    run_import_job(queued.id)
    event = db.session.scalars(
        select(AuditEvent).where(AuditEvent.action == "signatures.imported")
    ).one()
    assert (event.actor_id, event.actor_deleted) == (queued.requested_by_id, False)
    assert event.actor_id == open_appeal.memberships[0].user_id


def test_the_database_refuses_two_live_imports_of_one_table(open_appeal, queued):
    db.session.add(ImportJob(appeal_id=open_appeal.id, upload=queued.upload,
                             live_upload=queued.upload, mapping={}, file_format="csv",
                             language="en"))  # fmt: skip
    with pytest.raises(IntegrityError):
        db.session.flush()
    db.session.rollback()


def test_a_table_gone_fails_the_job_with_a_reason(open_appeal, queued):
    discard_upload(open_appeal.id, queued.upload)
    run_import_job(queued.id)
    db.session.refresh(queued)
    assert (queued.status, queued.error, queued.live_upload) == (JobStatus.failed, "missing", None)
    with force_locale("en"):
        assert "Upload it again" in failure_message(queued.error)


def test_an_import_in_russian_lists_its_errors_in_russian(open_appeal):
    table = "surname,given_name,region,relationship\nНалоева,Мадина,Атлантида,мать\n".encode()
    token = keep_upload(open_appeal.id, io.BytesIO(table))
    user = open_appeal.memberships[0].user
    job = request_import(open_appeal, token, MAPPING, "csv", user, language="ru")
    db.session.commit()
    run_import_job(job.id)
    db.session.refresh(job)
    assert (job.status, job.error, job.invalid_rows) == (JobStatus.failed, "rows", 1)
    assert job.errors == [[2, "region", "Неизвестный регион."]]
    assert upload_path(open_appeal.id, token) is not None  # kept for another try


def test_an_interrupted_or_stalled_import_is_failed(open_appeal, queued):
    assert not give_up_if_stalled(queued)
    queued.updated_at = queued.updated_at - STALLED_AFTER - timedelta(seconds=1)
    db.session.commit()
    assert give_up_if_stalled(queued)
    assert (queued.status, queued.error, queued.live_upload) == (
        JobStatus.failed, "interrupted", None
    )  # fmt: skip
    user = open_appeal.memberships[0].user
    again = request_import(open_appeal, queued.upload, MAPPING, "csv", user, language="en")
    db.session.commit()
    mark_interrupted(again.id)
    db.session.refresh(again)
    assert (again.status, again.error) == (JobStatus.failed, "interrupted")
    assert db.session.scalar(select(func.count(Signature.id))) == 0


def test_an_import_failing_of_its_workers_stop_stays_interrupted(queued, monkeypatch):
    from campaign.signatures import import_jobs

    def stopped_meanwhile(_job):
        # SIGTERM: the worker's main thread marks the job (on_interrupt), then the import's
        # thread fails of the stop.
        mark_interrupted(queued.id)
        raise RuntimeError("can't create new thread at interpreter shutdown")

    monkeypatch.setattr(import_jobs, "_import", stopped_meanwhile)
    with pytest.raises(RuntimeError):
        run_import_job(queued.id)
    db.session.refresh(queued)
    assert (queued.status, queued.error, queued.live_upload) == (
        JobStatus.failed, "interrupted", None
    )  # fmt: skip
    assert db.session.scalar(select(func.count(Signature.id))) == 0


@pytest.mark.parametrize("given_up_by", ["the desk", "the worker's stop"])
def test_an_import_given_up_on_while_it_ran_stores_nothing(
    open_appeal, queued, monkeypatch, given_up_by
):
    # Checking a large table took long (or its worker was told to stop): the desk marked the
    # job failed, "nothing was imported", and freed the table for another try. The run that
    # then finishes must not store its rows beside the next try's.
    from campaign.signatures import import_jobs

    real_import_table = import_jobs.import_table

    def slow_import_table(appeal, stream, mapping, **kwargs):
        if given_up_by == "the desk":
            db.session.execute(
                update(ImportJob)
                .where(ImportJob.id == queued.id)
                .values(updated_at=utcnow() - STALLED_AFTER - timedelta(seconds=1))
            )
            assert give_up_if_stalled(db.session.get(ImportJob, queued.id))
            db.session.commit()
        else:
            mark_interrupted(queued.id)
        return real_import_table(appeal, stream, mapping, **kwargs)

    monkeypatch.setattr(import_jobs, "import_table", slow_import_table)
    run_import_job(queued.id)
    db.session.expire_all()
    job = db.session.get(ImportJob, queued.id)
    assert (job.status, job.error, job.stored, job.live_upload) == (
        JobStatus.failed, "interrupted", 0, None
    )  # fmt: skip
    assert db.session.scalar(select(func.count(Signature.id))) == 0
    assert upload_path(open_appeal.id, queued.upload) is not None  # kept for another try
    assert not db.session.scalars(logged()).all()
