"""Scans of signed sheets on the paper desk: stored when they can be bound, viewed or
downloaded, deleted after a confirmation; which sheets lack one; editors and owners only."""

import io
from datetime import date
from pathlib import Path

import pytest
from sqlalchemy import select

from campaign.accounts.models import Role
from campaign.audit.models import AuditEvent
from campaign.extensions import db
from campaign.file_changes import HIDDEN_PREFIX
from campaign.signatures.operations import SignData
from campaign.signatures.paper import (
    SCAN_MAX_PAGES,
    PaperPlace,
    enter_paper_signature,
    sheets_overview,
    store_scan,
    stored_scans,
)
from tests.scan_files import encrypted, jpeg_scan, pdf_scan


@pytest.fixture
def app_config(tmp_path):
    return {"PAPER_FOLDER": str(tmp_path / "paper")}


@pytest.fixture
def editor(make_user):
    return make_user()


@pytest.fixture
def advocate(make_user):
    return make_user()


@pytest.fixture
def appeal(make_published_appeal, editor, advocate):
    return make_published_appeal(
        language="ru", country="RU", members={editor: Role.editor, advocate: Role.advocate}
    )


def enter(appeal, surname, sheet, line=1):
    data = SignData(surname=surname, given_name="Айша", region="RU-CE", relationship="мать")
    enter_paper_signature(appeal, data, PaperPlace(sheet, line, date(2026, 11, 20)))
    db.session.commit()


def upload(client, appeal, sheet, data, name):
    return client.post(
        f"/appeals/{appeal.id}/paper/scans",
        data={"sheet": str(sheet), "scan": (io.BytesIO(data), name)},
        content_type="multipart/form-data",
    )


def events(action):
    return list(db.session.scalars(select(AuditEvent).where(AuditEvent.action == action)))


def test_a_pdf_scan_is_stored_and_audited(client, login, editor, appeal):
    login(editor)
    response = upload(client, appeal, 3, pdf_scan(pages=2), "sheet 3.pdf")
    assert response.status_code == 302
    assert sorted(stored_scans(appeal.id)) == [3]
    (event,) = events("sheets.scan_stored")
    assert event.details == {"sheet": 3, "kind": "pdf"}


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (pdf_scan()[:3000], "The PDF is damaged and cannot be read"),
        (b"%PDF-1.7\n%%EOF\n", "The PDF is damaged and cannot be read"),
        (encrypted(pdf_scan()), "protected by a password or encrypted"),
        (encrypted(pdf_scan(), user_password=""), "protected by a password or encrypted"),
        # Small pages: the test client spools a body over 500 KB to a file it never closes.
        (pdf_scan(pages=SCAN_MAX_PAGES + 1, size=(124, 175)), f"more than {SCAN_MAX_PAGES} pages"),
        (b"GIF89a" + b"\0" * 100, "A scan must be a PDF, JPEG or PNG file of at most 20 MB"),
    ],
    ids=["truncated", "no-pages", "password", "owner-password", "too-many-pages", "gif"],
)
def test_a_scan_the_dossier_could_not_bind_is_refused_at_upload(
    client, login, editor, appeal, data, message
):
    login(editor)
    response = upload(client, appeal, 77, data, "sheet.pdf")
    assert response.status_code == 400
    page = response.get_data(as_text=True)
    assert message in page
    assert 'value="77"' in page  # the sheet number as typed
    assert stored_scans(appeal.id) == {}
    assert events("sheets.scan_stored") == []


def test_the_refusal_speaks_russian(client, login, editor, appeal):
    login(editor)
    client.environ_base["HTTP_ACCEPT_LANGUAGE"] = "ru"
    response = upload(client, appeal, 5, encrypted(pdf_scan()), "sheet.pdf")
    assert response.status_code == 400
    assert "защищён паролем или зашифрован" in response.get_data(as_text=True)


