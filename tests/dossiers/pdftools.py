"""Reading rendered dossiers back: text per page, attachments, images, metadata."""

import csv
import io
import re
import subprocess
from pathlib import Path

from pypdf import PdfReader


def page_texts(pdf: bytes | Path) -> list[str]:
    """Return the text of each page, as poppler's pdftotext extracts it."""
    data = pdf.read_bytes() if isinstance(pdf, Path) else pdf
    result = subprocess.run(
        ["pdftotext", "-enc", "UTF-8", "-", "-"], input=data, capture_output=True, check=True
    )
    assert result.stderr == b"", result.stderr
    pages = result.stdout.decode().split("\f")
    return pages[:-1] if pages and not pages[-1].strip() else pages


def flat(text: str) -> str:
    """Collapse whitespace, so that names broken over lines are found."""
    return " ".join(text.split())


def compact(text: str) -> str:
    """Drop whitespace and hyphens, so that a value broken anywhere over lines is found.

    (pdftotext joins a word broken after a hyphen without the hyphen.)
    """
    return "".join(text.split()).replace("-", "")


def attachments(pdf: bytes) -> dict[str, bytes]:
    """Return the embedded files by name (exactly one version each)."""
    reader = PdfReader(io.BytesIO(pdf))
    found = {}
    for name, versions in reader.attachments.items():
        assert len(versions) == 1, name
        found[name] = versions[0]
    return found


def csv_rows(data: bytes) -> list[list[str]]:
    """Parse the attached signature list."""
    return list(csv.reader(io.StringIO(data.decode("utf-8"))))


def image_count(pdf: bytes) -> int:
    """Count the raster images drawn on the pages (masks aside), as poppler's pdfimages sees them.

    pypdf would count every image in a page's resources, which WeasyPrint shares between pages.
    """
    result = subprocess.run(["pdfimages", "-list", "-"], input=pdf, capture_output=True, check=True)
    lines = result.stdout.decode().splitlines()[2:]
    return sum(1 for line in lines if line.split()[2] == "image")


def xmp(pdf: bytes) -> str:
    """Return the document's XMP packet as text."""
    reader = PdfReader(io.BytesIO(pdf))
    metadata = reader.trailer["/Root"]["/Metadata"].get_object()
    return metadata.get_data().decode("utf-8")


def page_size_mm(pdf: bytes, index: int) -> tuple[int, int]:
    """Return a page's width and height in whole millimetres."""
    box = PdfReader(io.BytesIO(pdf)).pages[index].mediabox
    return round(float(box.width) * 25.4 / 72), round(float(box.height) * 25.4 / 72)


FOOTER = re.compile(r"Страница (\d+) из (\d+) · снимок ([0-9a-f]{20})")
