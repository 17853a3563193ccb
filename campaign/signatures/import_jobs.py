"""A table's import asked for on the web, run on the task queue (the dossier jobs' shape):
queued, running (rows checked so far), done (rows stored) or failed (why, with the rows'
errors). Every row is checked again, and all are stored in one transaction or none; the
table is deleted once imported."""

import logging
from datetime import timedelta
from typing import Any

from flask_babel import force_locale
from flask_babel import gettext as _
from sqlalchemy import or_, select, update
from sqlalchemy.exc import IntegrityError

from campaign import job_rows, tasks
from campaign.accounts.models import User
from campaign.appeals.models import Appeal
from campaign.clock import utcnow
from campaign.database import savepoint
from campaign.extensions import db
from campaign.job_rows import JobStatus, fail_if_silent, fail_running
from campaign.signatures.import_checking import ImportReport
from campaign.signatures.import_columns import ImportRefused, count_rows
from campaign.signatures.import_job_model import ImportJob
from campaign.signatures.import_uploads import discard_upload, upload_path
from campaign.signatures.importing import import_table
from campaign.signatures.spreadsheets import UnreadableTable

log = logging.getLogger(__name__)

# With no news for this long, a job's worker is taken for dead (checking reports every
# _PROGRESS_EVERY rows; storing 100,000 rows, in one transaction, says nothing for a minute).
STALLED_AFTER = timedelta(minutes=15)
_PROGRESS_EVERY = 1000
# How long an ended import stays listed on the paper desk.
RECENT_IMPORTS = timedelta(days=7)


class ImportUnderWay(Exception):
    """This table is being imported, or was imported, already: `job` says how it stands."""

    def __init__(self, job: ImportJob) -> None:
        super().__init__(job.id)
        self.job = job


def live_import(appeal_id: int, upload: str) -> ImportJob | None:
    """Return the import of the table that is queued, running or done, if any."""
    return db.session.scalar(
        select(ImportJob).where(ImportJob.appeal_id == appeal_id, ImportJob.live_upload == upload)
    )


def request_import(
    appeal: Appeal,
    upload: str,
    mapping: dict[int, str],
    file_format: str,
    user: User,
    language: str,
) -> ImportJob:
    """Record an import asked for on the web; enqueue it after committing (enqueue_import).

    Raise ImportUnderWay if the table's import is queued, running or done already (a double
    click, a second tab; the database refuses a second one even at the same instant).
    """
    existing = live_import(appeal.id, upload)
    if existing is not None:
        raise ImportUnderWay(existing)
    job = ImportJob(
        appeal_id=appeal.id,
        upload=upload,
        live_upload=upload,
        mapping={str(index): name for index, name in sorted(mapping.items())},
        file_format=file_format,
        language=language,
        requested_by_id=user.id,
    )
    try:
        with savepoint():
            db.session.add(job)
            db.session.flush()
    except IntegrityError:
        existing = live_import(appeal.id, upload)
        if existing is None:
            raise
        raise ImportUnderWay(existing) from None
    return job


def recent_imports(appeal: Appeal) -> list[ImportJob]:
    """The appeal's imports under way or ended in the last RECENT_IMPORTS, newest first;
    stalled ones are marked failed (the caller commits)."""
    jobs = db.session.scalars(
        select(ImportJob)
        .where(
            ImportJob.appeal_id == appeal.id,
            or_(
                ImportJob.status.in_((JobStatus.queued, JobStatus.running)),
                ImportJob.updated_at > utcnow() - RECENT_IMPORTS,
            ),
        )
        .order_by(ImportJob.created_at.desc(), ImportJob.id.desc())
        .limit(5)
    ).all()
    for job in jobs:
        give_up_if_stalled(job)
    return list(jobs)


def enqueue_import(job: ImportJob) -> None:
    """Hand a committed import to the task queue."""
    tasks.enqueue("signatures.import", job.id)


def give_up_if_stalled(job: ImportJob) -> bool:
    """Mark failed an import with no news for longer than STALLED_AFTER (its worker died);
    the caller commits. Nothing was stored: the rows go in one transaction."""
    return fail_if_silent(job, STALLED_AFTER, live_upload=None)


