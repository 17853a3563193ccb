"""Make dossier snapshots, run the render jobs asked for on the web, and verify copies."""

import hashlib
import logging
import re
import secrets
import shutil
from collections.abc import Callable
from datetime import datetime, timedelta
from pathlib import Path
from typing import IO

from flask import current_app
from flask_babel import force_locale
from flask_babel import gettext as _
from sqlalchemy import or_, select

from campaign import job_rows, tasks
from campaign.accounts.models import User
from campaign.appeals.models import Appeal, AppealVersion
from campaign.clock import utcnow
from campaign.dossiers.block_cache import cache_folder, write_atomically
from campaign.dossiers.content import collect_content
from campaign.dossiers.models import DossierJob, DossierSnapshot, Edition, JobStatus
from campaign.dossiers.page_jobs import Snapshot
from campaign.dossiers.rendering import prepare_render, render_dossier
from campaign.dossiers.signature_images import DrawingGone
from campaign.dossiers.signing import SigningUnavailable, sign_pdf, signing_settings
from campaign.extensions import db
from campaign.job_rows import fail_if_silent, fail_running
from campaign.pdf_workers import RenderError, RenderTimeout, WorkersStopped
from campaign.private_files import private_folder
from campaign.signatures.signer_links import withdrawal_count
from campaign.urls import public_url_for

log = logging.getLogger(__name__)

_HEX64 = re.compile(r"[0-9a-f]{64}")
_SNAPSHOT_ID = re.compile(r"[0-9a-f]{20}")


# Renders tried before giving up on an appeal whose signers keep withdrawing meanwhile.
RENDER_ATTEMPTS = 3


class NothingToRender(Exception):
    """The appeal has no published letter yet."""


class SignersWithdrew(Exception):
    """Signers withdrew during every attempt at rendering the dossier."""


def forget_cached_blocks(_sender: object, *, appeal_id: int, **_extra: object) -> None:
    """Delete the cached table and annex blocks of an appeal (they hold signers' data).

    Connected to signature_withdrawn: a withdrawn signer's name and address must not outlive
    her withdrawal in a cache. Snapshots handed in are records of what was submitted and stay
    (the files of the others that hold her: submissions.retention). The next render lays every
    block out afresh.
    """
    shutil.rmtree(cache_folder(appeal_id), ignore_errors=True)


def new_snapshot_id() -> str:
    """Return a fresh, unguessable snapshot id (20 hex digits)."""
    return secrets.token_hex(10)


def verification_url(snapshot_id: str) -> str:
    """Return the public address that checks a copy of this snapshot (printed in the PDF).

    Built from PUBLIC_URL, not from the request: the task queue renders without one.
    """
    return public_url_for("verify.snapshot", snapshot_id=snapshot_id)


def snapshot_path(snapshot: DossierSnapshot) -> Path:
    """Return where a snapshot's file is kept."""
    return Path(current_app.config["DOSSIER_FOLDER"]) / snapshot.filename


def make_snapshot(
    appeal: Appeal,
    edition: Edition,
    *,
    user: User | None,
    landscape: bool = False,
    sign: bool = False,
    progress: Callable[[int], None] | None = None,
    made_at: datetime | None = None,
) -> DossierSnapshot:
    """Render a dossier, write its file atomically and record the snapshot (flushed, not committed).

    The caller commits; if that fails it calls discard_file, so no file is left without its
    snapshot and no snapshot without its file. `made_at`: when it is dated, if not now (the
    demo hands in a dossier made days ago, of the signatures made before then).
    """
    if appeal.latest_version is None:
        raise NothingToRender
    with force_locale(appeal.language):  # a dossier speaks its appeal's language
        return _make_snapshot(appeal, edition, user, landscape, sign, progress, made_at)


