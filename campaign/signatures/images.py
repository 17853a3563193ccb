"""Drawn signatures: accept only a small, real PNG, and keep only its pixels, on white."""

import base64
import binascii
import io
import struct
import zlib
from dataclasses import dataclass

import numpy as np
from PIL import Image

MAX_BYTES = 100 * 1024
MAX_WIDTH, MAX_HEIGHT = 2000, 1000
PNG_MAGIC = b"\x89PNG\r\n\x1a\n"
DATA_URL_PREFIX = "data:image/png;base64,"


class InvalidImage(ValueError):
    """The upload is not an acceptable PNG."""


class NotPNG(InvalidImage):
    """The upload is not a PNG at all (another format, or something else)."""


class DamagedPNG(InvalidImage):
    """The upload starts as a PNG but is cut off, corrupted or inconsistent."""


@dataclass(frozen=True)
class CleanImage:
    """A re-encoded PNG and its size."""

    png: bytes
    width: int
    height: int


def looks_like_png_data_url(value: str) -> bool:
    """Whether a value has a PNG data URL's prefix and size (undecoded, unchecked)."""
    encoded = value.removeprefix(DATA_URL_PREFIX)
    return value.startswith(DATA_URL_PREFIX) and len(encoded) <= (MAX_BYTES * 4) // 3 + 4


def decode_data_url(value: str) -> bytes:
    """Return the bytes of a base64 PNG data URL, refusing anything larger than allowed."""
    if not value.startswith(DATA_URL_PREFIX):
        raise NotPNG("not a PNG data URL")
    if not looks_like_png_data_url(value):
        raise InvalidImage("too large")
    encoded = value.removeprefix(DATA_URL_PREFIX)
    try:
        return base64.b64decode(encoded, validate=True)
    except (binascii.Error, ValueError) as exc:
        raise DamagedPNG("bad base64") from exc


def clean_png(data: bytes) -> CleanImage:
    """Check the PNG strictly before decoding, then decode and re-encode to drop everything else.

    The pixels are kept painted onto white, without transparency: the dossier embeds such a PNG
    as it is (one image object, no soft mask, nothing decoded or re-encoded at each render).
    """
    if len(data) > MAX_BYTES:
        raise InvalidImage("too large")
    if not data.startswith(PNG_MAGIC):
        raise NotPNG("not a PNG")
    width, height = _check_structure(data)
    try:
        with Image.open(io.BytesIO(data), formats=["PNG"]) as image:
            image.load()
            if image.size != (width, height):
                raise DamagedPNG("inconsistent header")
            pixels = image.convert("RGBA")
    except (OSError, SyntaxError, ValueError, Image.DecompressionBombError) as exc:
        raise DamagedPNG("undecodable") from exc
    # A fresh image from the pixels alone: no text chunks, profiles or trailing data survive.
    fresh = Image.frombytes("RGBA", pixels.size, pixels.tobytes())
    on_white = Image.new("RGBA", fresh.size, (255, 255, 255, 255))
    on_white.alpha_composite(fresh)
    return CleanImage(encode_png(on_white.convert("RGB")), width, height)


def encode_png(
    image: Image.Image, level: int = 6, strategy: int = zlib.Z_DEFAULT_STRATEGY
) -> bytes:
    """Encode an RGB image as a plain PNG: 8-bit, each row filtered "Up", one IDAT.

    Pillow tries five filters on every row: 12 ms of a sign POST's CPU for a canvas, 0.7 ms of
    each demo signature's. Ink on white differs little from the row above, so "Up" alone
    compresses as well (smaller than Pillow's at level 6) in a tenth of the time. The dossier
    embeds such a PNG as it is (pdf.plain_png). `strategy` is zlib's (Z_RLE: faster, larger).
    """
    width, height = image.size
    rows = np.frombuffer(image.tobytes(), dtype=np.uint8).reshape(height, width * 3)
    up = rows.copy()
    up[1:] -= rows[:-1]  # modulo 256, as PNG's Up filter
    raw = np.hstack((np.full((height, 1), 2, dtype=np.uint8), up)).tobytes()
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)  # 8-bit RGB
    return b"".join(
        (
            PNG_MAGIC,
            _chunk(b"IHDR", header),
            _chunk(b"IDAT", _deflate(raw, level, strategy)),
            _chunk(b"IEND", b""),
        )
    )


def _deflate(data: bytes, level: int, strategy: int) -> bytes:
    compressor = zlib.compressobj(level, zlib.DEFLATED, zlib.MAX_WBITS, 8, strategy)
    return compressor.compress(data) + compressor.flush()


def _chunk(kind: bytes, body: bytes) -> bytes:
    return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))


# Channels per pixel of each PNG colour type (greyscale, RGB, palette, grey+alpha, RGBA).
_CHANNELS = {0: 1, 2: 3, 3: 1, 4: 2, 6: 4}
# Adam7: (x start, y start, x step, y step) of each of the seven passes.
_ADAM7 = (
    (0, 0, 8, 8), (4, 0, 8, 8), (0, 4, 4, 8), (2, 0, 4, 4),
    (0, 2, 2, 4), (1, 0, 2, 2), (0, 1, 1, 2),
)  # fmt: skip


