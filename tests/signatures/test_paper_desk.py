"""The desk's paper pages: one signature in ink, a table imported in three steps, scans of
signed sheets, and the export; each for the appeal's members only."""

import io

import pytest
from PIL import Image
from sqlalchemy import func, select

from campaign.accounts.models import Role
from campaign.audit.models import AuditEvent
from campaign.extensions import db
from campaign.signatures.models import Signature, SignatureSource
from tests.scan_files import pdf_scan
from tests.signatures.conftest import png_bytes

HEADER = "surname,given_name,region,relationship,email,sheet,line\n"


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


def _jpeg_with_exif() -> bytes:
    image = Image.new("RGB", (800, 300), "white")
    out = io.BytesIO()
    exif = Image.Exif()
    exif[0x010E] = "GPS of the kitchen table"  # ImageDescription
    image.save(out, format="JPEG", exif=exif.tobytes())
    return out.getvalue()


def _paper_form(**overrides):
    data = {
        "surname": "Налоева",
        "given_name": "Мадина",
        "patronymic": "",
        "region": "RU-CE",
        "town": "Грозный",
        "relationship": "mother",
        "relative_name": "Ислам Налоев",
        "relative_location": "Багдад",
        "children": "2",
        "email": "m@example.org",
        "display": "initials",
        "consent": "y",
        "sheet": "4",
        "line": "7",
        "signed_on": "2026-11-20",
    }
    data.update(overrides)
    return {key: value for key, value in data.items() if value is not None}


def test_paper_entry_stores_a_counted_paper_signature(client, desk):
    appeal, _editor, _advocate = desk
    page = client.get(f"/appeals/{appeal.id}/paper/new")
    assert page.status_code == 200 and "Sheet number" in page.get_data(as_text=True)
    data = _paper_form(scan=(io.BytesIO(_jpeg_with_exif()), "scan.jpg"))
    response = client.post(
        f"/appeals/{appeal.id}/paper/new", data=data, content_type="multipart/form-data"
    )
    assert response.status_code == 302, response.get_data(as_text=True)
    signature = db.session.scalar(select(Signature))
    assert signature.source is SignatureSource.paper
    assert (signature.sheet, signature.line) == (4, 7)
    assert signature.created_at.date().isoformat() == "2026-11-20"
    assert signature.image is not None and signature.image.png.startswith(b"\x89PNG")
    assert b"kitchen" not in signature.image.png
    event = db.session.scalar(
        select(AuditEvent).where(AuditEvent.action == "signature.paper_entered")
    )
    assert event.details == {"image": True}


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"consent": None}, "only with her consent"),
        ({"surname": ""}, "Enter your surname"),
        ({"sheet": "0"}, "whole number from 1"),
        ({"signed_on": "yesterday"}, "Not a valid date"),
        ({"scan": (io.BytesIO(b"GIF89a" + b"\0" * 100), "s.gif")}, "JPEG or PNG"),
        ({"scan": (io.BytesIO(_jpeg_with_exif()[:-200]), "s.jpg")}, "JPEG or PNG"),
    ],
)
def test_paper_entry_refuses_bad_input_and_keeps_it(client, desk, overrides, message):
    appeal, _editor, _advocate = desk
    response = client.post(
        f"/appeals/{appeal.id}/paper/new",
        data=_paper_form(town="Шали", **overrides),
        content_type="multipart/form-data",
    )
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert message in html
    assert 'value="Шали"' in html
    assert _count() == 0


def test_paper_entry_refuses_a_signer_who_signed(client, desk, make_signature):
    appeal, _editor, _advocate = desk
    make_signature(
        appeal, surname="Налоева", given_name="Мадина", patronymic="", email="m@example.org"
    )
    response = client.post(
        f"/appeals/{appeal.id}/paper/new", data=_paper_form(), content_type="multipart/form-data"
    )
    assert "has signed already" in response.get_data(as_text=True)
    assert _count() == 1


def test_scans_are_stored_privately_by_sheet(client, desk, tmp_path):
    appeal, _editor, _advocate = desk
    response = client.post(
        f"/appeals/{appeal.id}/paper/scans",
        data={"sheet": "3", "scan": (io.BytesIO(pdf_scan()), "sheet3.pdf")},
        content_type="multipart/form-data",
    )
    assert response.status_code == 302
    path = tmp_path / "paper" / "scans" / str(appeal.id) / "sheet-3.pdf"
    assert oct(path.stat().st_mode & 0o777) == "0o600"
    response = client.post(
        f"/appeals/{appeal.id}/paper/scans",
        data={"sheet": "4", "scan": (io.BytesIO(b"<html>"), "sheet4.pdf")},
        content_type="multipart/form-data",
    )
    assert response.status_code == 400
    assert "PDF, JPEG or PNG" in response.get_data(as_text=True)
    page = client.get(f"/appeals/{appeal.id}/paper").get_data(as_text=True)
    assert "Scans of sheets that no paper signature names" in page
    assert f"/appeals/{appeal.id}/paper/scans/3" in page
    assert f"/appeals/{appeal.id}/paper/scans/4" not in page


def test_export_by_an_editor_carries_private_columns(client, desk, make_signature):
    appeal, _editor, _advocate = desk
    make_signature(appeal, relationship="mother", email="private@example.org")
    make_signature(appeal, relationship="wife", email="second@example.org")
    assert client.get(f"/appeals/{appeal.id}/export?relationship=wife").status_code == 200
    response = client.post(
        f"/appeals/{appeal.id}/export",
        data={"format": "csv", "relationship": "wife", "chosen": ["surname", "email"]},
    )
    assert response.status_code == 200
    assert response.headers["Content-Disposition"].startswith("attachment")
    assert "no-store" in response.headers["Cache-Control"]
    assert response.get_data(as_text=True).splitlines()[1:] == ["Налоева-2,second@example.org"]
    event = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "signatures.exported"))
    assert event.details == {"rows": 1, "format": "csv", "private": True}


def test_an_advocate_exports_public_columns_only(client, desk, make_signature, login):
    appeal, _editor, advocate = desk
    make_signature(appeal, email="private@example.org", postal_address="ул. Ленина, 1")
    client.post("/accounts/logout")
    login(advocate)
    page = client.get(f"/appeals/{appeal.id}/export").get_data(as_text=True)
    assert 'value="email"' not in page
    response = client.post(f"/appeals/{appeal.id}/export", data={"format": "json"})
    assert response.status_code == 200
    assert "private@example.org" not in response.get_data(as_text=True)
    assert "Ленина" not in response.get_data(as_text=True)
    refused = client.post(
        f"/appeals/{appeal.id}/export", data={"format": "csv", "chosen": ["surname", "email"]}
    )
    assert refused.status_code == 403
    assert client.get(f"/appeals/{appeal.id}/paper/new").status_code == 403


def test_the_overview_links_the_paper_pages(client, desk):
    appeal, _editor, _advocate = desk
    page = client.get(f"/appeals/{appeal.id}/").get_data(as_text=True)
    assert f"/appeals/{appeal.id}/paper/new" in page and f"/appeals/{appeal.id}/export" in page


def test_png_scan_kept_within_bounds(client, desk):
    appeal, _editor, _advocate = desk
    data = _paper_form(scan=(io.BytesIO(png_bytes(3000, 1500)), "big.png"))
    response = client.post(
        f"/appeals/{appeal.id}/paper/new", data=data, content_type="multipart/form-data"
    )
    assert response.status_code == 302
    image = db.session.scalar(select(Signature)).image
    assert (image.width, image.height) == (1200, 600)
