"""Every edition conforms to the PDF/A part it claims, signed or not (page-validation checks)."""

import page
import pytest

from campaign.dossiers.models import Edition
from campaign.dossiers.operations import make_snapshot, snapshot_path
from campaign.dossiers.signing import make_development_certificate
from campaign.extensions import db
from tests.dossiers.pdftools import xmp

ARABIC = "\u0646\u0627\u0644\u0648\u064a\u0641\u0627"


@pytest.fixture
def varied_appeal(open_appeal, make_signature):
    """Drawn and typed signatures, names in several scripts: every way a row is laid out."""
    names = {7: ARABIC, 12: "王小明", 20: "ქართველი"}
    for n in range(40):
        make_signature(
            open_appeal,
            surname=names.get(n, f"Налоева-{n}"),
            drawn=n % 9 != 4,
            typed_signature="Подпись" if n % 9 == 4 else "",
            helper_name="Соседка" if n == 3 else "",
        )
    return open_appeal


def failures(pdf: bytes) -> list[str]:
    """The rules of PDF/A-3b the file breaks, as page-validation reports them."""
    report = page.validate_pdf_bytes(pdf, profile="3b")
    return [f"{failure.rule_id}: {failure.message[:160]}" for failure in report.failures]


@pytest.mark.parametrize("landscape", [False, True])
@pytest.mark.parametrize("edition", [Edition.submission, Edition.public])
def test_each_edition_conforms_to_pdf_a_3b(varied_appeal, edition, landscape):
    snapshot = make_snapshot(varied_appeal, edition, user=None, landscape=landscape)
    db.session.commit()
    pdf = snapshot_path(snapshot).read_bytes()
    assert 'pdfaid:part="3"' in xmp(pdf) or "<pdfaid:part>3</pdfaid:part>" in xmp(pdf)
    assert failures(pdf) == []


@pytest.mark.parametrize("edition", [Edition.submission, Edition.public])
def test_a_signed_dossier_conforms_to_pdf_a_3b(app, varied_appeal, edition, tmp_path):
    app.config["DOSSIER_SIGNING_CERT"] = str(
        make_development_certificate(tmp_path / "dev.p12", None)
    )
    snapshot = make_snapshot(varied_appeal, edition, user=None, sign=True)
    db.session.commit()
    pdf = snapshot_path(snapshot).read_bytes()
    assert b"/ByteRange" in pdf
    assert failures(pdf) == []


def test_the_checker_sees_a_character_no_font_has(open_appeal, make_signature):
    # The check is no formality: a name stored without the sign form's check (before it
    # existed) with a character no font has is drawn as .notdef, which PDF/A forbids.
    make_signature(open_appeal, surname="\U00020000 Ли")
    snapshot = make_snapshot(open_appeal, Edition.public, user=None)
    db.session.commit()
    assert [rule.split(":")[0] for rule in failures(snapshot_path(snapshot).read_bytes())] == [
        "PDFA3B-NOTDEF-GLYPH-001"
    ]
