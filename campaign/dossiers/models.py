"""Dossier snapshots (each rendered PDF, frozen) and the jobs that render them."""

import enum
from datetime import datetime

from sqlalchemy import JSON, ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from campaign.appeals.models import Appeal
from campaign.clock import utcnow
from campaign.extensions import db
from campaign.job_rows import JobStatus
from campaign.types import UTCDateTime


class Edition(enum.Enum):
    """What a dossier contains and for whom."""

    submission = "submission"  # for the authority: private fields an authority needs included
    public = "public"  # private fields left out, hidden signers withheld
    sheets = "sheets"  # pre-filled lines for wet-ink signatures


class DossierSnapshot(db.Model):
    """One rendered dossier: what went into it, who made it, and the hash of the file."""

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    appeal_id: Mapped[int] = mapped_column(ForeignKey("appeal.id", ondelete="CASCADE"), index=True)
    edition: Mapped[Edition]
    # Letter version numbers the listed signatures were given on, ascending.
    versions: Mapped[list[int]] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id", ondelete="SET NULL"))
    signature_count: Mapped[int]
    # SHA-256 of the canonical signature list (the CSV attached to the file).
    list_fingerprint: Mapped[str] = mapped_column(String(64))
    file_sha256: Mapped[str] = mapped_column(String(64), unique=True)
    file_size: Mapped[int]
    pages: Mapped[int]
    signed: Mapped[bool] = mapped_column(default=False)
    # Relative to the dossier folder (instance/dossiers by default).
    filename: Mapped[str] = mapped_column(String(200))
    # When the file went with the signers' private details (never handed in, by the records);
    # the row stays, so that a copy can still be checked.
    file_erased_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    appeal: Mapped[Appeal] = relationship()

    def __repr__(self) -> str:
        return f"<DossierSnapshot {self.id} appeal={self.appeal_id} {self.edition.value}>"


class DossierJob(db.Model):
    """A render asked for on the web, run on the task queue; a failed one leaves no snapshot."""

    id: Mapped[int] = mapped_column(primary_key=True)
    appeal_id: Mapped[int] = mapped_column(ForeignKey("appeal.id", ondelete="CASCADE"), index=True)
    edition: Mapped[Edition]
    sign: Mapped[bool] = mapped_column(default=False)
    landscape: Mapped[bool] = mapped_column(default=False)  # the signatory table's pages
    status: Mapped[JobStatus] = mapped_column(default=JobStatus.queued)
    progress: Mapped[int] = mapped_column(default=0)  # percent
    # Why it failed, as a code that operations.failure_message puts in words (no private data).
    error: Mapped[str] = mapped_column(String(40), default="")
    requested_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id", ondelete="SET NULL"))
    snapshot_id: Mapped[str | None] = mapped_column(
        ForeignKey("dossier_snapshot.id", ondelete="SET NULL")
    )
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, onupdate=utcnow)

    snapshot: Mapped[DossierSnapshot | None] = relationship()

    def __repr__(self) -> str:
        return f"<DossierJob {self.id} {self.edition.value} {self.status.value}>"