def test_a_picture_is_shown_and_a_pdf_downloaded_never_cached(client, login, editor, appeal):
    with client.application.test_request_context():
        store_scan(appeal, 3, jpeg_scan())
        store_scan(appeal, 4, pdf_scan())
    db.session.commit()
    login(editor)
    picture = client.get(f"/appeals/{appeal.id}/paper/scans/3")
    assert picture.status_code == 200
    assert picture.mimetype == "image/jpeg"
    assert picture.headers["Content-Disposition"].startswith("inline")
    assert picture.headers["X-Content-Type-Options"] == "nosniff"
    assert "no-store" in picture.headers["Cache-Control"]
    assert picture.data == jpeg_scan()
    picture.close()
    pdf = client.get(f"/appeals/{appeal.id}/paper/scans/4")
    assert pdf.mimetype == "application/pdf"
    assert pdf.headers["Content-Disposition"].startswith("attachment")
    assert "no-store" in pdf.headers["Cache-Control"]
    pdf.close()
    assert [e.details for e in events("sheets.scan_downloaded")] == [{"sheet": 3}, {"sheet": 4}]
    assert client.get(f"/appeals/{appeal.id}/paper/scans/5").status_code == 404


def test_a_scan_is_deleted_after_a_confirmation(client, login, editor, appeal, tmp_path):
    with client.application.test_request_context():
        store_scan(appeal, 3, pdf_scan())
    db.session.commit()
    login(editor)
    url = f"/appeals/{appeal.id}/paper/scans/3/delete"
    asked = client.get(url)
    assert asked.status_code == 200
    assert "no-store" in asked.headers["Cache-Control"]
    assert "Delete the scan of sheet 3?" in asked.get_data(as_text=True)
    assert stored_scans(appeal.id)  # asking deletes nothing
    response = client.post(url)
    assert response.status_code == 302
    assert stored_scans(appeal.id) == {}
    assert not list((tmp_path / "paper" / "scans" / str(appeal.id)).iterdir())
    (event,) = events("sheets.scan_deleted")
    assert event.details == {"sheet": 3}
    assert client.post(url).status_code == 404


def test_deleting_needs_the_forms_token(app, client, login, editor, appeal):
    with app.test_request_context():
        store_scan(appeal, 3, pdf_scan())
    db.session.commit()
    login(editor)
    app.config["WTF_CSRF_ENABLED"] = True
    response = client.post(f"/appeals/{appeal.id}/paper/scans/3/delete")
    assert response.status_code in (200, 400)
    assert sorted(stored_scans(appeal.id)) == [3]
    assert events("sheets.scan_deleted") == []


def test_advocates_may_not_open_or_delete_a_scan(client, login, advocate, appeal):
    # A sheet shows its signers' private details (address, phone): owners and editors only,
    # as for the private columns of the list and the export.
    with client.application.test_request_context():
        store_scan(appeal, 3, pdf_scan())
    db.session.commit()
    login(advocate)
    assert client.get(f"/appeals/{appeal.id}/paper/scans/3").status_code == 403
    assert client.get(f"/appeals/{appeal.id}/paper/scans/3/delete").status_code == 403
    assert client.post(f"/appeals/{appeal.id}/paper/scans/3/delete").status_code == 403
    assert sorted(stored_scans(appeal.id)) == [3]


def test_another_organiser_gets_404(client, login, make_user, appeal):
    with client.application.test_request_context():
        store_scan(appeal, 3, pdf_scan())
    db.session.commit()
    login(make_user())
    assert client.get(f"/appeals/{appeal.id}/paper/scans/3").status_code == 404
    assert client.get(f"/appeals/{appeal.id}/paper/scans/3/delete").status_code == 404
    assert client.post(f"/appeals/{appeal.id}/paper/scans/3/delete").status_code == 404
    assert sorted(stored_scans(appeal.id)) == [3]


def test_the_desk_shows_which_sheets_lack_a_scan(client, login, editor, appeal):
    enter(appeal, "Первая", 1, 1)
    enter(appeal, "Вторая", 1, 2)
    enter(appeal, "Третья", 2)
    enter(appeal, "Без листа", None)
    with client.application.test_request_context():
        store_scan(appeal, 2, jpeg_scan())
        store_scan(appeal, 9, pdf_scan())
        overview = sheets_overview(appeal.id)
    db.session.commit()
    assert [(s.sheet, s.rows, s.scanned) for s in overview.sheets] == [(1, 2, False), (2, 1, True)]
    assert overview.scans_unnamed == [9]
    assert overview.rows_without_sheet == 1
    login(editor)
    response = client.get(f"/appeals/{appeal.id}/paper")
    assert "no-store" in response.headers["Cache-Control"]
    page = " ".join(response.get_data(as_text=True).split())
    assert '<tr class="missing"> <td data-label="Sheet" class="num">1</td>' in page
    assert "Open the scan of sheet 2" in page and "Open the scan of sheet 1" not in page
    assert "1 paper signature names no sheet." in page
    assert "Scans of sheets that no paper signature names" in page
    assert f"/appeals/{appeal.id}/paper/scans/9/delete" in page
    assert "source=paper" in page and "without_scan=y" in page


