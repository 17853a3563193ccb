"""Scanned receipts and answers: checked by their content, kept 0600 under instance/."""

import hashlib
import io
import secrets
import warnings
from pathlib import Path

from flask import current_app
from PIL import Image, UnidentifiedImageError
from pypdf import PdfReader
from pypdf.errors import PyPdfError

from campaign.file_changes import FileChange
from campaign.private_files import private_folder

# What each accepted type starts with, and the names it may carry.
_KINDS = {
    "application/pdf": (b"%PDF-", (".pdf",)),
    "image/jpeg": (b"\xff\xd8\xff", (".jpg", ".jpeg")),
    "image/png": (b"\x89PNG\r\n\x1a\n", (".png",)),
}


class ScanRefused(ValueError):
    """The file is not a PDF, JPEG or PNG that opens, or it is too large; `code` says which."""

    def __init__(self, code: str) -> None:
        super().__init__(code)
        self.code = code


def scan_limit() -> int:
    """The largest scan accepted, in bytes."""
    return int(current_app.config["SUBMISSION_SCAN_MAX_BYTES"])


def check_scan(name: str, data: bytes) -> str:
    """Return the media type of an acceptable scan, or raise ScanRefused.

    The content decides: it must start as its type does, open as that type, and the name's
    extension must say the same type.
    """
    if len(data) > scan_limit():
        raise ScanRefused("too_large")
    if not data:
        raise ScanRefused("empty")
    media_type = next((kind for kind, (magic, _) in _KINDS.items() if data.startswith(magic)), None)
    if media_type is None:
        raise ScanRefused("unknown_type")
    if not name.lower().endswith(_KINDS[media_type][1]):
        raise ScanRefused("name_mismatch")
    if not _opens(media_type, data):
        raise ScanRefused("broken")
    return media_type


def _opens(media_type: str, data: bytes) -> bool:
    try:
        if media_type == "application/pdf":
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")  # pypdf warns about damaged but readable files
                return len(PdfReader(io.BytesIO(data), strict=False).pages) > 0
        with Image.open(io.BytesIO(data)) as image:
            image.verify()
        return True
    except (PyPdfError, UnidentifiedImageError, OSError, ValueError, SyntaxError):
        return False
    except Image.DecompressionBombError:
        return False


def scans_folder() -> Path:
    """The folder that holds the scans (0700)."""
    return private_folder(current_app.config["SUBMISSION_SCANS_DIR"])


def store_scan(data: bytes, media_type: str, change: FileChange) -> tuple[str, str]:
    """Write the scan under a random name, as part of a change (OSError if the disk refuses);
    return the name and the file's SHA-256."""
    suffix = _KINDS[media_type][1][0]
    filename = f"{secrets.token_hex(16)}{suffix}"
    change.write(scans_folder() / filename, data, overwrite=False)
    return filename, hashlib.sha256(data).hexdigest()


def scan_path(filename: str) -> Path:
    """Where a stored scan is."""
    return Path(current_app.config["SUBMISSION_SCANS_DIR"]) / filename


def discard_scan(filename: str, change: FileChange) -> None:
    """Set a stored scan's file aside, as part of a change (OSError if the disk refuses)."""
    change.set_aside(scan_path(filename))
