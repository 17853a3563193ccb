"""Signing dossier PDFs: PAdES over PDF/A-3b, metadata agreement, the certificate command."""

import datetime as dt
import gc
import io
import stat
import subprocess
import sys
import warnings
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
import weasyprint
from asn1crypto import x509 as asn1_x509
from cryptography.hazmat.primitives.serialization import Encoding, pkcs12
from pyhanko.pdf_utils.reader import PdfFileReader
from pyhanko.sign.validation import validate_pdf_signature
from pyhanko_certvalidator import ValidationContext
from pypdf import PdfReader
from weasyprint.urls import URLFetcher

from campaign.dossiers.signing import (
    SigningUnavailable,
    certificate_pem_path,
    make_development_certificate,
    sign_pdf,
    signing_configured,
    signing_settings,
)

PASSPHRASE = b"test passphrase"
CSV = "number,name,region\n1,Anna,Kursk\n2,Ivan,Belgorod\n"
HTML = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Dossier for the test</title>
<meta name="dcterms.created" content="2025-01-02T03:04:05Z">
<meta name="dcterms.modified" content="2025-01-02T03:04:05Z">
</head><body><h1>Dossier</h1><p>Two signatories.</p></body></html>"""
PYHANKO = Path(sys.executable).parent / "pyhanko"

NS = {
    "rdf": "http://www.w3.org/1999/02/22-rdf-syntax-ns#",
    "pdf": "http://ns.adobe.com/pdf/1.3/",
    "xmp": "http://ns.adobe.com/xap/1.0/",
    "dc": "http://purl.org/dc/elements/1.1/",
    "pdfaid": "http://www.aiim.org/pdfa/ns/id/",
}


class RefuseAll(URLFetcher):
    """The test HTML has no URLs; anything fetched would be a bug."""

    def fetch(self, url, headers=None):
        raise ValueError(f"refused to fetch {url}")


@pytest.fixture(scope="module")
def certificate(tmp_path_factory):
    """One development certificate for the module: the PKCS#12 file and the PEM certificate."""
    directory = tmp_path_factory.mktemp("certificate")
    p12 = make_development_certificate(directory / "dev.p12", PASSPHRASE)
    _, cert, _ = pkcs12.load_key_and_certificates(p12.read_bytes(), PASSPHRASE)
    pem = certificate_pem_path(p12)
    assert pem == directory / "dev.pem"
    assert pem.read_bytes() == cert.public_bytes(Encoding.PEM)
    return {
        "p12": p12,
        "pem": pem,
        "asn1": asn1_x509.Certificate.load(cert.public_bytes(Encoding.DER)),
    }


@pytest.fixture(scope="module")
def original():
    """A small PDF/A-3b with a CSV attached, straight from WeasyPrint."""
    attachment = weasyprint.Attachment(
        string=CSV, name="signatures.csv", relationship="Data", url_fetcher=RefuseAll()
    )
    # WeasyPrint 70 opens its sRGB2014.icc output intent for PDF/A and never closes it; the
    # ResourceWarning (an error here) is its bug, not ours: let it pass for this call only.
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ResourceWarning)
        pdf = weasyprint.HTML(string=HTML, url_fetcher=RefuseAll()).write_pdf(
            pdf_variant="pdf/a-3b", attachments=[attachment]
        )
        gc.collect()
    return pdf


@pytest.fixture(scope="module")
def signed(original, certificate):
    return sign_pdf(
        original,
        pkcs12_path=certificate["p12"],
        passphrase=PASSPHRASE,
        reason="Dossier of the appeal",
        location="Moscow",
    )


def validate(data, cert):
    """Validate the only signature with the certificate as the sole trust root, offline."""
    embedded = PdfFileReader(io.BytesIO(data)).embedded_signatures
    assert len(embedded) == 1
    context = ValidationContext(trust_roots=[cert], allow_fetching=False)
    return validate_pdf_signature(embedded[0], signer_validation_context=context)


