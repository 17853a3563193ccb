"""The row of a table's import asked for on the desk (signatures.import_jobs runs it)."""

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from campaign.clock import utcnow
from campaign.extensions import db
from campaign.job_rows import JobStatus
from campaign.types import UTCDateTime


class ImportJob(db.Model):
    """A table's import asked for on the web, run on the task queue: all its rows or none.

    While it may still store the table (queued, running, done), `live_upload` holds the
    table's token: a second import of the same table (a double click, two tabs) is refused by
    the database. A failed one frees it, so the table can be imported with other columns.
    """

    __table_args__ = (UniqueConstraint("appeal_id", "live_upload"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    appeal_id: Mapped[int] = mapped_column(ForeignKey("appeal.id", ondelete="CASCADE"), index=True)
    # The table's token under PAPER_FOLDER/imports/<appeal_id>/ (signatures.import_uploads).
    upload: Mapped[str] = mapped_column(String(32))
    live_upload: Mapped[str | None] = mapped_column(String(32))
    # Column position (as text: JSON keys) -> the field it is imported as.
    mapping: Mapped[dict[str, str]] = mapped_column(JSON)
    file_format: Mapped[str] = mapped_column(String(8))
    language: Mapped[str] = mapped_column(String(8))  # of the rows' error messages
    status: Mapped[JobStatus] = mapped_column(default=JobStatus.queued)
    rows_total: Mapped[int | None]  # counted first for a CSV; None for a workbook
    rows_done: Mapped[int] = mapped_column(default=0)  # checked so far
    stored: Mapped[int] = mapped_column(default=0)
    invalid_rows: Mapped[int] = mapped_column(default=0)
    error_count: Mapped[int] = mapped_column(default=0)
    # The first rows' errors, [line, field, message]: never a cell's value.
    errors: Mapped[list[list[Any]]] = mapped_column(JSON, default=list)
    # Why it failed, as a code that import_jobs.failure_message puts in words.
    error: Mapped[str] = mapped_column(String(40), default="")
    requested_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, onupdate=utcnow)

    def __repr__(self) -> str:
        return f"<ImportJob {self.id} appeal={self.appeal_id} {self.status.value}>"
