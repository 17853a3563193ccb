"""Drawn signatures: only a small, real PNG gets through, and only its pixels are kept."""

import base64
import io
import os
import random
import struct

import pytest
from PIL import Image
from PIL.PngImagePlugin import PngInfo

from campaign.signatures.images import (
    MAX_BYTES,
    PNG_MAGIC,
    InvalidImage,
    clean_png,
    decode_data_url,
    encode_png,
)
from tests.signatures.conftest import data_url, png_bytes

SECRET_TEXT = "tracker-9f3c1e-do-not-keep"


def encode(image, fmt="PNG", **save):
    out = io.BytesIO()
    image.save(out, format=fmt, **save)
    return out.getvalue()


def blank_png(width, height):
    return encode(Image.new("L", (width, height), 255))


def test_a_real_png_is_re_encoded():
    original = png_bytes(300, 100)

    clean = clean_png(original)

    assert clean.png.startswith(PNG_MAGIC)
    assert (clean.width, clean.height) == (300, 100)
    with Image.open(io.BytesIO(clean.png)) as image:
        assert image.format == "PNG"
        assert image.size == (300, 100)
        # The pixels survive re-encoding, painted onto white: no transparency is left.
        image.load()
        assert image.mode == "RGB"
        assert "transparency" not in image.info
        with Image.open(io.BytesIO(original)) as before:
            expected = Image.new("RGBA", before.size, (255, 255, 255, 255))
            expected.alpha_composite(before.convert("RGBA"))
            assert image.tobytes() == expected.convert("RGB").tobytes()
        assert image.getpixel((0, 0)) == (255, 255, 255)  # transparent in the upload
        assert image.getpixel((60, 20)) == (0, 0, 0)  # the ink


def test_text_chunks_are_dropped():
    info = PngInfo()
    info.add_text("Comment", SECRET_TEXT)
    original = png_bytes(200, 80, pnginfo=info)
    assert SECRET_TEXT.encode() in original  # the chunk really is in the upload

    clean = clean_png(original)

    assert SECRET_TEXT.encode() not in clean.png
    with Image.open(io.BytesIO(clean.png)) as image:
        assert image.size == (200, 80)
        assert "Comment" not in image.info
        assert not getattr(image, "text", {})


def test_trailing_data_is_dropped():
    clean = clean_png(png_bytes(120, 60) + SECRET_TEXT.encode())

    assert SECRET_TEXT.encode() not in clean.png


def test_a_png_at_the_largest_allowed_size_is_accepted():
    clean = clean_png(blank_png(2000, 1000))

    assert (clean.width, clean.height) == (2000, 1000)


def test_a_data_url_round_trip():
    original = png_bytes()

    assert decode_data_url(data_url(original)) == original


@pytest.mark.parametrize(
    "data",
    [
        pytest.param(encode(Image.new("RGB", (50, 20), "white"), "GIF"), id="gif"),
        pytest.param(
            b'<svg xmlns="http://www.w3.org/2000/svg" width="300" height="100">'
            b'<path d="M10 80 L60 20"/></svg>',
            id="svg",
        ),
        pytest.param(os.urandom(2048), id="random-bytes"),
        pytest.param(b"", id="empty"),
        pytest.param(PNG_MAGIC, id="magic-only"),
    ],
)
def test_what_is_not_a_png_is_refused(data):
    with pytest.raises(InvalidImage):
        clean_png(data)