def _make_snapshot(
    appeal: Appeal,
    edition: Edition,
    user: User | None,
    landscape: bool,
    sign: bool,
    progress: Callable[[int], None] | None,
    dated: datetime | None,
) -> DossierSnapshot:
    signing = signing_settings(current_app.config) if sign else None
    prepare_render()
    for _attempt in range(RENDER_ATTEMPTS):
        snapshot_id = new_snapshot_id()
        made_at = dated or utcnow()
        withdrawals = withdrawal_count(appeal.id)
        content = collect_content(appeal, edition)
        try:
            rendered = render_dossier(
                content,
                Snapshot(
                    id=snapshot_id,
                    made_at=made_at,
                    verify_url=verification_url(snapshot_id),
                    author=_("The organisers of “%(title)s”", title=content.title),
                ),
                landscape=landscape,
                progress=progress,
            )
        except DrawingGone:
            continue  # she withdrew between her row and her drawing: read them again
        if withdrawal_count(appeal.id) == withdrawals:
            break
        rendered.file.close()
        # Someone withdrew after her row was read: neither this dossier nor the blocks it
        # cached (some after her withdrawal emptied the cache) may keep her data.
        forget_cached_blocks(None, appeal_id=appeal.id)
    else:
        raise SignersWithdrew
    with rendered.file as merged:
        pdf: bytes | IO[bytes] = merged
        if signing is not None:
            pdf = sign_pdf(
                merged.read(),
                pkcs12_path=signing.path,
                passphrase=signing.passphrase,
                reason=_(
                    "Dossier %(id)s of the appeal “%(title)s”", id=snapshot_id, title=content.title
                ),
            )
            file_sha256, file_size = hashlib.sha256(pdf).hexdigest(), len(pdf)
        else:
            # Hashed and stored from the file, never all in memory.
            file_sha256, file_size = sha256_of_stream(merged), merged.tell()
            merged.seek(0)
        snapshot = _store_snapshot(
            DossierSnapshot(
                id=snapshot_id,
                appeal_id=appeal.id,
                edition=edition,
                versions=rendered.versions,
                created_at=made_at,
                created_by_id=user.id if user else None,
                signature_count=rendered.signature_count,
                list_fingerprint=rendered.list_fingerprint,
                file_sha256=file_sha256,
                file_size=file_size,
                pages=rendered.pages,
                signed=signing is not None,
                filename=f"{appeal.id}/{snapshot_id}.pdf",
            ),
            pdf,
        )
    return snapshot


def _store_snapshot(snapshot: DossierSnapshot, pdf: bytes | IO[bytes]) -> DossierSnapshot:
    path = snapshot_path(snapshot)
    private_folder(path.parent)
    write_atomically(path, pdf)
    try:
        db.session.add(snapshot)
        db.session.flush()
    except Exception:
        path.unlink(missing_ok=True)
        raise
    return snapshot


def discard_file(snapshot: DossierSnapshot) -> None:
    """Remove the file of a snapshot that was not recorded after all."""
    snapshot_path(snapshot).unlink(missing_ok=True)


def appeal_snapshots(appeal: Appeal) -> list[DossierSnapshot]:
    """Return an appeal's snapshots, newest first."""
    query = (
        select(DossierSnapshot)
        .where(DossierSnapshot.appeal_id == appeal.id)
        .order_by(DossierSnapshot.created_at.desc())
    )
    return list(db.session.scalars(query))


def request_dossier(
    appeal: Appeal, edition: Edition, user: User, *, landscape: bool, sign: bool
) -> DossierJob:
    """Record a render asked for on the web; enqueue it after committing (enqueue_job)."""
    job = DossierJob(
        appeal_id=appeal.id,
        edition=edition,
        landscape=landscape,
        sign=sign,
        requested_by_id=user.id,
    )
    db.session.add(job)
    db.session.flush()
    return job


# How long a failed render stays on the dossiers page, for whoever left its progress page.
FAILED_JOBS_SHOWN_FOR = timedelta(days=7)


def jobs_to_show(appeal: Appeal) -> list[DossierJob]:
    """Renders of the appeal under way, and those that failed lately, newest first.

    A job whose worker died is marked failed here too (see give_up_if_stalled); the caller
    commits.
    """
    jobs = db.session.scalars(
        select(DossierJob)
        .where(
            DossierJob.appeal_id == appeal.id,
            or_(
                DossierJob.status.in_((JobStatus.queued, JobStatus.running)),
                (DossierJob.status == JobStatus.failed)
                & (DossierJob.updated_at > utcnow() - FAILED_JOBS_SHOWN_FOR),
            ),
        )
        .order_by(DossierJob.created_at.desc(), DossierJob.id.desc())
        .limit(10)
    ).all()
    for job in jobs:
        give_up_if_stalled(job)
    return list(jobs)


def enqueue_job(job: DossierJob) -> None:
    """Hand a committed job to the task queue."""
    tasks.enqueue("dossiers.render", job.id)


def give_up_if_stalled(job: DossierJob) -> bool:
    """Mark failed a job with no news for longer than a render may take (its worker died).

    A queue worker killed mid-render (a restart, the memory killer) never reports back; without
    this the organiser would watch the progress page forever.
    """
    # Queued jobs may wait behind others: give them the time of a few renders.
    limit = timedelta(seconds=current_app.config["DOSSIER_TIME_LIMIT"] + 60)
    if job.status is JobStatus.queued:
        limit *= 3
    return fail_if_silent(job, limit)


