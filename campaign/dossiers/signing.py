"""Sign dossier PDFs (PAdES baseline B-B) and make a development signing certificate."""

import datetime as dt
import os
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass
from io import BytesIO
from pathlib import Path
from typing import Any

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.serialization import pkcs12
from cryptography.x509.oid import NameOID
from flask import current_app
from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
from pyhanko.sign import fields, signers

from campaign.private_files import private_folder

DEFAULT_CERT_FILENAME = "dossier-signing.p12"
DEVELOPMENT_VALIDITY = dt.timedelta(days=730)
# The PDF version of PDF/A-3 (ISO 19005-3 is based on ISO 32000-1).
PDFA_VERSION = (1, 7)


class SigningUnavailable(Exception):
    """There is no usable signing certificate; `reason` says why in a few words."""

    def __init__(self, message: str, *, reason: str) -> None:
        super().__init__(message)
        self.reason = reason


@dataclass(frozen=True)
class SigningSettings:
    """Where the PKCS#12 file is, its passphrase, and whether the path was set explicitly."""

    path: Path
    passphrase: bytes | None
    explicit: bool


def signing_settings(
    config: Mapping[str, Any], instance_path: str | os.PathLike[str] | None = None
) -> SigningSettings:
    """Read DOSSIER_SIGNING_CERT and DOSSIER_SIGNING_PASSPHRASE from the configuration.

    A relative certificate path is taken relative to the instance folder (the current app's
    unless `instance_path` is given); no path means instance/dossier-signing.p12.
    """
    instance = Path(current_app.instance_path if instance_path is None else instance_path)
    configured = config.get("DOSSIER_SIGNING_CERT")
    path = instance / (configured or DEFAULT_CERT_FILENAME)
    raw = config.get("DOSSIER_SIGNING_PASSPHRASE")
    # CAMPAIGN_* variables are parsed as JSON, so an all-digit passphrase arrives as a number
    # and "1.50" as 1.5: refuse rather than sign with a different passphrase than was meant.
    if raw is not None and not isinstance(raw, str):
        raise SigningUnavailable(
            "DOSSIER_SIGNING_PASSPHRASE must be a string; in the environment, quote it as a "
            "JSON string (CAMPAIGN_DOSSIER_SIGNING_PASSPHRASE='\"123456\"').",
            reason="passphrase setting is not a string",
        )
    passphrase = raw.encode() if raw else None
    return SigningSettings(path=path, passphrase=passphrase, explicit=bool(configured))


def signing_configured(
    config: Mapping[str, Any], instance_path: str | os.PathLike[str] | None = None
) -> bool:
    """Tell whether dossiers should be signed: a certificate is configured or in instance/.

    An explicitly configured certificate counts even if its file is missing, so that signing
    then fails loudly (SigningUnavailable) instead of quietly producing unsigned dossiers.
    """
    settings = signing_settings(config, instance_path)
    return settings.explicit or settings.path.is_file()


def make_development_certificate(
    path: Path,
    passphrase: bytes | None,
    *,
    common_name: str = "Campaign development signing",
    overwrite: bool = False,
) -> Path:
    """Write a self-signed development certificate and its key as one PKCS#12 file (mode 0600).

    The certificate alone is also written beside it as PEM (certificate_pem_path), for
    validators such as `pyhanko sign validate --trust`. Raise FileExistsError if `path`
    exists, unless `overwrite` is true.
    """
    path = Path(path)
    if path.exists() and not overwrite:
        raise FileExistsError(f"{path} already exists")
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name(
        [
            x509.NameAttribute(NameOID.COMMON_NAME, common_name),
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, "Campaign"),
            x509.NameAttribute(
                NameOID.ORGANIZATIONAL_UNIT_NAME, "Development only - not for production"
            ),
        ]
    )
    now = dt.datetime.now(dt.UTC)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        # A few minutes back, so that a validator whose clock lags a little accepts it.
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + DEVELOPMENT_VALIDITY)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=True,
                content_commitment=True,  # nonRepudiation
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=False,
                crl_sign=False,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
        .sign(key, hashes.SHA256())
    )
    encryption: serialization.KeySerializationEncryption = (
        serialization.BestAvailableEncryption(passphrase)
        if passphrase
        else serialization.NoEncryption()
    )
    data = pkcs12.serialize_key_and_certificates(
        b"campaign-development-signing", key, certificate, None, encryption
    )
    _write_private_file(path, data, overwrite=overwrite)
    pem = certificate.public_bytes(serialization.Encoding.PEM)
    _write_private_file(certificate_pem_path(path), pem, overwrite=True)
    return path


def certificate_pem_path(pkcs12_path: Path) -> Path:
    """Return where make_development_certificate writes the certificate as PEM."""
    return Path(pkcs12_path).with_suffix(".pem")


def _write_private_file(path: Path, data: bytes, *, overwrite: bool) -> None:
    """Write `data` to a 0600 temporary file beside `path`, then move it into place."""
    private_folder(path.parent, tighten=False)
    fd, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        if overwrite:
            os.replace(temporary, path)
        else:
            # link() refuses an existing target atomically, unlike a check followed by rename.
            os.link(temporary, path)
    finally:
        Path(temporary).unlink(missing_ok=True)