def failure_message(code: str) -> str:
    """Say why an import failed, in the reader's language."""
    messages = {
        "rows": _("Some rows have errors, so nothing was imported."),
        "interrupted": _("The import was interrupted; nothing was imported. Please try again."),
        "missing": _("The table is no longer on the server. Upload it again."),
        "unpublished": _("Publish the appeal first: there is nothing to sign yet."),
        "columns": _("The table lacks a column for the surname or the given name."),
        "encoding": _("The file could not be read as text. Nothing was imported."),
        "format": _("The file is not a CSV or XLSX table."),
        "empty": _("The file holds no table."),
    }
    return messages.get(code, _("An unexpected error stopped the import; nothing was imported."))


def mark_interrupted(job_id: int) -> None:
    """Fail an import whose worker was stopped while it ran (or before it began)."""
    job_rows.mark_interrupted(ImportJob, job_id, live_upload=None)


@tasks.job("signatures.import", on_interrupt=mark_interrupted)
def run_import_job(job_id: int) -> None:
    """Check every row of the job's table again, then store them all or none."""
    started = db.session.execute(
        update(ImportJob)
        .where(ImportJob.id == job_id, ImportJob.status == JobStatus.queued)
        .values(status=JobStatus.running, updated_at=utcnow())
        .execution_options(synchronize_session=False)
    )
    db.session.commit()
    if started.rowcount != 1:
        return  # run already, or given up on
    job = db.session.get(ImportJob, job_id)
    try:
        with force_locale(job.language):
            report = _import(job)
    except (ImportRefused, UnreadableTable) as refused:
        _fail(job_id, refused.code)
        return
    except Exception as error:
        log.warning("import job %s failed: %s", job_id, type(error).__name__)
        _fail(job_id, "unexpected")
        raise
    if report.error_count:
        _fail(job_id, "rows", report)
        return
    # With the rows: "done" is seen with them, never without. Only if still running: a job
    # given up on meanwhile (no news for STALLED_AFTER, or its worker stopping) reads "nothing
    # was imported" on the desk, and its table may be imported again, so its rows go too.
    done = db.session.execute(
        update(ImportJob)
        .where(ImportJob.id == job_id, ImportJob.status == JobStatus.running)
        .values(status=JobStatus.done, stored=report.stored, rows_done=report.rows)
        .execution_options(synchronize_session=False)
    )
    if done.rowcount != 1:
        db.session.rollback()
        log.warning("import job %s was given up on before it finished; nothing stored", job_id)
        return
    db.session.commit()
    discard_upload(job.appeal_id, job.upload)


def _import(job: ImportJob) -> ImportReport:
    appeal = db.session.get(Appeal, job.appeal_id)
    path = upload_path(job.appeal_id, job.upload)
    if appeal is None or path is None:
        raise ImportRefused("missing")
    mapping = {int(index): name for index, name in job.mapping.items()}
    checked = {"rows": 0}

    def progress(rows: int) -> None:
        # Only while checking: nothing is written yet, so a commit here stores nothing early.
        checked["rows"] += rows
        if checked["rows"] % _PROGRESS_EVERY == 0:
            job.rows_done = checked["rows"]
            db.session.commit()

    with path.open("rb") as stream:
        if job.file_format == "csv":  # a quick pass; a workbook's would take as long as a check
            job.rows_total = count_rows(stream)
            db.session.commit()
        return import_table(
            appeal,
            stream,
            mapping,
            file_format=job.file_format,
            progress=progress,
            actor_id=job.requested_by_id,
            # Only a member asks for an import job: no requester left means she has deleted
            # her account since (the foreign key forgot her).
            actor_deleted=job.requested_by_id is None,
            via="web",
        )


def _fail(job_id: int, code: str, report: ImportReport | None = None) -> None:
    db.session.rollback()
    counts: dict[str, Any] = {}
    if report is not None:
        counts = {
            "rows_done": report.rows,
            "invalid_rows": report.invalid_rows,
            "error_count": report.error_count,
            "errors": [[e.line, e.field, e.message] for e in report.errors],
        }
    fail_running(ImportJob, job_id, code, live_upload=None, **counts)
    db.session.commit()