def _failure_code(error: Exception) -> str:
    if isinstance(error, RenderTimeout):
        return "timeout"
    if isinstance(error, SigningUnavailable):
        return "signing"
    if isinstance(error, NothingToRender):
        return "unpublished"
    if isinstance(error, SignersWithdrew):
        return "withdrawals"
    if isinstance(error, WorkersStopped):
        return "interrupted"
    if isinstance(error, RenderError):
        return "layout"
    return "unexpected"


def failure_message(code: str) -> str:
    """Say why a job failed, in the reader's language."""
    messages = {
        "timeout": _("The dossier took longer than the time allowed and was stopped."),
        "signing": _("The dossier could not be signed: the signing certificate is not usable."),
        "unpublished": _("The appeal has no published letter yet."),
        "layout": _("The PDF could not be laid out."),
        "interrupted": _("The render was interrupted. Please try again."),
        "withdrawals": _(
            "Signatures kept being withdrawn while the dossier was being made. Please try again."
        ),
    }
    return messages.get(code, _("An unexpected error stopped the render."))


def mark_interrupted(job_id: int) -> None:
    """Fail a job whose worker was stopped while it ran (or before it began): "interrupted".

    The organiser is told to try again; a file its render was writing is a temporary one
    (write_atomically), never taken for a dossier.
    """
    job_rows.mark_interrupted(DossierJob, job_id)


@tasks.job("dossiers.render", on_interrupt=mark_interrupted)
def run_dossier_job(job_id: int) -> None:
    """Render the dossier a job asks for, reporting progress on the job row."""
    job = db.session.get(DossierJob, job_id)
    if job is None or job.status is not JobStatus.queued:
        return
    job.status = JobStatus.running
    db.session.commit()
    appeal = db.session.get(Appeal, job.appeal_id)
    user = db.session.get(User, job.requested_by_id) if job.requested_by_id else None
    last = {"value": 0}

    def progress(percent: int) -> None:
        if percent >= last["value"] + 5:
            last["value"] = percent
            job.progress = percent
            db.session.commit()

    snapshot = None
    try:
        if appeal is None:
            raise NothingToRender
        snapshot = make_snapshot(
            appeal,
            job.edition,
            user=user,
            landscape=job.landscape,
            sign=job.sign,
            progress=progress,
        )
        job.snapshot_id = snapshot.id
        job.status = JobStatus.done
        job.progress = 100
        db.session.commit()
    except Exception as error:
        db.session.rollback()
        if snapshot is not None:
            discard_file(snapshot)
        log.warning("dossier job %s failed: %s", job_id, type(error).__name__)
        fail_running(DossierJob, job_id, _failure_code(error))
        db.session.commit()


def sha256_of_stream(stream: IO[bytes]) -> str:
    """Hash an uploaded file without reading it into memory at once."""
    digest = hashlib.sha256()
    for chunk in iter(lambda: stream.read(1024 * 1024), b""):
        digest.update(chunk)
    return digest.hexdigest()


def find_snapshot_by_file_hash(sha256: str) -> DossierSnapshot | None:
    """Return the snapshot whose file has exactly this SHA-256, if any."""
    return db.session.scalar(select(DossierSnapshot).where(DossierSnapshot.file_sha256 == sha256))


def snapshot_title(snapshot: DossierSnapshot) -> str:
    """The appeal's title as the snapshot's latest letter version has it (not the draft's)."""
    return db.session.scalars(
        select(AppealVersion.title).where(
            AppealVersion.appeal_id == snapshot.appeal_id,
            AppealVersion.number == max(snapshot.versions),
        )
    ).one()


def find_snapshots(fingerprint: str) -> list[DossierSnapshot]:
    """Return the snapshots a fingerprint names: file SHA-256, signature list SHA-256, or id."""
    value = fingerprint.strip().lower()
    if _HEX64.fullmatch(value):
        condition = or_(
            DossierSnapshot.file_sha256 == value, DossierSnapshot.list_fingerprint == value
        )
    elif _SNAPSHOT_ID.fullmatch(value):
        condition = DossierSnapshot.id == value
    else:
        return []
    query = select(DossierSnapshot).where(condition).order_by(DossierSnapshot.created_at)
    return list(db.session.scalars(query))