def pyhanko_validate(path, pem):
    return subprocess.run(
        # --no-revocation-check keeps it offline; --trust-replace makes pem the only root.
        [
            PYHANKO,
            "sign",
            "validate",
            "--no-revocation-check",
            "--trust-replace",
            "--trust",
            pem,
            path,
        ],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def xmp_properties(data):
    """Map 'prefix:Name' to its value in the latest XMP packet (attribute or element form)."""
    packet = PdfReader(io.BytesIO(data)).trailer["/Root"]["/Metadata"].get_object().get_data()
    names = {uri: prefix for prefix, uri in NS.items()}
    values = {}

    def key(tag):
        uri, local = tag[1:].split("}")
        return f"{names.get(uri, uri)}:{local}"

    for description in ET.fromstring(packet).iter(f"{{{NS['rdf']}}}Description"):
        for name, value in description.attrib.items():
            if name.startswith("{") and not name.startswith(f"{{{NS['rdf']}}}"):
                values[key(name)] = value
        for child in description:
            items = list(child.iter(f"{{{NS['rdf']}}}li"))
            values[key(child.tag)] = items[0].text if items else child.text
    return values


def xmp_date(text):
    return dt.datetime.fromisoformat(text.replace("Z", "+00:00"))


def test_signature_is_valid_and_trusted_with_the_certificate_as_root(signed, certificate):
    status = validate(signed, certificate["asn1"])
    assert status.intact
    assert status.valid
    assert status.trusted
    assert status.bottom_line
    embedded = PdfFileReader(io.BytesIO(signed)).embedded_signatures[0]
    assert embedded.sig_object["/SubFilter"] == "/ETSI.CAdES.detached"
    assert embedded.sig_object["/Reason"] == "Dossier of the appeal"
    assert embedded.sig_object["/Location"] == "Moscow"


def test_pyhanko_command_line_reports_the_signature_intact(signed, certificate, tmp_path):
    path = tmp_path / "signed.pdf"
    path.write_bytes(signed)
    result = pyhanko_validate(path, certificate["pem"])
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.startswith("Signature1:")
    assert result.stdout.rstrip().endswith(":INTACT:TRUSTED,UNTOUCHED")


def test_signing_is_an_incremental_update(original, signed):
    assert len(signed) > len(original)
    assert signed.startswith(original)


def test_attachment_and_pdfa_identification_survive(signed):
    reader = PdfReader(io.BytesIO(signed))
    assert reader.attachments == {"signatures.csv": [CSV.encode()]}
    xmp = xmp_properties(signed)
    assert xmp["pdfaid:part"] == "3"
    assert xmp["pdfaid:conformance"] == "B"


def test_a_signed_dossier_stays_pdf_1_7_as_pdf_a_3_is(original, signed):
    # The development certificate's key is ECDSA: pyHanko would declare PDF 2.0 (ISO 32002).
    assert original.startswith(b"%PDF-1.7")
    root = PdfReader(io.BytesIO(signed)).trailer["/Root"]
    assert str(root.get("/Version", "/1.7")) == "/1.7"
    extensions = root.get("/Extensions", {})
    assert "/ISO_" not in extensions
    assert str(extensions["/ESIC"]["/BaseVersion"]) == "/1.7"  # PAdES on PDF 1.7


def test_info_and_xmp_agree_after_signing(original, signed):
    # Guards the pyHanko issue 223 workaround in signing.py (an internal method).
    info = PdfReader(io.BytesIO(signed)).metadata
    xmp = xmp_properties(signed)
    assert info["/Producer"] == xmp["pdf:Producer"]
    assert "pyHanko" not in info["/Producer"]
    assert info["/Title"] == xmp["dc:title"] == "Dossier for the test"
    assert info.modification_date == xmp_date(xmp["xmp:ModifyDate"])
    assert info.creation_date == xmp_date(xmp["xmp:CreateDate"])
    # Nothing in either was changed by the signature, so the agreement is WeasyPrint's.
    assert info == PdfReader(io.BytesIO(original)).metadata
    assert xmp == xmp_properties(original)


def test_changing_one_signed_byte_breaks_integrity(signed, certificate, tmp_path):
    embedded = PdfFileReader(io.BytesIO(signed)).embedded_signatures[0]
    first_range_end = embedded.byte_range[1]
    # The binary comment on the header's second line: the file still parses, but the digest
    # over the signed range no longer matches.
    position = signed.index(b"\n%") + 2
    assert position < first_range_end
    tampered = bytearray(signed)
    tampered[position] ^= 0x01
    tampered = bytes(tampered)

    status = validate(tampered, certificate["asn1"])
    assert not status.intact
    assert not status.bottom_line

    path = tmp_path / "tampered.pdf"
    path.write_bytes(tampered)
    result = pyhanko_validate(path, certificate["pem"])
    assert result.returncode != 0
    assert "INTACT" not in result.stdout


def test_development_certificate_refuses_to_overwrite(certificate):
    before = certificate["p12"].read_bytes()
    with pytest.raises(FileExistsError):
        make_development_certificate(certificate["p12"], PASSPHRASE)
    assert certificate["p12"].read_bytes() == before


def test_development_certificate_says_it_is_for_development(certificate):
    subject = certificate["asn1"].subject.human_friendly
    assert "Campaign development signing" in subject
    assert "Development only" in subject
    assert certificate["asn1"].key_usage_value.native == {"digital_signature", "non_repudiation"}
    lifetime = certificate["asn1"].not_valid_after - certificate["asn1"].not_valid_before
    assert dt.timedelta(days=700) < lifetime < dt.timedelta(days=740)


def test_missing_certificate_file_is_unavailable(original, tmp_path):
    with pytest.raises(SigningUnavailable) as caught:
        sign_pdf(original, pkcs12_path=tmp_path / "absent.p12", passphrase=None, reason="x")
    assert caught.value.reason == "certificate file missing"
    assert "make-cert" in str(caught.value)


@pytest.mark.parametrize("passphrase", [b"wrong", None])
def test_wrong_passphrase_is_unavailable(original, certificate, passphrase):
    with pytest.raises(SigningUnavailable) as caught:
        sign_pdf(original, pkcs12_path=certificate["p12"], passphrase=passphrase, reason="x")
    assert caught.value.reason == "wrong passphrase or not PKCS#12"


def test_signing_configured_by_default_file_or_setting(tmp_path):
    assert not signing_configured({}, tmp_path)
    (tmp_path / "dossier-signing.p12").write_bytes(b"")
    assert signing_configured({}, tmp_path)
    assert signing_configured({"DOSSIER_SIGNING_CERT": "/elsewhere/cert.p12"}, tmp_path / "x")


def test_settings_resolve_paths_and_passphrase(tmp_path):
    settings = signing_settings(
        {"DOSSIER_SIGNING_CERT": "keys/a.p12", "DOSSIER_SIGNING_PASSPHRASE": "secret"}, tmp_path
    )
    assert settings.path == tmp_path / "keys" / "a.p12"
    assert settings.passphrase == b"secret"
    assert signing_settings({}, tmp_path).path == tmp_path / "dossier-signing.p12"
    assert signing_settings({}, tmp_path).passphrase is None
    # An all-digit passphrase given in the environment arrives as a number after JSON parsing.
    with pytest.raises(SigningUnavailable):
        signing_settings({"DOSSIER_SIGNING_PASSPHRASE": 123456}, tmp_path)


class TestMakeCertCommand:
    @pytest.fixture
    def app_config(self, tmp_path):
        return {
            "DOSSIER_SIGNING_CERT": str(tmp_path / "keys" / "signing.p12"),
            "DOSSIER_SIGNING_PASSPHRASE": PASSPHRASE.decode(),
        }

    def test_writes_a_private_file_that_signs(self, runner, app, tmp_path, original):
        path = tmp_path / "keys" / "signing.p12"
        result = runner.invoke(args=["dossiers", "make-cert"])
        assert result.exit_code == 0, result.output
        assert str(path) in result.output
        assert "development only" in result.output
        assert "DOSSIER_SIGNING_CERT" in result.output
        assert stat.S_IMODE(path.stat().st_mode) == 0o600
        assert signing_configured(app.config)

        signed = sign_pdf(original, pkcs12_path=path, passphrase=PASSPHRASE, reason="Test")
        _, cert, _ = pkcs12.load_key_and_certificates(path.read_bytes(), PASSPHRASE)
        status = validate(signed, asn1_x509.Certificate.load(cert.public_bytes(Encoding.DER)))
        assert status.intact
        assert status.bottom_line

    def test_prints_a_validation_command_that_works(self, runner, tmp_path, original):
        path = tmp_path / "keys" / "signing.p12"
        result = runner.invoke(args=["dossiers", "make-cert"])
        assert result.exit_code == 0, result.output
        pem = tmp_path / "keys" / "signing.pem"
        command = next(
            line.split() for line in result.output.splitlines() if "pyhanko sign validate" in line
        )
        assert command[-2:] == [str(pem), "FILE"]
        signed_path = tmp_path / "signed.pdf"
        signed_path.write_bytes(
            sign_pdf(original, pkcs12_path=path, passphrase=PASSPHRASE, reason="Test")
        )
        # The command as printed, with the installed CLI (a main dependency, not a test one).
        command[0] = str(PYHANKO)
        command[-1] = str(signed_path)
        checked = subprocess.run(command, capture_output=True, text=True, timeout=120, check=False)
        assert checked.returncode == 0, checked.stdout + checked.stderr
        assert "INTACT" in checked.stdout

    def test_refuses_to_overwrite_without_the_option(self, runner, tmp_path):
        path = tmp_path / "keys" / "signing.p12"
        assert runner.invoke(args=["dossiers", "make-cert"]).exit_code == 0
        before = path.read_bytes()

        result = runner.invoke(args=["dossiers", "make-cert"])
        assert result.exit_code != 0
        assert "already exists" in result.output
        assert "--overwrite" in result.output
        assert path.read_bytes() == before

        result = runner.invoke(args=["dossiers", "make-cert", "--overwrite"])
        assert result.exit_code == 0, result.output
        assert path.read_bytes() != before
        assert stat.S_IMODE(path.stat().st_mode) == 0o600
        assert sorted(path.parent.iterdir()) == [path, path.with_suffix(".pem")]
