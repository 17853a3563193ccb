"""Scans of signed sheets as tests need them: pictures and PDFs, sound or not."""

import io

import pikepdf
from PIL import Image, ImageDraw


def sheet_picture(label: str, size: tuple[int, int] = (1240, 1754)) -> Image.Image:
    """A white A4-shaped page with a label and a black frame, as a scanner would give."""
    picture = Image.new("RGB", size, "white")
    draw = ImageDraw.Draw(picture)
    draw.rectangle((40, 40, size[0] - 40, size[1] - 40), outline="black", width=8)
    draw.text((100, 100), label, fill="black", font_size=60)
    return picture


def pdf_scan(pages: int = 1, label: str = "sheet", size: tuple[int, int] = (1240, 1754)) -> bytes:
    """A scanned sheet saved as a PDF of `pages` pages (of `size` pixels at 150 dpi)."""
    pictures = [sheet_picture(f"{label} page {n}", size) for n in range(1, pages + 1)]
    out = io.BytesIO()
    pictures[0].save(out, format="PDF", save_all=True, append_images=pictures[1:], resolution=150)
    return out.getvalue()


def encrypted(pdf: bytes, user_password: str = "secret") -> bytes:
    """The PDF encrypted, with a password to open it (none if user_password is empty)."""
    out = io.BytesIO()
    with pikepdf.open(io.BytesIO(pdf)) as document:
        document.save(out, encryption=pikepdf.Encryption(owner="owner", user=user_password))
    return out.getvalue()


def jpeg_scan(label: str = "sheet") -> bytes:
    """A scanned sheet saved as a JPEG."""
    out = io.BytesIO()
    sheet_picture(label).save(out, format="JPEG", quality=80)
    return out.getvalue()
