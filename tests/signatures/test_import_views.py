"""The desk's import of a table: upload, columns and a preview of the first rows, the import
run as a job with its status page, cancelling; each for the appeal's editors only."""

import io
import re

import pytest
from sqlalchemy import func, select

from campaign.accounts.models import Role
from campaign.audit.models import AuditEvent
from campaign.extensions import db
from campaign.job_rows import JobStatus
from campaign.signatures.import_job_model import ImportJob
from campaign.signatures.import_uploads import HEAD_ROWS
from campaign.signatures.models import Signature

HEADER = "surname,given_name,region,relationship,email,sheet,line\n"
MAPPING = {f"column-{i}": name for i, name in enumerate(HEADER.strip().split(","))}


@pytest.fixture
def app_config(tmp_path):
    return {"SIGN_MIN_SECONDS": 0, "PAPER_FOLDER": str(tmp_path / "paper")}


@pytest.fixture
def desk(make_published_appeal, make_user, login):
    editor, advocate = make_user(), make_user()
    appeal = make_published_appeal(
        country="RU", members={editor: Role.editor, advocate: Role.advocate}
    )
    login(editor)
    return appeal, editor, advocate


def _count():
    return db.session.scalar(select(func.count(Signature.id)))


def _upload(client, appeal, text: bytes, name="t.csv"):
    return client.post(
        f"/appeals/{appeal.id}/paper/import",
        data={"table": (io.BytesIO(text), name)},
        content_type="multipart/form-data",
    )


def _stored(tmp_path, appeal):
    folder = tmp_path / "paper" / "imports" / str(appeal.id)
    return sorted(folder.iterdir()) if folder.exists() else []


def _actions():
    return db.session.scalars(select(AuditEvent.action).order_by(AuditEvent.id)).all()


def _rows(count, first=1):
    return "".join(
        f"Налоева-{n},Мадина,RU-CE,mother,m{n}@example.org,1,{n}\n" for n in range(first, count + 1)
    )


def test_import_in_three_steps(client, desk, tmp_path):
    appeal, editor, _advocate = desk
    table = (HEADER + "Налоева,Мадина,RU-CE,mother,a@example.org,1,1\n"
             "Aliyeva,Aisha,Республика Дагестан,mother,,1,2\n").encode()  # fmt: skip
    response = _upload(client, appeal, table)
    assert response.status_code == 302
    preview_url = response.headers["Location"]
    stored = _stored(tmp_path, appeal)
    assert len(stored) == 2  # the table and its first rows, for the preview
    assert {oct(path.stat().st_mode & 0o777) for path in stored} == {"0o600"}
    page = client.get(preview_url).get_data(as_text=True)
    assert "2 rows checked: no errors" in page
    assert '<option value="surname" selected>' in page
    assert _count() == 0
    response = client.post(preview_url, data={**MAPPING, "import": "1"})
    assert response.status_code == 302
    job = db.session.scalar(select(ImportJob))
    assert response.headers["Location"].endswith(f"/appeals/{appeal.id}/paper/imports/{job.id}")
    assert (job.status, job.stored, job.rows_total, job.rows_done) == (JobStatus.done, 2, 2, 2)
    assert _count() == 2
    assert _stored(tmp_path, appeal) == []  # deleted once imported
    page = client.get(response.headers["Location"])
    assert "2 paper signatures imported." in page.get_data(as_text=True)
    assert "http-equiv" not in page.get_data(as_text=True)
    assert "no-store" in page.headers["Cache-Control"]
    event = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "signatures.imported"))
    assert (event.actor_id, event.via, event.details) == (
        editor.id, "web", {"rows": 2, "format": "csv"}
    )  # fmt: skip
    assert "signatures.import_uploaded" in _actions()
    assert "imported" in client.get(f"/appeals/{appeal.id}/paper").get_data(as_text=True)


