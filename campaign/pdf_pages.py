"""Open PDF files made elsewhere and draw their pages as pictures, with PDFium (pypdfium2).

PDFium is not thread-safe: every call into it holds one lock per process.
"""

import threading
from pathlib import Path

import pypdfium2 as pdfium
import pypdfium2.raw as pdfium_c
from PIL import Image

_LOCK = threading.Lock()
_NOT_ENCRYPTED = -1


class UnreadablePdf(ValueError):
    """The PDF cannot be used; `code` says why: "damaged", "encrypted", "empty" or "pages"."""

    def __init__(self, code: str) -> None:
        super().__init__(code)
        self.code = code


def count_pages(source: bytes | Path, *, limit: int) -> int:
    """Return the number of pages of a PDF whose every page opens.

    Raise UnreadablePdf if it is damaged, encrypted (even without a password to open it), has
    no page or more than `limit`.
    """
    with _LOCK:
        try:
            document = pdfium.PdfDocument(source)
        except pdfium.PdfiumError as error:
            asks_password = getattr(error, "err_code", None) == pdfium_c.FPDF_ERR_PASSWORD
            raise UnreadablePdf("encrypted" if asks_password else "damaged") from None
        try:
            if pdfium_c.FPDF_GetSecurityHandlerRevision(document.raw) != _NOT_ENCRYPTED:
                raise UnreadablePdf("encrypted")
            count = len(document)
            if count == 0:
                raise UnreadablePdf("empty")
            if count > limit:
                raise UnreadablePdf("pages")
            for index in range(count):
                page = document[index]
                width, height = page.get_size()
                page.close()
                if not (width > 0 and height > 0):
                    raise UnreadablePdf("damaged")
        except pdfium.PdfiumError:
            raise UnreadablePdf("damaged") from None
        finally:
            document.close()
    return count


def draw_page(source: bytes | Path, index: int, box: tuple[int, int]) -> Image.Image:
    """Draw one page (0-based) as an RGB picture that fits within box (width, height) pixels.

    Raise UnreadablePdf if the file or the page cannot be read.
    """
    with _LOCK:
        try:
            document = pdfium.PdfDocument(source)
        except pdfium.PdfiumError:
            raise UnreadablePdf("damaged") from None
        try:
            page = document[index]
            width, height = page.get_size()
            scale = min(box[0] / width, box[1] / height)
            bitmap = page.render(scale=scale, may_draw_forms=True)
            picture = bitmap.to_pil().convert("RGB")
            bitmap.close()
            page.close()
        except (pdfium.PdfiumError, IndexError, ZeroDivisionError):
            raise UnreadablePdf("damaged") from None
        finally:
            document.close()
    picture.thumbnail(box)  # a rotated page's box is the other way round
    return picture
