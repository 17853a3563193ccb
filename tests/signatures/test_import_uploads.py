"""Uploaded tables: kept privately with their first rows, deleted when cancelled, imported or
too old (`flask signatures purge-uploads`, run daily with the other purges)."""

import io
import os
import time

import pytest
from sqlalchemy import select

from campaign.audit.models import AuditEvent
from campaign.extensions import db
from campaign.job_rows import JobStatus
from campaign.signatures.import_columns import ImportRefused
from campaign.signatures.import_job_model import ImportJob
from campaign.signatures.import_uploads import (
    HEAD_ROWS,
    discard_upload,
    keep_upload,
    read_head,
    upload_path,
)
from campaign.signatures.spreadsheets import UnreadableTable, write_xlsx

TABLE = b"surname,given_name\n" + b"".join(b"A%d,B\n" % n for n in range(HEAD_ROWS + 3))


@pytest.fixture
def app_config(tmp_path):
    return {"PAPER_FOLDER": str(tmp_path / "paper"), "IMPORT_UPLOAD_MAX_AGE": 3600}


def _age(appeal_id, token, seconds):
    path = upload_path(appeal_id, token)
    old = time.time() - seconds
    os.utime(path, (old, old))


def test_a_table_is_kept_with_its_first_rows(open_appeal):
    token = keep_upload(open_appeal.id, io.BytesIO(TABLE))
    head = read_head(open_appeal.id, token)
    assert head.header == ["surname", "given_name"]
    assert len(head.rows) == HEAD_ROWS and head.rows[0] == ["A0", "B"]
    assert (head.complete, head.file_format) == (False, "csv")
    workbook = write_xlsx(["surname", "given_name"], [["A", "B"]])
    head = read_head(open_appeal.id, keep_upload(open_appeal.id, io.BytesIO(workbook)))
    assert (head.rows, head.complete, head.file_format) == ([["A", "B"]], True, "xlsx")
    assert discard_upload(open_appeal.id, token)
    assert read_head(open_appeal.id, token) is None and upload_path(open_appeal.id, token) is None
    assert not discard_upload(open_appeal.id, token)


def test_an_empty_table_is_not_kept(open_appeal, tmp_path):
    with pytest.raises((ImportRefused, UnreadableTable)):
        keep_upload(open_appeal.id, io.BytesIO(b"\n\n"))
    assert list((tmp_path / "paper" / "imports" / str(open_appeal.id)).iterdir()) == []


def test_purge_deletes_tables_older_than_the_setting(runner, open_appeal, tmp_path):
    old = keep_upload(open_appeal.id, io.BytesIO(TABLE))
    busy = keep_upload(open_appeal.id, io.BytesIO(TABLE))
    new = keep_upload(open_appeal.id, io.BytesIO(TABLE))
    _age(open_appeal.id, old, 3700)
    _age(open_appeal.id, busy, 3700)
    _age(open_appeal.id, new, 3500)
    # A table whose import is queued or running stays, however old.
    db.session.add(ImportJob(appeal_id=open_appeal.id, upload=busy, live_upload=busy,
                             mapping={}, file_format="csv", language="en",
                             status=JobStatus.running))  # fmt: skip
    db.session.commit()
    result = runner.invoke(args=["signatures", "purge-uploads"])
    assert result.exit_code == 0, result.output
    assert "Deleted 1 uploaded table(s)" in result.output
    assert upload_path(open_appeal.id, old) is None and read_head(open_appeal.id, old) is None
    assert upload_path(open_appeal.id, busy) and upload_path(open_appeal.id, new)
    event = db.session.scalar(
        select(AuditEvent).where(AuditEvent.action == "signatures.import_upload_deleted")
    )
    assert (event.appeal_id, event.details) == (open_appeal.id, {"tables": 1, "reason": "expired"})
    result = runner.invoke(args=["signatures", "purge-uploads"])
    assert "Deleted 0 uploaded table(s)" in result.output
