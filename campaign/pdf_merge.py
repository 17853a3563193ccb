"""Assemble PDF parts into one document and draw a footer on every page afterwards.

pikepdf (qpdf) does the merging: it copies pages and streams without parsing them in Python,
several times faster than pypdf and with a fraction of its memory on a document of a thousand
pages.
"""

from __future__ import annotations

import base64
import hashlib
import html
import logging
import re
import zlib
from collections.abc import Callable, Iterator, Sequence
from contextlib import ExitStack
from io import BytesIO
from typing import BinaryIO

from pikepdf import (
    AccessMode,
    Array,
    Dictionary,
    Name,
    Object,
    ObjectStreamMode,
    Page,
    Pdf,
    Stream,
    StreamDecodeLevel,
)

from campaign.pdf_glyphs import Glyphs

log = logging.getLogger(__name__)

# Distance from the bottom edge of the page to the footer's descenders.
FOOTER_BOTTOM_MM = 8
_MM = 72 / 25.4

FOOTER_SIZE_PT = 7.5
_FOOTER_COLOUR = "0.267 0.267 0.267"
_FOOTER_FONT = "/CampaignFooter"
_SUBSET_TAG = re.compile(r"^/[A-Z]{6}\+")
_FONT_PROGRAMS = ("/FontFile2", "/FontFile3", "/FontFile")


def _box(page: Page) -> tuple[float, float, float, float]:
    left, bottom, right, top = (float(value) for value in page.mediabox)
    return left, bottom, right, top


def _size(page: Page) -> tuple[float, float]:
    left, bottom, right, top = _box(page)
    return right - left, top - bottom


def _open(part: bytes | BinaryIO) -> Pdf:
    if isinstance(part, bytes):
        return Pdf.open(BytesIO(part))
    part.seek(0)
    if isinstance(part, BytesIO):
        return Pdf.open(part)
    # A file is mapped: read through Python's file object, merging 1,300 pages from 200 files
    # took three times as long (1.3 s instead of 0.45 s).
    return Pdf.open(part, access_mode=AccessMode.mmap)


def page_sizes(parts: Sequence[bytes | BinaryIO]) -> list[tuple[float, float]]:
    """Return the (width, height) in points of every page of parts (PDFs or their files)."""
    sizes = []
    for part in parts:
        with _open(part) as pdf:
            sizes.extend(_size(page) for page in pdf.pages)
    return sizes


def _footer_line(glyphs: Glyphs, text: str, mediabox: tuple[float, float, float, float]) -> bytes:
    """Content-stream operators that draw text centred at the footer's height."""
    left, bottom, right, _top = mediabox
    width = glyphs.width(text, FOOTER_SIZE_PT)
    x = left + (right - left - width) / 2
    y = bottom + FOOTER_BOTTOM_MM * _MM - glyphs.descent * FOOTER_SIZE_PT / 1000
    names = (f"{_FOOTER_FONT}{index}" for index in range(len(glyphs.fonts)))
    drawn = glyphs.show(text, FOOTER_SIZE_PT, x, y, names)
    return f"Q\n{_FOOTER_COLOUR} rg\n{drawn}".encode()


def footer_document(footers: Sequence[str], sizes: Sequence[tuple[float, float]]) -> str:
    """Return the HTML of pages of the given sizes (points), each with its footer only.

    The fallback of assemble's footers, laid out by WeasyPrint like any page.
    """
    kinds = {size: f"s{number}" for number, size in enumerate(dict.fromkeys(sizes))}
    rules = "".join(
        f"@page {name} {{ size: {width:.3f}pt {height:.3f}pt; margin: 0 }}\n"
        f".{name} {{ page: {name}; height: {height:.3f}pt }}\n"
        for (width, height), name in kinds.items()
    )
    pages = "".join(
        f'<div class="page {kinds[size]}"><p>{html.escape(footer)}</p></div>\n'
        for footer, size in zip(footers, sizes, strict=True)
    )
    return f"""<!DOCTYPE html>
<html><head><meta charset="utf-8"><style>
{rules}body {{ margin: 0 }}
.page {{ position: relative; break-after: page }}
p {{ position: absolute; left: 0; right: 0; bottom: {FOOTER_BOTTOM_MM}mm; margin: 0;
  text-align: center; font: {FOOTER_SIZE_PT}pt/1 "DejaVu Sans"; color: #444 }}
</style></head><body>
{pages}</body></html>
"""


