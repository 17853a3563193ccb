"""The rows that report on a job asked for on the web (a dossier's render, a table's import):
where it stands, and the job whose worker died while it ran."""

import enum
from datetime import timedelta
from typing import Any

from sqlalchemy import update

from campaign.clock import utcnow
from campaign.extensions import db


class JobStatus(enum.Enum):
    """Where a job asked for on the web stands, for the rows that report on it (a dossier's
    render, a table's import)."""

    queued = "queued"
    running = "running"
    done = "done"
    failed = "failed"


def fail_if_silent(job: Any, limit: timedelta, **values: Any) -> bool:
    """Mark failed a queued or running job whose row has not changed for longer than limit
    (its worker died: a restart, the memory killer); the caller commits.

    Only if nothing was heard from it since it was read, so that a job finishing at this very
    moment keeps its result. `job` is a row with id, status, error and updated_at; values
    are more columns to set with the failure.
    """
    if job.status not in (JobStatus.queued, JobStatus.running):
        return False
    if utcnow() - job.updated_at <= limit:
        return False
    model = type(job)
    marked = db.session.execute(
        update(model)
        .where(
            model.id == job.id,
            model.status == job.status,
            model.updated_at == job.updated_at,
        )
        .values(status=JobStatus.failed, error="interrupted", **values)
        .execution_options(synchronize_session=False)
    )
    db.session.refresh(job)
    return marked.rowcount == 1


def mark_interrupted(model: Any, job_id: int, **values: Any) -> None:
    """Fail a job whose worker was stopped while it ran (or before it began): "interrupted";
    commits. `values` are more columns to set with the failure."""
    db.session.execute(
        update(model)
        .where(model.id == job_id, model.status.in_((JobStatus.queued, JobStatus.running)))
        .values(status=JobStatus.failed, error="interrupted", **values)
        .execution_options(synchronize_session=False)
    )
    db.session.commit()


def fail_running(model: Any, job_id: int, error: str, **values: Any) -> bool:
    """Mark failed, with the reason it failed, a job that is still running; the caller commits.

    A job already failed keeps the reason it was given first. When the worker is stopped
    (SIGTERM), its on_interrupt marks the job "interrupted" from the main thread; the job's own
    thread may fail afterwards, of the stop (its render workers killed, no thread to be had at
    interpreter shutdown), and must not say "unexpected" over it. `values` are more columns
    to set with the failure.
    """
    failed = db.session.execute(
        update(model)
        .where(model.id == job_id, model.status == JobStatus.running)
        .values(status=JobStatus.failed, error=error, **values)
        .execution_options(synchronize_session=False)
    )
    return failed.rowcount == 1