def test_a_new_scan_replaces_the_sheets_earlier_one_of_another_kind(
    client, login, editor, appeal, tmp_path
):
    login(editor)
    assert upload(client, appeal, 3, pdf_scan(), "sheet.pdf").status_code == 302
    assert upload(client, appeal, 3, jpeg_scan(), "sheet.jpg").status_code == 302
    folder = tmp_path / "paper" / "scans" / str(appeal.id)
    assert sorted(path.name for path in folder.iterdir()) == ["sheet-3.jpg"]  # none hidden
    assert stored_scans(appeal.id)[3][0].read_bytes() == jpeg_scan()


@pytest.mark.parametrize(
    ("language", "message"),
    [
        ("en", "The server could not change the stored files, so nothing has changed."),
        ("ru", "Сервер не смог изменить хранимые файлы, поэтому ничего не изменилось."),
    ],
    ids=["en", "ru"],
)
def test_a_scan_the_disk_refuses_changes_nothing(
    client, login, editor, appeal, monkeypatch, tmp_path, language, message
):
    login(editor)
    client.environ_base["HTTP_ACCEPT_LANGUAGE"] = language
    assert upload(client, appeal, 3, pdf_scan(), "sheet.pdf").status_code == 302
    earlier = stored_scans(appeal.id)[3][0].read_bytes()

    def full(*args, **kwargs):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr("campaign.file_changes.write_private", full)
    response = upload(client, appeal, 3, jpeg_scan(), "sheet.jpg")
    assert response.status_code == 500
    page = response.get_data(as_text=True)
    assert message in page
    assert 'value="3"' in page  # the sheet number as typed
    folder = tmp_path / "paper" / "scans" / str(appeal.id)
    assert sorted(path.name for path in folder.iterdir()) == ["sheet-3.pdf"]
    assert stored_scans(appeal.id)[3][0].read_bytes() == earlier
    assert len(events("sheets.scan_stored")) == 1


def test_a_scan_the_disk_will_not_delete_stays_and_no_deletion_is_recorded(
    client, login, editor, appeal, monkeypatch, tmp_path
):
    with client.application.test_request_context():
        store_scan(appeal, 3, pdf_scan())
    db.session.commit()
    login(editor)

    def refused(self, target):
        raise PermissionError(13, "Permission denied")

    monkeypatch.setattr(Path, "rename", refused)
    response = client.post(f"/appeals/{appeal.id}/paper/scans/3/delete")
    monkeypatch.undo()
    assert response.status_code == 500
    page = response.get_data(as_text=True)
    assert "nothing has changed" in page
    assert "Delete the scan of sheet 3?" in page  # asked again
    assert "no-store" in response.headers["Cache-Control"]
    folder = tmp_path / "paper" / "scans" / str(appeal.id)
    assert sorted(path.name for path in folder.iterdir()) == ["sheet-3.pdf"]
    assert events("sheets.scan_deleted") == []


def test_a_deleted_scan_the_disk_keeps_has_left_the_desk_and_is_logged(
    client, login, editor, appeal, monkeypatch, tmp_path, caplog
):
    with client.application.test_request_context():
        store_scan(appeal, 3, pdf_scan())
    db.session.commit()
    login(editor)
    unlink = Path.unlink

    def kept(self, missing_ok=False):
        if self.name.startswith(HIDDEN_PREFIX):
            raise OSError(5, "Input/output error")
        unlink(self, missing_ok=missing_ok)

    monkeypatch.setattr(Path, "unlink", kept)
    response = client.post(f"/appeals/{appeal.id}/paper/scans/3/delete")
    monkeypatch.undo()
    assert response.status_code == 302
    assert stored_scans(appeal.id) == {}
    assert len(events("sheets.scan_deleted")) == 1
    (left,) = (tmp_path / "paper" / "scans" / str(appeal.id)).iterdir()
    assert "could not be deleted from the disk" in caplog.text
    assert str(left) in caplog.text  # where to remove it by hand
