"""PNG images for PDFs: those a PDF can take as they are, and painting others onto white."""

from __future__ import annotations

import io
import struct
from dataclasses import dataclass

from PIL import Image

_PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


@dataclass(frozen=True)
class PlainPng:
    """A PNG a PDF can take as it is: its size, colour type and compressed pixel data."""

    width: int
    height: int
    rgb: bool  # else greyscale
    idat: bytes  # the IDAT chunks joined: a FlateDecode stream with the PNG predictors


def plain_png(data: bytes) -> PlainPng | None:
    """Return a PNG's dimensions and pixel data if a PDF can take it as it is, else None.

    That is an 8-bit, non-interlaced greyscale or RGB PNG without transparency.
    """
    if not data.startswith(_PNG_MAGIC):
        return None
    chunks, position = [], len(_PNG_MAGIC)
    header = None
    while position + 8 <= len(data):
        (length,) = struct.unpack(">I", data[position : position + 4])
        kind = data[position + 4 : position + 8]
        body = data[position + 8 : position + 8 + length]
        if len(body) != length:
            return None
        if kind == b"IHDR":
            header = body
        elif kind == b"IDAT":
            chunks.append(body)
        elif kind == b"tRNS":
            return None
        elif kind == b"IEND":
            break
        position += 12 + length
    if header is None or len(header) != 13 or not chunks:
        return None
    width, height = struct.unpack(">II", header[:8])
    depth, colour, compression, filtering, interlace = header[8:13]
    if depth != 8 or colour not in (0, 2) or (compression, filtering, interlace) != (0, 0, 0):
        return None
    if not width or not height:
        return None
    return PlainPng(width, height, colour == 2, b"".join(chunks))


def png_size(data: bytes) -> tuple[int, int] | None:
    """Return a PNG's width and height in pixels from its header, or None if it is not one."""
    if not data.startswith(_PNG_MAGIC) or data[12:16] != b"IHDR" or len(data) < 24:
        return None
    width, height = struct.unpack(">II", data[16:24])
    return (width, height) if width and height else None


def plain_png_idat(data: bytes) -> bytes | None:
    """Return a PNG's compressed pixel data if a PDF can take it as it is, else None."""
    image = plain_png(data)
    return None if image is None else image.idat


def opaque_png(data: bytes) -> bytes:
    """Return a PNG painted onto white, without transparency; anything else unchanged."""
    if not data.startswith(_PNG_MAGIC):
        return data
    with Image.open(io.BytesIO(data), formats=["PNG"]) as image:
        if image.mode not in ("RGBA", "LA", "PA") and "transparency" not in image.info:
            return data
        return _rgb_on_white(image)


def rgb_png(data: bytes) -> bytes:
    """Return a PNG as an 8-bit RGB PNG painted onto white (a plain_png one)."""
    with Image.open(io.BytesIO(data), formats=["PNG"]) as image:
        return _rgb_on_white(image)


def _rgb_on_white(image: Image.Image) -> bytes:
    painted = Image.new("RGBA", image.size, (255, 255, 255, 255))
    painted.alpha_composite(image.convert("RGBA"))
    out = io.BytesIO()
    painted.convert("RGB").save(out, format="PNG", compress_level=1)
    return out.getvalue()
