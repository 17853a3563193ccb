"""Tables waiting on the import page: kept privately under PAPER_FOLDER/imports/<appeal_id>/
(files 0600), with their first rows for the preview, until imported, cancelled or too old.

A workbook of 100,000 rows takes seconds to open (openpyxl reads every shared string first),
so the preview never opens the table again: its header and first rows are read once, at the
upload, and kept beside it (the "head"); only the import's job reads the whole table.
"""

import os
import pickle
import secrets
import shutil
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import IO

from flask import current_app
from sqlalchemy import select

from campaign.appeals.models import Appeal
from campaign.audit.operations import record_event
from campaign.clock import utcnow
from campaign.extensions import db
from campaign.job_rows import JobStatus
from campaign.private_files import private_file, write_private
from campaign.signatures.import_columns import MAX_BYTES, ImportRefused
from campaign.signatures.import_job_model import ImportJob
from campaign.signatures.paper import paper_folder
from campaign.signatures.spreadsheets import XLSX_MAGIC, UnreadableTable, read_rows

# Rows below the header kept in the head and checked on the page (about a second's work).
HEAD_ROWS = 200
_TABLE, _HEAD = ".table", ".head"


@dataclass
class TableHead:
    """The start of an uploaded table: its header, first rows, and whether that is all of it."""

    header: list[str]
    rows: list[list[str]]
    complete: bool
    file_format: str


def _is_token(token: str) -> bool:
    return len(token) == 32 and all(c in "0123456789abcdef" for c in token)


def upload_path(appeal_id: int, token: str) -> Path | None:
    """Return the path of an appeal's uploaded table, or None if there is no such table."""
    if not _is_token(token):
        return None
    path = paper_folder("imports", appeal_id) / f"{token}{_TABLE}"
    return path if path.is_file() else None


def keep_upload(appeal_id: int, stream: IO[bytes]) -> str:
    """Store an uploaded table and its head; return its token.

    Raise ImportRefused("size") past MAX_BYTES, ImportRefused("empty") or UnreadableTable if
    it is no table; nothing is kept then.
    """
    token = secrets.token_hex(16)
    folder = paper_folder("imports", appeal_id)
    path = private_file(folder / f"{token}{_TABLE}")
    try:
        with path.open("wb") as out:
            shutil.copyfileobj(stream, out, 1024 * 1024)
        if path.stat().st_size > MAX_BYTES:  # the body's limit allows for the rest of the form
            raise ImportRefused("size")
        with path.open("rb") as table:
            head = _read_head(table)
        write_private(folder / f"{token}{_HEAD}", pickle.dumps(head))
    except (ImportRefused, UnreadableTable):
        discard_upload(appeal_id, token)
        raise
    return token


def _read_head(stream: IO[bytes]) -> TableHead:
    file_format = "xlsx" if stream.read(4) == XLSX_MAGIC else "csv"
    stream.seek(0)
    rows = read_rows(stream)
    try:
        header = next(rows, None)
        if not header or not any(cell.strip() for cell in header):
            raise ImportRefused("empty")
        first = [row for _, row in zip(range(HEAD_ROWS), rows, strict=False)]
        complete = next(rows, None) is None
    finally:
        rows.close()  # type: ignore[attr-defined]
    return TableHead(header, first, complete, file_format)


def read_head(appeal_id: int, token: str) -> TableHead | None:
    """Return the header and first rows of an uploaded table, or None if it is gone."""
    if upload_path(appeal_id, token) is None:
        return None
    head = paper_folder("imports", appeal_id) / f"{token}{_HEAD}"
    try:
        return pickle.loads(head.read_bytes())  # noqa: S301 (our own file, 0600)
    except FileNotFoundError:
        return None


def discard_upload(appeal_id: int, token: str) -> bool:
    """Delete an uploaded table and its head; return whether there was one."""
    if not _is_token(token):
        return False
    folder = paper_folder("imports", appeal_id)
    existed = (folder / f"{token}{_TABLE}").exists()
    for suffix in (_TABLE, _HEAD):
        (folder / f"{token}{suffix}").unlink(missing_ok=True)
    return existed


def purge_uploads(max_age: timedelta, now: datetime | None = None) -> int:
    """Delete the tables uploaded more than `max_age` ago and never imported (one whose import
    is queued or running stays); audit each appeal's; return how many were deleted. Flushes."""
    root = Path(current_app.config["PAPER_FOLDER"]) / "imports"
    if not root.is_dir():
        return 0
    cutoff = ((now or utcnow()) - max_age).timestamp()
    under_way = select(ImportJob.appeal_id, ImportJob.upload).where(
        ImportJob.status.in_((JobStatus.queued, JobStatus.running))
    )
    busy = {(appeal_id, upload) for appeal_id, upload in db.session.execute(under_way)}
    appeals = set(db.session.scalars(select(Appeal.id)))
    removed = 0
    for folder in sorted(root.iterdir()):
        if not folder.name.isdigit() or not folder.is_dir():
            continue
        appeal_id, count = int(folder.name), 0
        for path in folder.glob(f"*{_TABLE}"):
            token = path.name.removesuffix(_TABLE)
            if (appeal_id, token) in busy or os.stat(path).st_mtime >= cutoff:
                continue
            if discard_upload(appeal_id, token):
                count += 1
        if count and appeal_id in appeals:
            record_event(
                appeal_id,
                "signatures.import_upload_deleted",
                subject=("appeal", appeal_id),
                tables=count,
                reason="expired",
            )
        removed += count
    db.session.flush()
    return removed