def _check_structure(data: bytes) -> tuple[int, int]:
    """Walk the chunks (lengths and CRCs) up to IEND and require exactly the image data the
    header announces; return (width, height).

    Pillow alone is not enough: `import weasyprint` sets ImageFile.LOAD_TRUNCATED_IMAGES, and
    then a cut-off file (its IEND hidden in a text chunk) or a header larger than its data
    decodes, padded, without a word.
    """
    position, chunks, compressed = len(PNG_MAGIC), [], bytearray()
    while position < len(data):
        if position + 12 > len(data):
            raise DamagedPNG("cut off inside a chunk header")
        length, kind = struct.unpack(">I4s", data[position : position + 8])
        end = position + 12 + length
        if end > len(data):
            raise DamagedPNG("cut off inside a chunk")
        body = data[position + 8 : end - 4]
        (crc,) = struct.unpack(">I", data[end - 4 : end])
        if zlib.crc32(kind + body) != crc:
            raise DamagedPNG("bad chunk checksum")
        chunks.append(kind)
        if kind == b"IDAT":
            compressed += body
        position = end
        if kind == b"IEND":
            break
    # Bytes after IEND are no part of the image (and are not kept: only pixels are).
    if not chunks or chunks[0] != b"IHDR" or chunks[-1] != b"IEND":
        raise DamagedPNG("no header first, or cut off before the end")
    header = data[16:29]
    width, height, depth, colour, _compression, _filter, interlace = struct.unpack(
        ">IIBBBBB", header
    )
    if not (0 < width <= MAX_WIDTH and 0 < height <= MAX_HEIGHT):
        raise InvalidImage("dimensions out of bounds")
    if colour not in _CHANNELS or depth not in (1, 2, 4, 8, 16) or interlace not in (0, 1):
        raise DamagedPNG("unknown pixel format")
    expected = _raw_size(width, height, depth * _CHANNELS[colour], interlace)
    inflater = zlib.decompressobj()
    try:
        # At most one byte more than announced: enough to tell "too much" from "exact".
        raw = inflater.decompress(bytes(compressed), expected + 1)
    except zlib.error as exc:
        raise DamagedPNG("bad compressed data") from exc
    if len(raw) != expected or not inflater.eof:
        raise DamagedPNG("image data does not match the header")
    return width, height


def _raw_size(width: int, height: int, bits_per_pixel: int, interlace: int) -> int:
    """Bytes of filtered scanlines (a filter byte each) the header announces."""
    passes = _ADAM7 if interlace else ((0, 0, 1, 1),)
    size = 0
    for x0, y0, dx, dy in passes:
        columns = (width - x0 + dx - 1) // dx if width > x0 else 0
        rows = (height - y0 + dy - 1) // dy if height > y0 else 0
        if columns and rows:
            size += rows * (1 + (columns * bits_per_pixel + 7) // 8)
    return size


# A scanned signature entered on the desk (signatures.paper): a photo or scan of the ink.
SCAN_MAX_BYTES = 5 * 1024 * 1024
SCAN_MAX_SIDE = 6000
# Kept at most this size: a signature's box in the dossier is a few centimetres wide.
SCAN_KEPT = (1200, 600)
JPEG_MAGIC = b"\xff\xd8\xff"


def clean_scan(data: bytes) -> CleanImage:
    """Accept a JPEG or PNG by its content (not its name), decode it, and keep only its pixels,
    shrunk to fit SCAN_KEPT, as a fresh PNG on white: no metadata (EXIF, GPS, profiles,
    comments) survives."""
    if len(data) > SCAN_MAX_BYTES:
        raise InvalidImage("too large")
    if data.startswith(PNG_MAGIC):
        kind = "PNG"
        _check_chunks(data)
    elif data.startswith(JPEG_MAGIC):
        kind = "JPEG"
        # `import weasyprint` lets Pillow pad a cut-off file: refuse one without its end.
        if not data.rstrip(b"\x00\r\n").endswith(b"\xff\xd9"):
            raise DamagedPNG("cut off")
    else:
        raise NotPNG("neither JPEG nor PNG")
    try:
        with Image.open(io.BytesIO(data), formats=[kind]) as image:
            width, height = image.size
            if not (0 < width <= SCAN_MAX_SIDE and 0 < height <= SCAN_MAX_SIDE):
                raise InvalidImage("dimensions out of bounds")
            image.draft("RGB", SCAN_KEPT)  # JPEG: decode at a reduced size, cheaply
            image.load()
            pixels = image.convert("RGBA")
    except (OSError, SyntaxError, ValueError, Image.DecompressionBombError) as exc:
        raise DamagedPNG("undecodable") from exc
    fresh = Image.frombytes("RGBA", pixels.size, pixels.tobytes())
    fresh.thumbnail(SCAN_KEPT)
    on_white = Image.new("RGBA", fresh.size, (255, 255, 255, 255))
    on_white.alpha_composite(fresh)
    out = io.BytesIO()
    on_white.convert("RGB").save(out, format="PNG")
    return CleanImage(out.getvalue(), on_white.width, on_white.height)


def _check_chunks(data: bytes) -> None:
    """Walk a PNG's chunks (lengths and CRCs) up to IEND; the pixel data is checked by
    decoding (a scan may be larger than a drawn signature's bounds)."""
    position, last = len(PNG_MAGIC), b""
    while position + 12 <= len(data):
        length, kind = struct.unpack(">I4s", data[position : position + 8])
        end = position + 12 + length
        if end > len(data):
            raise DamagedPNG("cut off inside a chunk")
        if zlib.crc32(data[position + 4 : end - 4]) != struct.unpack(">I", data[end - 4 : end])[0]:
            raise DamagedPNG("bad chunk checksum")
        last, position = kind, end
        if kind == b"IEND":
            return
    if last != b"IEND":
        raise DamagedPNG("cut off before the end")