def assemble(
    parts: Sequence[bytes | BinaryIO],
    footers: Sequence[str],
    glyph_sample: bytes,
    output: BinaryIO,
    *,
    footer_pages: Callable[[str], bytes] | None = None,
) -> None:
    """Concatenate parts (PDFs or their files; parts[0] is the host), draw footers[i] on page i.

    glyph_sample is the rendered glyph_sample_document() of the footers' characters. Should it
    not have the shape the footers are drawn from (a WeasyPrint upgrade), footer_pages, given
    footer_document()'s HTML, renders the footers as pages that are laid over the document's.
    The document is written to output.
    """
    # Render every part with the host's pdf_variant (for PDF/A, WeasyPrint also flags each
    # annotation as printable). Only the host's document-level objects survive: its catalog
    # (XMP metadata, OutputIntents, embedded files, /AF, /Lang), Info and /ID. The other parts
    # bring their pages, not their bookmarks, named destinations or metadata.
    if not parts:
        raise ValueError("nothing to assemble")
    with ExitStack() as stack:
        # qpdf copies foreign streams lazily: every source stays open until the file is written.
        host = stack.enter_context(_open(parts[0]))
        for part in parts[1:]:
            host.pages.extend(stack.enter_context(_open(part)).pages)
        if len(footers) != len(host.pages):
            raise ValueError(f"{len(footers)} footers for {len(host.pages)} pages")
        sample = stack.enter_context(Pdf.open(BytesIO(glyph_sample)))
        try:
            glyphs = Glyphs.read(sample)
            lines = [
                _footer_line(glyphs, footer, _box(page))
                for page, footer in zip(host.pages, footers, strict=True)
            ]
        except ValueError as reason:  # MissingGlyph too
            if footer_pages is None:
                raise
            log.warning("footers laid out by WeasyPrint: the glyph sample failed (%s)", reason)
            sizes = [_size(page) for page in host.pages]
            overlay = stack.enter_context(
                Pdf.open(BytesIO(footer_pages(footer_document(footers, sizes))))
            )
            save, restore = _flate_stream(host, b"q\n"), _flate_stream(host, b"Q\n")
            for page, footer_page in zip(host.pages, overlay.pages, strict=True):
                # As below: the page's graphics state cannot reach the footer.
                page.contents_add(save, prepend=True)
                page.contents_add(restore)
                page.add_overlay(footer_page)
        else:
            _draw_footers(host, glyphs, lines)

        _share_and_retag(host)
        _no_stream_ends_in_cr(host)
        # Only objects reachable from the trailer are written: the parts' catalogs are gone.
        # No object streams: qpdf compresses them (and an xref stream) as it writes, beyond
        # the reach of _no_stream_ends_in_cr (measured: files 7-15 % larger). Every stream is
        # compressed already (our own by _flate_stream): qpdf compressing would also strip
        # the ASCII85 layers again.
        host.save(
            output,
            compress_streams=False,
            stream_decode_level=StreamDecodeLevel.none,
            object_stream_mode=ObjectStreamMode.disable,
        )


def _flate_stream(pdf: Pdf, data: bytes) -> Stream:
    # Compressed here, not by qpdf as it writes: _no_stream_ends_in_cr sees the final bytes.
    stream = pdf.make_stream(b"")
    stream.write(zlib.compress(data), filter=Name.FlateDecode)
    return stream


def _no_stream_ends_in_cr(pdf: Pdf) -> None:
    """Re-encode the streams whose data ends in a carriage return (about one in 256).

    qpdf writes a line feed before "endstream"; after a CR, readers and PDF/A validators take
    the pair for one end of line, and the stream for a byte shorter than its /Length (a PDF/A
    violation, ISO 19005-2 6.1.7.1). Recompressing cannot help: a zlib stream ends with the
    checksum of its data. An ASCII85 layer over the existing filters ends in "~>" instead.
    """
    for item in pdf.objects:
        if not isinstance(item, Stream):
            continue
        raw = item.read_raw_bytes()
        if not raw.endswith(b"\r"):
            continue
        filters = item.get("/Filter")
        parameters = item.get("/DecodeParms")
        if filters is None:
            filters = []
        elif isinstance(filters, Name):
            filters = [filters]
        if isinstance(parameters, Dictionary):
            parameters = [parameters]
        # (qpdf refuses an empty dictionary for a filter without parameters: null it is.)
        kept = [p if isinstance(p, Dictionary) else None for p in parameters or ()]
        options = {"decode_parms": [None, *kept]} if any(kept) else {}
        item.write(base64.a85encode(raw) + b"~>", filter=[Name.ASCII85Decode, *filters], **options)


