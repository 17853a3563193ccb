"""Signature sheets for wet ink: blank collection sheets, one sheet per online signer, and the
scans of signed sheets bound into the submission edition.

Neither kind shows one signer's private values or hidden name to another: a blank sheet has
no one's details, and a signer's own sheet only hers.
"""

import io
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import segno
from flask import render_template
from flask_babel import force_locale
from flask_babel import gettext as _
from PIL import Image

from campaign import ROOT
from campaign.appeals.models import Appeal
from campaign.dossiers.content import DossierContent, Row
from campaign.dossiers.scan_pictures import ScanPage, ScanPictures
from campaign.pdf import PdfMetadata, RenderJob, render_pdf
from campaign.signatures.fields import BUILT_IN_FIELDS, PRIVATE_FIELDS
from campaign.signatures.models import FieldMode
from campaign.signatures.paper import UnknownScan, scan_pages, stored_scans
from campaign.signatures.settings import consent_text, field_mode, sign_form_settings
from campaign.urls import public_url_for

MAX_BLANK_SHEETS = 200
LINES_PER_SHEET = 10
# The sign form's fields a shared sheet has a column for, in form order; private ones never
# (the next signer would read them), nor the drawn signature (the ink box is its place).
_SHEET_FIELDS = ("region", "town", "relationship", "relative_name", "relative_location",
                 "children")  # fmt: skip


def _qr_svg(url: str) -> bytes:
    out = io.BytesIO()
    segno.make(url, error="m").save(out, kind="svg", scale=4, border=2, xmldecl=True)
    return out.getvalue()


def blank_sheet_columns(appeal: Appeal) -> list[tuple[str, str]]:
    """Return (name, label) of the columns of a blank sheet: the sign form's public fields."""
    settings = sign_form_settings(appeal)
    columns = [("name", _("Surname, given name, patronymic"))]
    for name in _SHEET_FIELDS:
        if name not in PRIVATE_FIELDS and field_mode(settings, name) is not FieldMode.off:
            columns.append((name, str(BUILT_IN_FIELDS[name])))
    columns += [(f"q{q.id}", q.label) for q in settings.questions if not q.private]
    return columns


def blank_sheets_pdf(appeal: Appeal, count: int, first: int = 1) -> bytes:
    """Render `count` blank collection sheets numbered from `first`, in the appeal's language."""
    version = appeal.latest_version
    url = public_url_for("signatures.new", slug=appeal.slug)
    with force_locale(appeal.language):
        settings = sign_form_settings(appeal)
        html = render_template(
            "pdf/blank_sheets.html",
            language=appeal.language,
            title=version.title,
            edition="blank-sheets",
            landscape=True,
            version=version,
            url=url,
            columns=blank_sheet_columns(appeal),
            numbers=range(first, first + count),
            lines=range(1, LINES_PER_SHEET + 1),
            consent=consent_text(settings, appeal.language),
        )
    job = RenderJob(
        html=html,
        resources={"qr.svg": _qr_svg(url)},
        metadata=PdfMetadata(
            title=version.title,
            author="",
            language=appeal.language,
            subject=_("Signature collection sheets"),
            created=version.published_at,
        ),
    )
    return render_pdf(job, ROOT / "static")


def signer_sheets_html(content: DossierContent, rows: Sequence[Row], common: dict[str, Any]) -> str:
    """The per-signer sheets of these rows: one page each, with her own details only."""
    fingerprints = {version.number: version.fingerprint for version in content.versions}
    return render_template("pdf/signer_sheets.html", **common, rows=rows, fingerprints=fingerprints)


# Scan pages per render job: a job holds its pictures in memory at once (a few MB each).
SCAN_PAGES_PER_JOB = 8


def _scan_pages(path: Path) -> list[ScanPage] | None:
    """The pages of one stored scan, or None if it is not one the annex can bind."""
    if path.suffix == ".pdf":
        try:
            count = scan_pages(path)
        except UnknownScan:
            return None
        return [ScanPage(str(path), index) for index in range(count)]
    try:  # the header only: the picture is decoded by the render worker
        with Image.open(path, formats=["JPEG", "PNG"]) as image:
            width, height = image.size
    except (OSError, ValueError, Image.DecompressionBombError):
        return None
    return [ScanPage(str(path))] if width and height else None


def scans_annex_jobs(content: DossierContent, common: dict[str, Any]) -> list[RenderJob]:
    """The annex of the submission edition: every page of the stored scans of signed sheets
    (PDF, JPEG, PNG) as a picture on a page of its own, captioned with its sheet's number, in
    jobs of SCAN_PAGES_PER_JOB pages; none when no scan is stored.

    The pictures are drawn by the render worker (scan_pictures), without the files' metadata.
    A scan that cannot be bound (stored before uploads were checked) is named instead.
    """
    scans = stored_scans(content.appeal.id)
    if not scans:
        return []
    pictures: list[tuple[int, int, int, str]] = []  # sheet, page, pages, resource name
    sources: dict[str, ScanPage] = {}
    kept_apart: list[int] = []
    for sheet, paths in sorted(scans.items()):
        for path in paths:
            pages = _scan_pages(path)
            if pages is None:
                kept_apart.append(sheet)
                continue
            for number, page in enumerate(pages, start=1):
                name = f"scan-{sheet}-{number}.jpg"
                sources[name] = page
                pictures.append((sheet, number, len(pages), name))
    jobs = []
    for start in range(0, max(len(pictures), 1), SCAN_PAGES_PER_JOB):
        chunk = pictures[start : start + SCAN_PAGES_PER_JOB]
        html = render_template(
            "pdf/scans.html",
            **common,
            pictures=chunk,
            kept_apart=kept_apart,
            first=start == 0,
        )
        resources = ScanPictures({name: sources[name] for *_place, name in chunk})
        jobs.append(
            RenderJob(html=html, resources=resources, pdf_variant="pdf/a-3b", opaque_images=True)
        )
    return jobs