def test_import_preview_lists_errors_and_imports_nothing(client, desk):
    appeal, _editor, _advocate = desk
    table = (HEADER + "Налоева,Мадина,Атлантида,mother,,1,1\n=1+1,Айша,RU-CE,mother,,1,2\n"
             "Хасанова,Айша,RU-CE,mother,,1,3\n").encode()  # fmt: skip
    preview_url = _upload(client, appeal, table).headers["Location"]
    page = client.get(preview_url).get_data(as_text=True)
    assert "2 of 3 rows have errors" in page
    assert re.search(r"<td>2</td><td>Region \(region\)</td><td>Unknown region.</td>", page)
    assert re.search(
        r"<td>3</td><td>Surname \(surname\)</td><td>A formula is not imported.</td>", page
    )
    response = client.post(preview_url, data={**MAPPING, "import": "1"})
    assert response.status_code == 400
    assert "Nothing was imported." in response.get_data(as_text=True)
    assert _count() == 0
    assert db.session.scalar(select(func.count(ImportJob.id))) == 0  # no job queued to fail


def test_the_job_checks_every_row_beyond_the_preview(client, desk, tmp_path):
    appeal, _editor, _advocate = desk
    bad = "Хасанова,Айша,Атлантида,mother,,1,999\n"
    table = (HEADER + _rows(HEAD_ROWS + 5) + bad).encode()
    preview_url = _upload(client, appeal, table).headers["Location"]
    page = client.get(preview_url).get_data(as_text=True)
    assert f"The first {HEAD_ROWS} rows have no errors." in page
    assert "Import the whole table" in page
    response = client.post(preview_url, data={**MAPPING, "import": "1"})
    job_url = response.headers["Location"]
    job = db.session.scalar(select(ImportJob))
    assert (job.status, job.error, job.live_upload) == (JobStatus.failed, "rows", None)
    assert job.errors == [[HEAD_ROWS + 7, "region", "Unknown region."]]
    assert _count() == 0  # all or none
    page = client.get(job_url).get_data(as_text=True)
    assert "nothing was imported" in page
    assert f"1 of {HEAD_ROWS + 6} row has errors." in page
    assert f"<td>{HEAD_ROWS + 7}</td><td>Region (region)</td><td>Unknown region.</td>" in page
    assert "Change what the columns hold" in page  # the table is kept: try again, or cancel
    assert len(_stored(tmp_path, appeal)) == 2
    assert "signatures.imported" not in _actions()


def test_importing_twice_is_refused(client, desk):
    appeal, _editor, _advocate = desk
    preview_url = _upload(client, appeal, (HEADER + _rows(3)).encode()).headers["Location"]
    first = client.post(preview_url, data={**MAPPING, "import": "1"})
    second = client.post(preview_url, data={**MAPPING, "import": "1"})  # a double click
    assert second.status_code == 302
    assert second.headers["Location"] == first.headers["Location"]
    page = client.get(second.headers["Location"]).get_data(as_text=True)
    assert "being imported, or was imported, already" in page
    assert db.session.scalar(select(func.count(ImportJob.id))) == 1
    assert _count() == 3


def test_refused_files_keep_nothing(client, desk, monkeypatch, tmp_path):
    appeal, _editor, _advocate = desk
    response = _upload(client, appeal, b"\x81\x8d\x8f\x90\x9d" * 50)
    assert response.status_code == 400
    assert "neither UTF-8" in response.get_data(as_text=True)
    response = _upload(client, appeal, b"PK\x03\x04broken", name="t.xlsx")
    assert "not a CSV or XLSX table" in response.get_data(as_text=True)
    monkeypatch.setattr("campaign.signatures.import_uploads.MAX_BYTES", 10)
    response = _upload(client, appeal, HEADER.encode() * 100)
    assert response.status_code == 400
    assert "larger than" in response.get_data(as_text=True)
    assert _count() == 0
    assert _stored(tmp_path, appeal) == []


