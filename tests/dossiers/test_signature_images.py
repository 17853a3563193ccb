"""A dossier reads the drawn signatures of the rows it lays out, and only those, each checked
against the SHA-256 stored beside it."""

import hashlib

import pytest

from campaign.dossiers import content as dossier_content
from campaign.dossiers import table_parts
from campaign.dossiers.content import collect_content
from campaign.dossiers.models import Edition
from campaign.dossiers.signature_images import SignatureImages
from campaign.extensions import db
from campaign.signatures.images import clean_png
from campaign.signatures.operations import SignData, sign_appeal
from campaign.signatures.signer_links import withdraw_signature
from tests.conftest import signature_png
from tests.dossiers.pdftools import image_count, page_texts
from tests.dossiers.rendered import render


@pytest.fixture
def drawings_read(monkeypatch):
    """The ids of the signatures whose drawings a render reads from the database."""
    read: list[int] = []
    real = dossier_content._read_drawings

    def recording(ids):
        read.extend(ids)
        return real(ids)

    monkeypatch.setattr(dossier_content, "_read_drawings", recording)
    return read


def test_a_cold_render_reads_every_drawing_once(open_appeal, make_signature, drawings_read):
    signers = [make_signature(open_appeal, drawn=n % 3 != 0) for n in range(12)]
    _snapshot, pdf = render(open_appeal)
    drawn = sorted(s.id for s in signers if s.image is not None)
    assert sorted(drawings_read) == drawn
    assert image_count(pdf) == len(drawn)


def test_a_render_after_new_signatures_reads_only_the_drawings_laid_out_again(
    open_appeal, make_signature, drawings_read, monkeypatch
):
    monkeypatch.setattr(table_parts, "PAGES_PER_BLOCK", 1)  # several blocks, all but the last kept
    for _n in range(45):
        make_signature(open_appeal)
    first, _pdf = render(open_appeal)
    assert first.pages > 4
    newcomer = make_signature(open_appeal, surname="Новаяподписантка")
    drawings_read.clear()
    _snapshot, pdf = render(open_appeal)
    # Her drawing, and those of the rows of the table's last page, laid out again with her.
    assert newcomer.id in drawings_read
    assert len(drawings_read) < 20
    assert image_count(pdf) == 46
    assert "Новаяподписантка" in " ".join(page_texts(pdf))


def test_a_signer_who_withdraws_before_her_drawing_is_read_is_left_out(
    open_appeal, make_signature, monkeypatch
):
    for _n in range(3):
        make_signature(open_appeal)
    outcome = sign_appeal(
        open_appeal,
        SignData(surname="Уходящая", given_name="Лейла", image=clean_png(signature_png(99))),
        consent="Согласие",
        confirm_within=None,
    )
    db.session.commit()
    real = dossier_content._read_drawings
    reads = []

    def withdrawing_first(ids):
        if not reads:  # her row is read; her drawing is deleted before it is
            withdraw_signature(outcome.withdraw_token)
            db.session.commit()
        reads.append(list(ids))
        return real(ids)

    monkeypatch.setattr(dossier_content, "_read_drawings", withdrawing_first)
    snapshot, pdf = render(open_appeal)
    assert len(reads) == 2  # read again without her
    assert snapshot.signature_count == 3
    assert image_count(pdf) == 3
    assert "Уходящая" not in " ".join(page_texts(pdf))


def test_the_sheets_edition_reads_every_drawing(open_appeal, make_signature, drawings_read):
    signers = [make_signature(open_appeal) for _n in range(3)]
    render(open_appeal, Edition.sheets)
    assert sorted(drawings_read) == sorted(s.id for s in signers)


def test_the_public_edition_reads_no_drawing(open_appeal, make_signature, drawings_read):
    make_signature(open_appeal)
    render(open_appeal, Edition.public)
    assert drawings_read == []


def test_the_rows_carry_the_stored_sha256_of_each_drawing(open_appeal, make_signature):
    signature = make_signature(open_appeal)
    content = collect_content(open_appeal, Edition.submission)
    (row,) = content.rows
    assert row.image_sha256 == hashlib.sha256(signature.image.png).hexdigest()
    content.load_images(content.rows)
    assert content.images[row.image_sha256] == signature.image.png


def test_a_drawing_that_does_not_match_its_sha256_is_refused(tmp_path):
    stored = hashlib.sha256(b"the drawing as signed").hexdigest()
    images = SignatureImages(tmp_path, lambda ids: [(ids[0], b"another drawing")])
    images.expect(stored, 7)
    with pytest.raises(ValueError, match="signature 7 does not match its SHA-256"):
        images.load([stored])
    images.close()


def test_drawings_are_read_once_whatever_the_rows_that_share_them(tmp_path):
    png = b"one drawing for two signatures"
    sha = hashlib.sha256(png).hexdigest()
    asked: list[list[int]] = []

    def read(ids):
        asked.append(list(ids))
        return [(id_, png) for id_ in ids]

    images = SignatureImages(tmp_path, read)
    images.expect(sha, 3)
    images.expect(sha, 4)
    images.load([sha, sha, ""])
    images.load([sha])
    assert asked == [[3]]
    assert images[sha] == png
    images.close()