def load_signer(pkcs12_path: Path, passphrase: bytes | None) -> signers.SimpleSigner:
    """Load the certificate and key from a PKCS#12 file, or raise SigningUnavailable."""
    try:
        data = Path(pkcs12_path).read_bytes()
    except FileNotFoundError:
        raise SigningUnavailable(
            f"No signing certificate at {pkcs12_path}: run `flask dossiers make-cert` for "
            "development, or set DOSSIER_SIGNING_CERT.",
            reason="certificate file missing",
        ) from None
    except OSError as error:
        raise SigningUnavailable(
            f"Cannot read the signing certificate at {pkcs12_path}: {error.strerror}.",
            reason="certificate file unreadable",
        ) from error
    try:
        key, certificate, _ = pkcs12.load_key_and_certificates(data, passphrase)
    except (ValueError, TypeError) as error:
        raise SigningUnavailable(
            f"Cannot open {pkcs12_path}: wrong DOSSIER_SIGNING_PASSPHRASE, or not a PKCS#12 file.",
            reason="wrong passphrase or not PKCS#12",
        ) from error
    if key is None or certificate is None:
        raise SigningUnavailable(
            f"{pkcs12_path} must hold both a certificate and its private key.",
            reason="certificate or key missing",
        )
    if certificate.not_valid_after_utc <= dt.datetime.now(dt.UTC):
        raise SigningUnavailable(
            f"The signing certificate in {pkcs12_path} expired on "
            f"{certificate.not_valid_after_utc:%Y-%m-%d}.",
            reason="certificate expired",
        )
    return signers.SimpleSigner.load_pkcs12_data(data, other_certs=[], passphrase=passphrase)


class _MetadataKeepingWriter(IncrementalPdfFileWriter):
    """An incremental writer that leaves the Info dictionary and the XMP packet alone.

    On every write pyHanko appends itself to Info /Producer ("WeasyPrint 70.0; pyHanko 0.38.0")
    but rewrites XMP pdf:Producer to "pyHanko 0.38.0" and adds an xmp:ModifyDate that Info
    lacks, so the two disagree and the PDF/A-3b dossier stops conforming. The maintainer's way
    out, https://github.com/MatthiasValvekens/pyHanko/issues/223, is to turn the writer's
    metadata update off by overriding `_update_meta`. That method is internal API: pyhanko is
    pinned to >=0.38,<0.39 and tests/dossiers/test_signing.py checks that Info and XMP agree.
    """

    def _update_meta(self) -> None:
        pass

    # PDF/A-3 is PDF 1.7. For an ECDSA key (ISO 32002) or a SHA-3 digest (ISO 32001) pyHanko
    # raises the catalog's /Version to 2.0 and registers an ISO_ extension based on PDF 2.0:
    # the dossier would then say PDF 2.0 while claiming PDF/A-3b. Readers verify these
    # signatures in a PDF 1.7 document all the same; the version is kept at 1.7.
    def ensure_output_version(self, version: tuple[int, int]) -> None:
        """Raise the output's PDF version as pyHanko asks, but never past PDF/A-3's 1.7."""
        super().ensure_output_version(min(tuple(version), PDFA_VERSION))

    def register_extension(self, ext: Any) -> None:
        """Register a developer extension unless it is based on a version past PDF 1.7."""
        major, _, minor = str(ext.base_version).lstrip("/").partition(".")
        if (int(major), int(minor or 0)) <= PDFA_VERSION:
            super().register_extension(ext)


def sign_pdf(
    pdf: bytes,
    *,
    pkcs12_path: Path,
    passphrase: bytes | None,
    reason: str,
    location: str | None = None,
) -> bytes:
    """Sign the PDF as an incremental update (PAdES B-B), without any network access.

    The input is a prefix of the output, so its PDF/A identification, attachments and
    metadata stay as they were. Raise SigningUnavailable without a usable certificate.
    """
    for method in ("_update_meta", "ensure_output_version", "register_extension"):
        if not callable(getattr(IncrementalPdfFileWriter, method, None)):
            # Otherwise _MetadataKeepingWriter's override would silently stop mattering.
            raise RuntimeError(f"pyHanko's writer no longer has {method}: see signing.py")
    signer = load_signer(pkcs12_path, passphrase)
    writer = _MetadataKeepingWriter(BytesIO(pdf))
    existing = {name for name, _, _ in fields.enumerate_sig_fields(writer)}
    field_name = next(
        f"Signature{n}" for n in range(1, len(existing) + 2) if f"Signature{n}" not in existing
    )
    metadata = signers.PdfSignatureMetadata(
        field_name=field_name,
        reason=reason,
        location=location,
        md_algorithm="sha256",
        subfilter=fields.SigSeedSubFilter.PADES,
        # No validation context, no timestamper and no embedded revocation info: pyHanko then
        # fetches nothing (no OCSP, CRL or TSA), and the result is baseline B-B.
        validation_context=None,
        embed_validation_info=False,
    )
    output = signers.PdfSigner(metadata, signer=signer).sign_pdf(writer)
    return output.getvalue()
