"""The scans annex of the submission edition: every page of every stored scan, PDF or picture,
drawn by the render worker and captioned with its sheet; it follows the stored scans."""

import io
import pickle

import pytest
from PIL import Image

from campaign.dossiers.models import Edition
from campaign.dossiers.scan_pictures import SCAN_PIXELS, ScanPage, ScanPictures, scan_picture
from campaign.extensions import db
from campaign.file_changes import commit_with
from campaign.signatures.paper import delete_scan, scans_folder, store_scan
from tests.dossiers.pdftools import flat, image_count, page_texts
from tests.dossiers.rendered import render
from tests.dossiers.test_pdfa import failures
from tests.scan_files import jpeg_scan, pdf_scan


@pytest.fixture
def app_config(tmp_path):
    """As tests/dossiers/conftest.py's (two render workers), with scans in the test's folder."""
    return {
        "DOSSIER_FOLDER": str(tmp_path / "dossiers"),
        "DOSSIER_PROCESSES": 2,
        "DOSSIER_TIME_LIMIT": 120,
        "PUBLIC_URL": "https://campaign.test",
        "TASK_QUEUE_IMMEDIATE": True,
        "DOSSIER_SIGNING_CERT": str(tmp_path / "no-certificate.p12"),
        "PAPER_FOLDER": str(tmp_path / "paper"),
    }


@pytest.fixture
def signed_appeal(open_appeal, make_signature):
    make_signature(open_appeal, surname="Онлайнова")
    return open_appeal


def annex_pages(pdf: bytes) -> list[str]:
    return [flat(page) for page in page_texts(pdf) if "Лист " in page and "Приложение" not in page]


def test_a_pdf_scan_is_bound_page_by_page_in_pdf_a(signed_appeal, tmp_path):
    before = image_count(render(signed_appeal, Edition.submission)[1])
    store_scan(signed_appeal, 5, pdf_scan(pages=3, label="five"))
    store_scan(signed_appeal, 2, jpeg_scan("two"))
    db.session.commit()
    _snapshot, pdf = render(signed_appeal, Edition.submission)
    (tmp_path / "annex.pdf").write_bytes(pdf)  # to look at
    text = flat(" ".join(page_texts(pdf)))
    assert "Приложение: сканы подписных листов" in text
    assert "Лист 2" in text
    for page in (1, 2, 3):
        assert f"Лист 5, страница {page} из 3" in text
    assert image_count(pdf) == before + 4
    assert failures(pdf) == []


def test_a_new_scan_enters_the_next_render_and_a_deleted_one_leaves_it(signed_appeal):
    _snapshot, first = render(signed_appeal, Edition.submission)
    assert "сканы подписных листов" not in flat(" ".join(page_texts(first)))
    store_scan(signed_appeal, 4, pdf_scan(pages=2))
    db.session.commit()
    _snapshot, second = render(signed_appeal, Edition.submission)
    text = flat(" ".join(page_texts(second)))
    assert "Лист 4, страница 2 из 2" in text
    assert image_count(second) == image_count(first) + 2
    commit_with(delete_scan(signed_appeal, 4))
    _snapshot, third = render(signed_appeal, Edition.submission)
    assert "Лист 4" not in flat(" ".join(page_texts(third)))
    assert image_count(third) == image_count(first)


def test_a_scan_stored_before_uploads_were_checked_is_named_not_bound(signed_appeal):
    store_scan(signed_appeal, 3, jpeg_scan())
    (scans_folder(signed_appeal.id) / "sheet-8.pdf").write_bytes(b"%PDF-1.7\n%%EOF\n")
    db.session.commit()
    _snapshot, pdf = render(signed_appeal, Edition.submission)
    text = flat(" ".join(page_texts(pdf)))
    assert "Лист 3" in text
    assert "Сканы листов 8 хранятся у организаторов" in text


def test_scan_pictures_are_drawn_when_read_and_cross_to_a_worker(tmp_path):
    pdf = tmp_path / "sheet-1.pdf"
    pdf.write_bytes(pdf_scan(pages=2))
    missing = tmp_path / "sheet-2.pdf"
    pictures = ScanPictures({"a.jpg": ScanPage(str(pdf), 1), "b.jpg": ScanPage(str(missing), 0)})
    copied = pickle.loads(pickle.dumps(pictures))  # as render_many sends it
    assert list(copied) == ["a.jpg", "b.jpg"]
    with Image.open(io.BytesIO(copied["a.jpg"])) as image:
        assert image.format == "JPEG" and image.mode == "RGB"
        assert image.width <= SCAN_PIXELS[0] and image.height <= SCAN_PIXELS[1]
        assert max(image.width / SCAN_PIXELS[0], image.height / SCAN_PIXELS[1]) > 0.99
    # A file gone since it was checked is a white page, not a failed dossier.
    with Image.open(io.BytesIO(copied["b.jpg"])) as image:
        assert image.getextrema() == ((255, 255),) * 3


def test_a_picture_loses_its_metadata(tmp_path):
    out = io.BytesIO()
    exif = Image.Exif()
    exif[0x010E] = "kitchen table GPS"
    Image.new("RGB", (3000, 4000), "white").save(out, format="JPEG", exif=exif.tobytes())
    path = tmp_path / "sheet-1.jpg"
    path.write_bytes(out.getvalue())
    data = scan_picture(ScanPage(str(path)))
    assert b"kitchen table" not in data
    with Image.open(io.BytesIO(data)) as image:
        assert image.size[0] <= SCAN_PIXELS[0] and image.size[1] <= SCAN_PIXELS[1]
