"""Assemble PDF parts into one document and draw a footer on every page afterwards.

pikepdf (qpdf) does the merging: it copies pages and streams without parsing them in Python,
several times faster than pypdf and with a fraction of its memory on a document of a thousand
pages.
"""

from __future__ import annotations

import hashlib
import html
import re
from collections.abc import Iterator, Sequence
from contextlib import ExitStack
from dataclasses import dataclass
from io import BytesIO
from typing import BinaryIO

from pikepdf import Array, Dictionary, Name, Object, Page, Pdf, Stream, StreamDecodeLevel

# Distance from the bottom edge of the page to the footer's descenders.
FOOTER_BOTTOM_MM = 8
_MM = 72 / 25.4

FOOTER_SIZE_PT = 7.5
_FOOTER_COLOUR = "0.267 0.267 0.267"
_FOOTER_FONT = "/CampaignFooter"
_BFCHAR = re.compile(r"beginbfchar(.*?)endbfchar", re.S)
_BFCHAR_ENTRY = re.compile(r"<([0-9a-fA-F]{2,4})>\s*<([0-9a-fA-F]+)>")
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
    return Pdf.open(part)


def page_sizes(parts: Sequence[bytes | BinaryIO]) -> list[tuple[float, float]]:
    """Return the (width, height) in points of every page of parts (PDFs or their files)."""
    sizes = []
    for part in parts:
        with _open(part) as pdf:
            sizes.extend(_size(page) for page in pdf.pages)
    return sizes


def glyph_sample_document(text: str, *, language: str) -> str:
    """Return the HTML of a one-page document that sets every character of text once.

    The footers are drawn with the font WeasyPrint embeds for this page (its subset, its
    widths): laying out a page per footer would cost ten milliseconds a page. The characters
    are apart, so that no ligature or kerning pair replaces one of them.
    """
    characters = " ".join(sorted(set(text) - {" "}))
    return f"""<!DOCTYPE html>
<html lang="{html.escape(language)}">
<head>
<meta charset="utf-8">
<style>
@page {{ size: A4; margin: 10mm }}
p {{ font: {FOOTER_SIZE_PT}pt/1.2 "DejaVu Sans"; margin: 0 }}
</style>
</head>
<body>
<p>{html.escape(characters)} </p>
</body>
</html>
"""


@dataclass(frozen=True)
class _FooterFont:
    """The sample's font: its dictionary, the code of each character and its width."""

    font: Dictionary
    codes: dict[str, int]
    widths: dict[int, float]  # thousandths of the font size
    descent: float

    @classmethod
    def read(cls, sample: Pdf) -> _FooterFont:
        fonts = list(sample.pages[0].obj.Resources.get("/Font", Dictionary()).values())
        if len(fonts) != 1 or "/DescendantFonts" not in fonts[0]:
            raise ValueError("the glyph sample must set one composite font")
        font = fonts[0]
        descendant = font.DescendantFonts[0]
        codes = {}
        for bfchar in _BFCHAR.findall(font.ToUnicode.read_bytes().decode("latin-1")):
            for code, unicode in _BFCHAR_ENTRY.findall(bfchar):
                character = bytes.fromhex(unicode).decode("utf-16-be")
                if len(character) == 1:
                    codes[character] = int(code, 16)
        widths: dict[int, float] = {}
        entries = list(descendant.get("/W", []))
        index = 0
        while index < len(entries):
            first = int(entries[index])
            if isinstance(entries[index + 1], Array):
                for offset, width in enumerate(entries[index + 1]):
                    widths[first + offset] = float(width)
                index += 2
            else:
                for code in range(first, int(entries[index + 1]) + 1):
                    widths[code] = float(entries[index + 2])
                index += 3
        default = float(descendant.get("/DW", 1000))
        descent = float(descendant.FontDescriptor.get("/Descent", -200))
        return cls(
            font, codes, {code: widths.get(code, default) for code in codes.values()}, descent
        )

    def line(self, text: str, mediabox: tuple[float, float, float, float]) -> bytes:
        """Content-stream operators that draw text centred at the footer's height."""
        left, bottom, right, _top = mediabox
        try:
            codes = [self.codes[character] for character in text]
        except KeyError as missing:
            raise ValueError(f"the glyph sample has no {missing}") from None
        width = sum(self.widths[code] for code in codes) * FOOTER_SIZE_PT / 1000
        x = left + (right - left - width) / 2
        y = bottom + FOOTER_BOTTOM_MM * _MM - self.descent * FOOTER_SIZE_PT / 1000
        glyphs = "".join(f"{code:04x}" for code in codes)
        return (
            f"Q\n{_FOOTER_COLOUR} rg\nBT\n{_FOOTER_FONT} {FOOTER_SIZE_PT} Tf\n"
            f"1 0 0 1 {x:.3f} {y:.3f} Tm\n<{glyphs}> Tj\nET\n"
        ).encode()


def assemble(
    parts: Sequence[bytes | BinaryIO],
    footers: Sequence[str],
    glyph_sample: bytes,
    output: BinaryIO,
) -> None:
    """Concatenate parts (PDFs or their files; parts[0] is the host), draw footers[i] on page i.

    glyph_sample is the rendered glyph_sample_document() of the footers' characters. The
    document is written to output.
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
        footer_font = _FooterFont.read(sample)
        font = host.copy_foreign(footer_font.font)

        # The page's own contents run inside q ... Q: whatever graphics state they leave
        # (WeasyPrint flips the y axis and never restores it) cannot reach the footer.
        save = host.make_stream(b"q\n")
        for page, footer in zip(host.pages, footers, strict=True):
            if "/Resources" not in page.obj:
                page.obj.Resources = Dictionary()
            resources = page.obj.Resources
            if "/Font" not in resources:
                resources.Font = Dictionary()
            # WeasyPrint shares one resource dictionary between the pages of a part.
            resources.Font[_FOOTER_FONT] = font
            page.contents_add(save, prepend=True)
            page.contents_add(host.make_stream(footer_font.line(footer, _box(page))))

        _share_and_retag(host)
        # Only objects reachable from the trailer are written: the parts' catalogs are gone.
        host.save(output, compress_streams=True, stream_decode_level=StreamDecodeLevel.none)


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
