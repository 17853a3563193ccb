"""Paper signatures in the dossier: counted like others, marked, with their sheet and line."""

import io
from datetime import date

import pytest
from PIL import Image, ImageDraw
from sqlalchemy import select

from campaign.audit.models import AuditEvent
from campaign.dossiers.content import collect_content
from campaign.dossiers.models import Edition
from campaign.extensions import db
from campaign.signatures.models import Display
from campaign.signatures.operations import SignData
from campaign.signatures.paper import PaperPlace, enter_paper_signature, store_scan
from tests.dossiers.pdftools import compact, flat, image_count, page_texts
from tests.dossiers.rendered import render
from tests.scan_files import pdf_scan


@pytest.fixture
def app_config(tmp_path):
    """As tests/dossiers/conftest.py's, with scans kept in the test's folder."""
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
def mixed_appeal(open_appeal, make_signature):
    make_signature(open_appeal, surname="Онлайнова")
    data = SignData(
        surname="Бумажная",
        given_name="Айша",
        region="RU-CE",
        relationship="мать",
        display=Display.full,
    )
    enter_paper_signature(open_appeal, data, PaperPlace(3, 7, date(2026, 11, 20)))
    db.session.commit()
    return open_appeal


@pytest.mark.parametrize("edition", [Edition.submission, Edition.public])
def test_paper_rows_are_marked_with_sheet_and_line(mixed_appeal, edition):
    rows = collect_content(mixed_appeal, edition).rows
    # In signing order: the sheet was signed on 20 November, before the online signature.
    assert [(row.paper, row.sheet, row.line) for row in rows] == [
        (True, 3, 7),
        (False, None, None),
    ]
    _snapshot, pdf = render(mixed_appeal, edition)
    text = flat(" ".join(page_texts(pdf)))
    assert "1*" in text and "2*" not in text
    assert "от руки на бумаге, лист 3, строка 7" in text
    assert "* в столбце номеров" in text


def test_a_signer_sheet_shows_her_own_details_only(mixed_appeal, make_signature, tmp_path):
    make_signature(
        mixed_appeal, surname="Скрытая", display=Display.hidden, postal_address="ул. Тайная, 7"
    )
    _snapshot, pdf = render(mixed_appeal, Edition.sheets)
    (tmp_path / "sheets.pdf").write_bytes(pdf)  # to look at
    pages = [flat(page) for page in page_texts(pdf)]
    own = [page for page in pages if "ПОДПИСНОЙ ЛИСТ ПОДПИСАВШЕЙ № " in page]  # upper case
    # One page per online signer; the paper signer signed in ink already.
    assert len(own) == 2
    assert not any("Бумажная" in page for page in pages)
    online, hidden = own
    assert "Онлайнова" in online and "Скрытая" not in online and "Тайная" not in online
    assert "Скрытая" in hidden and "ул. Тайная, 7" in hidden and "Онлайнова" not in hidden
    assert not any("Скрытая" in page for page in pages if page not in own)


def test_blank_sheets_are_numbered_and_name_no_one(app, mixed_appeal, client, login, tmp_path):
    owner = mixed_appeal.memberships[0].user
    login(owner)
    response = client.get(f"/appeals/{mixed_appeal.id}/sheets/blank?count=3&first=7")
    assert response.status_code == 200
    assert response.mimetype == "application/pdf"
    assert "no-store" in response.headers["Cache-Control"]
    (tmp_path / "blank.pdf").write_bytes(response.data)
    pages = [flat(page) for page in page_texts(response.data)]
    assert len(pages) == 3
    for number, page in zip((7, 8, 9), pages, strict=True):
        assert f"ЛИСТ {number}" in page  # the heading's case, as the PDF's text has it
        assert mixed_appeal.latest_version.fingerprint[:16] in compact(page)
        assert "Онлайнова" not in page and "Бумажная" not in page
        assert "Регион" in page and "Подпись" in page
        assert "Почтовый адрес" not in page and "Телефон" not in page
    event = db.session.scalar(
        select(AuditEvent).where(AuditEvent.action == "sheets.blank_downloaded")
    )
    assert event.details == {"sheets": 3, "first": 7}


def test_scans_are_bound_into_the_submission_edition_only(mixed_appeal):
    without_scans = image_count(render(mixed_appeal, Edition.submission)[1])
    picture = Image.new("RGB", (1200, 1700), "white")
    ImageDraw.Draw(picture).text((100, 100), "sheet three", fill="black")
    exif = Image.Exif()
    exif[0x010E] = "kitchen table GPS"
    out = io.BytesIO()
    picture.save(out, format="JPEG", exif=exif.tobytes())
    store_scan(mixed_appeal, 3, out.getvalue())
    store_scan(mixed_appeal, 5, pdf_scan(pages=2))
    db.session.commit()
    _snapshot, pdf = render(mixed_appeal, Edition.submission)
    text = flat(" ".join(page_texts(pdf)))
    assert "Приложение: сканы подписных листов" in text
    assert "хранятся у организаторов" not in text  # the PDF is bound too
    assert b"kitchen table" not in pdf
    assert image_count(pdf) == without_scans + 3
    _snapshot, public = render(mixed_appeal, Edition.public)
    assert "сканы подписных листов" not in flat(" ".join(page_texts(public)))
