"""The pictures of the scans annex, made where the annex is rendered (in a render worker).

A scan's pages are named in the annex's HTML before anything is drawn; ScanPictures stands for
the render job's resources and draws each picture only when the renderer reads it. So the
files that signers' sheets were scanned into, PDFs included, are decoded in the worker, with
its time limit and no network, never in the web or queue process.
"""

import io
import logging
from collections.abc import Iterator, Mapping
from dataclasses import dataclass

from PIL import Image

from campaign.pdf_pages import UnreadablePdf, draw_page

log = logging.getLogger(__name__)

# A scan bound into the dossier is shrunk to this (about 190 dpi on A4): legible, not huge.
SCAN_PIXELS = (1600, 2260)
# A scan is a photograph of paper: as JPEG a page is a tenth of its PNG (a 50-page scan stays
# tens of MB, not hundreds), and PDF/A carries JPEG as it is.
SCAN_QUALITY = 85


@dataclass(frozen=True)
class ScanPage:
    """One page of a stored scan: a picture file, or a page (0-based) of a PDF."""

    path: str
    page: int | None = None


class ScanPictures(Mapping[str, bytes]):
    """Resources of a render job: each name's JPEG is drawn from its scan page when read."""

    def __init__(self, pages: Mapping[str, ScanPage]) -> None:
        self._pages = dict(pages)

    def __getitem__(self, name: str) -> bytes:
        return scan_picture(self._pages[name])

    def __iter__(self) -> Iterator[str]:
        return iter(self._pages)

    def __len__(self) -> int:
        return len(self._pages)


def scan_picture(page: ScanPage) -> bytes:
    """Draw a scan page as an RGB JPEG within SCAN_PIXELS, with none of the file's metadata.

    A page that cannot be drawn (the file changed since it was checked) is a white page, so
    that the dossier is still made; its caption still names the sheet.
    """
    try:
        if page.page is not None:
            picture = draw_page(page.path, page.page, SCAN_PIXELS)
        else:
            with Image.open(page.path, formats=["JPEG", "PNG"]) as image:
                image.draft("RGB", SCAN_PIXELS)
                picture = image.convert("RGB")
            picture.thumbnail(SCAN_PIXELS)
    except (OSError, ValueError, UnreadablePdf, Image.DecompressionBombError) as error:
        log.warning("a scan page could not be drawn: %s", type(error).__name__)
        picture = Image.new("RGB", (SCAN_PIXELS[0] // 4, SCAN_PIXELS[1] // 4), "white")
    out = io.BytesIO()
    picture.save(out, format="JPEG", quality=SCAN_QUALITY, optimize=True)
    return out.getvalue()