def test_an_upload_of_another_appeal_is_not_found(client, desk, make_published_appeal):
    appeal, editor, _advocate = desk
    other = make_published_appeal(members={editor: Role.editor})
    preview_url = _upload(client, appeal, (HEADER + "A,B,RU-CE,mother,,,\n").encode()).headers[
        "Location"
    ]
    token = preview_url.rsplit("/", 1)[1]
    assert client.get(f"/appeals/{other.id}/paper/import/{token}").status_code == 404
    assert client.post(f"/appeals/{other.id}/paper/import/{token}/cancel").status_code == 404
    assert client.get(f"/appeals/{appeal.id}/paper/import/{'0' * 32}").status_code == 404


def test_the_status_page_is_not_found_for_another_organiser(
    client, desk, make_published_appeal, make_user, login
):
    appeal, _editor, _advocate = desk
    preview_url = _upload(client, appeal, (HEADER + _rows(1)).encode()).headers["Location"]
    job_url = client.post(preview_url, data={**MAPPING, "import": "1"}).headers["Location"]
    job_id = int(job_url.rsplit("/", 1)[1])
    stranger = make_user()
    theirs = make_published_appeal(members={stranger: Role.owner})
    client.post("/accounts/logout")
    login(stranger)
    assert client.get(job_url).status_code == 404
    assert client.get(f"/appeals/{theirs.id}/paper/imports/{job_id}").status_code == 404


def test_the_status_page_refreshes_itself_while_the_job_waits(client, desk, tmp_path):
    appeal, editor, _advocate = desk
    job = ImportJob(appeal_id=appeal.id, upload="a" * 32, live_upload="a" * 32, mapping={},
                    file_format="csv", language="en", requested_by_id=editor.id)  # fmt: skip
    db.session.add(job)
    db.session.commit()
    page = client.get(f"/appeals/{appeal.id}/paper/imports/{job.id}").get_data(as_text=True)
    assert '<meta http-equiv="refresh" content="2">' in page
    assert "Waiting for its turn" in page
    job.status, job.rows_total, job.rows_done = JobStatus.running, 100_000, 12_000
    db.session.commit()
    page = client.get(f"/appeals/{appeal.id}/paper/imports/{job.id}").get_data(as_text=True)
    assert "Checking the rows: 12,000 of 100,000." in page


def test_cancel_deletes_the_table(client, desk, tmp_path):
    appeal, _editor, _advocate = desk
    preview_url = _upload(client, appeal, (HEADER + _rows(2)).encode()).headers["Location"]
    assert "Cancel and delete the table" in client.get(preview_url).get_data(as_text=True)
    response = client.post(preview_url + "/cancel")
    assert response.status_code == 302
    assert response.headers["Location"].endswith(f"/appeals/{appeal.id}/paper")
    assert _stored(tmp_path, appeal) == []
    assert "signatures.import_cancelled" in _actions()
    assert client.get(preview_url).status_code == 404
    assert client.post(preview_url + "/cancel").status_code == 404
    assert _count() == 0


def test_a_table_being_imported_is_not_cancelled(client, desk, tmp_path, monkeypatch):
    appeal, _editor, _advocate = desk
    monkeypatch.setattr("campaign.signatures.import_views.enqueue_import", lambda job: None)
    preview_url = _upload(client, appeal, (HEADER + _rows(2)).encode()).headers["Location"]
    job_url = client.post(preview_url, data={**MAPPING, "import": "1"}).headers["Location"]
    response = client.post(preview_url + "/cancel")
    assert response.headers["Location"] == job_url
    assert len(_stored(tmp_path, appeal)) == 2
    assert client.get(preview_url).headers["Location"] == job_url


def test_an_advocate_cannot_import(client, desk, login):
    appeal, _editor, advocate = desk
    client.post("/accounts/logout")
    login(advocate)
    assert _upload(client, appeal, (HEADER + _rows(1)).encode()).status_code == 403
    assert client.get(f"/appeals/{appeal.id}/paper/imports/1").status_code == 403