def test_a_truncated_png_is_refused():
    whole = png_bytes(300, 100)

    with pytest.raises(InvalidImage):
        clean_png(whole[: len(whole) // 2])


def test_a_png_over_100_kb_is_refused():
    noise = random.Random(1).randbytes(1900 * 950)
    data = encode(Image.frombytes("L", (1900, 950), noise))
    assert len(data) > MAX_BYTES == 100 * 1024

    with pytest.raises(InvalidImage):
        clean_png(data)


@pytest.mark.parametrize("size", [(2001, 100), (100, 1001)], ids=["too-wide", "too-tall"])
def test_a_png_too_large_in_pixels_is_refused(size):
    data = blank_png(*size)
    assert len(data) <= MAX_BYTES  # refused for its dimensions, not its weight

    with pytest.raises(InvalidImage):
        clean_png(data)


def test_a_header_claiming_huge_dimensions_is_refused_before_decoding(monkeypatch):
    data = bytearray(png_bytes(300, 100))
    assert data[12:16] == b"IHDR"
    data[16:24] = struct.pack(">II", 20000, 20000)

    def no_decoding(*args, **kwargs):
        raise AssertionError("the image was handed to the decoder")

    monkeypatch.setattr(Image, "open", no_decoding)
    with pytest.raises(InvalidImage):
        clean_png(bytes(data))


def test_a_header_disagreeing_with_the_image_is_refused():
    data = bytearray(png_bytes(300, 100))
    data[16:24] = struct.pack(">II", 400, 100)  # within bounds, but not what the data holds

    with pytest.raises(InvalidImage):
        clean_png(bytes(data))


def test_a_data_url_of_another_type_is_refused():
    gif = encode(Image.new("RGB", (50, 20), "white"), "GIF")

    with pytest.raises(InvalidImage):
        decode_data_url("data:image/gif;base64," + base64.b64encode(gif).decode())


def test_a_data_url_claiming_png_with_another_media_type_spelling_is_refused():
    with pytest.raises(InvalidImage):
        decode_data_url("data:image/svg+xml;base64," + base64.b64encode(b"<svg/>").decode())


@pytest.mark.parametrize(
    "payload",
    ["not base64 at all!", "iVBORw0KGgo*AAAA", "iVBORw0KGgo"],
    ids=["punctuation", "bad-character", "bad-padding"],
)
def test_bad_base64_is_refused(payload):
    with pytest.raises(InvalidImage):
        decode_data_url("data:image/png;base64," + payload)


def test_a_data_url_over_the_size_limit_is_refused():
    payload = base64.b64encode(PNG_MAGIC + b"\0" * (MAX_BYTES + 1)).decode()

    with pytest.raises(InvalidImage):
        decode_data_url("data:image/png;base64," + payload)


def test_a_truncated_png_is_refused_even_after_weasyprint_is_imported():
    # WeasyPrint sets Pillow's LOAD_TRUNCATED_IMAGES globally when imported.
    import weasyprint  # noqa: F401
    from PIL import ImageFile

    assert ImageFile.LOAD_TRUNCATED_IMAGES
    whole = png_bytes(300, 100)
    with pytest.raises(InvalidImage):
        clean_png(whole[:-20])


def _crc_fixed_header(png, width, height):
    import zlib

    data = bytearray(png)
    data[16:24] = struct.pack(">II", width, height)
    data[29:33] = struct.pack(">I", zlib.crc32(bytes(data[12:29])))
    return bytes(data)


def test_a_header_larger_or_smaller_than_its_data_is_damaged():
    # Pillow, under WeasyPrint's LOAD_TRUNCATED_IMAGES, would pad the missing rows silently.
    from campaign.signatures.images import DamagedPNG

    for height in (200, 50):
        with pytest.raises(DamagedPNG):
            clean_png(_crc_fixed_header(png_bytes(300, 100), 300, height))


def test_an_end_marker_hidden_in_a_text_chunk_does_not_make_a_cut_file_whole():
    import zlib

    from campaign.signatures.images import DamagedPNG

    original = png_bytes(300, 100)
    body = b"Comment\x00IEND\xaeB`\x82"
    text = (
        struct.pack(">I", len(body))
        + b"tEXt"
        + body
        + struct.pack(">I", zlib.crc32(b"tEXt" + body))
    )
    idat = original.index(b"IDAT") - 4
    with pytest.raises(DamagedPNG):
        clean_png(original[:idat] + text + original[idat : idat + 40])


def test_a_corrupted_chunk_is_damaged_and_another_format_is_not_a_png():
    from campaign.signatures.images import DamagedPNG, NotPNG

    corrupted = bytearray(png_bytes(300, 100))
    corrupted[60] ^= 0xFF
    with pytest.raises(DamagedPNG):
        clean_png(bytes(corrupted))
    with pytest.raises(NotPNG):
        clean_png(encode(Image.new("RGB", (10, 10)), "JPEG"))


@pytest.mark.parametrize("mode", ["RGBA", "RGB", "L", "LA", "P", "1", "I;16"])
def test_every_pixel_format_passes_the_strict_check(mode):
    clean = clean_png(encode(Image.new(mode, (123, 45))))
    assert (clean.width, clean.height) == (123, 45)


def test_the_png_written_keeps_every_pixel_and_is_embedded_as_it_is():
    from campaign.pdf import plain_png_idat

    rng = random.Random(7)
    pixels = bytes(rng.choice((0, 40, 255)) for _ in range(37 * 11 * 3))
    image = Image.frombytes("RGB", (37, 11), pixels)
    for level in (4, 6):
        png = encode_png(image, level)
        with Image.open(io.BytesIO(png)) as decoded:
            assert (decoded.mode, decoded.size) == ("RGB", (37, 11))
            assert decoded.tobytes() == pixels
        assert plain_png_idat(png) is not None
        assert clean_png(png).png == encode_png(image)


def test_a_png_deflated_by_run_lengths_holds_the_same_pixels():
    import zlib

    from campaign.demo_drawing import draw_signature
    from campaign.pdf_images import plain_png_idat

    drawn = Image.open(io.BytesIO(draw_signature(7))).convert("RGB")
    default = encode_png(drawn, level=4)
    by_runs = encode_png(drawn, level=4, strategy=zlib.Z_RLE)
    assert by_runs != default
    assert Image.open(io.BytesIO(by_runs)).tobytes() == drawn.tobytes()
    assert Image.open(io.BytesIO(default)).tobytes() == drawn.tobytes()
    assert plain_png_idat(by_runs) is not None  # the dossier embeds it as it is