def _draw_footers(host: Pdf, glyphs: Glyphs, lines: Sequence[bytes]) -> None:
    fonts = {
        f"{_FOOTER_FONT}{index}": host.copy_foreign(font) for index, font in enumerate(glyphs.fonts)
    }
    # The page's own contents run inside q ... Q: whatever graphics state they leave
    # (WeasyPrint flips the y axis and never restores it) cannot reach the footer.
    save = _flate_stream(host, b"q\n")
    for page, line in zip(host.pages, lines, strict=True):
        if "/Resources" not in page.obj:
            page.obj.Resources = Dictionary()
        resources = page.obj.Resources
        if "/Font" not in resources:
            resources.Font = Dictionary()
        # WeasyPrint shares one resource dictionary between the pages of a part.
        for name, font in fonts.items():
            resources.Font[name] = font
        page.contents_add(save, prepend=True)
        page.contents_add(_flate_stream(host, line))


def _resources(resources: Object | None) -> Iterator[Dictionary]:
    """Yield a resource dictionary and those of the Form XObjects it uses, recursively."""
    if resources is None:
        return
    yield resources
    for xobject in resources.get("/XObject", Dictionary()).values():
        if xobject.get("/Subtype") == "/Form":
            yield from _resources(xobject.get("/Resources"))


def _share_and_retag(pdf: Pdf) -> None:
    """Keep one copy of each repeated font program and colour profile; retag font subsets.

    Every part embeds the sRGB profile and its own subsets of the same fonts. WeasyPrint names
    a subset after the font alone, so two parts' different "XXXXXX+DejaVu" subsets would share
    a name, and viewers may match fonts by name: each subset is retagged after its program.
    """
    programs: dict[bytes, Stream] = {}
    profiles: dict[bytes, Stream] = {}
    fonts_done: set[tuple[int, int]] = set()
    spaces_done: set[tuple[int, int]] = set()
    for page in pdf.pages:
        for resources in _resources(page.obj.get("/Resources")):
            for font in resources.get("/Font", Dictionary()).values():
                if font.is_indirect:
                    if font.objgen in fonts_done:
                        continue
                    fonts_done.add(font.objgen)
                _share_font_program(font, programs)
            spaces = resources.get("/ColorSpace")
            if spaces is None or (spaces.is_indirect and spaces.objgen in spaces_done):
                continue
            if spaces.is_indirect:
                spaces_done.add(spaces.objgen)
            for key, space in list(spaces.items()):
                if isinstance(space, Array) and len(space) == 2 and space[0] == "/ICCBased":
                    digest = hashlib.sha256(space[1].read_raw_bytes()).digest()
                    spaces[key] = [Name.ICCBased, profiles.setdefault(digest, space[1])]


def _share_font_program(font: Dictionary, programs: dict[bytes, Stream]) -> None:
    for descendant in font.get("/DescendantFonts") or [font]:
        descriptor = descendant.get("/FontDescriptor")
        if descriptor is None:
            continue
        key = next((key for key in _FONT_PROGRAMS if key in descriptor), None)
        if key is None:
            continue
        raw = descriptor[key].read_raw_bytes()
        digest = hashlib.sha256(raw).digest()
        descriptor[key] = programs.setdefault(digest, descriptor[key])
        tag = "".join(chr(65 + byte % 26) for byte in digest[:6])
        for owner, name in (
            (font, "/BaseFont"),
            (descendant, "/BaseFont"),
            (descriptor, "/FontName"),
        ):
            value = owner.get(name)
            if value is not None and _SUBSET_TAG.match(str(value)):
                owner[name] = Name(f"/{tag}+{str(value)[8:]}")
