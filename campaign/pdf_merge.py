"""Assemble PDF parts into one document and draw a footer on every page afterwards.

pikepdf (qpdf) reads the parts, one at a time; pdf_writer writes each part's objects out as
it goes, renumbered, so memory does not grow with the pages (qpdf writing the whole document
held every page's objects: 1.9 GB at 100,000 signatories, 6,250 pages).
"""

from __future__ import annotations

import hashlib
import html
import logging
import re
from collections.abc import Callable, Iterator, Sequence
from contextlib import ExitStack
from io import BytesIO
from typing import BinaryIO

from pikepdf import AccessMode, Array, Dictionary, Name, Object, Page, Pdf, Stream

from campaign.pdf_glyphs import Glyphs
from campaign.pdf_writer import ObjGen, PdfWriter

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


def _mappable(part: BinaryIO) -> bool:
    try:
        part.fileno()
    except OSError:  # io.UnsupportedOperation
        return False
    return True


def _open(part: bytes | BinaryIO) -> Pdf:
    if isinstance(part, bytes):
        return Pdf.open(BytesIO(part))
    part.seek(0)
    if isinstance(part, BytesIO):
        return Pdf.open(part)
    if not _mappable(part):  # (a part of a larger file): its bytes, while it is merged
        return Pdf.open(BytesIO(part.read()))
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


# What a footer may hold besides the characters of footer(0, 0): the digits of other numbers.
_DIGITS = "0123456789"


def assemble(
    parts: Sequence[bytes | BinaryIO],
    footer: Callable[[int, int], str],
    glyph_sample: bytes,
    output: BinaryIO,
    *,
    footer_pages: Callable[[str], bytes] | None = None,
) -> int:
    """Concatenate parts (PDFs or their files; parts[0] is the host), draw footer(n, total) on
    page n of total (from 1); return the number of pages.

    A footer's text differs from page to page by its numbers only. glyph_sample is the rendered
    glyph_sample_document() of footer(0, 0) and the digits. Should it not have the shape the
    footers are drawn from (a WeasyPrint upgrade), footer_pages, given footer_document()'s HTML,
    renders the footers as pages that are laid over the document's.
    The document is written to output part by part: one part's objects are in memory at once.
    The pages are not counted first: each page's footer is written once the last part is in.
    """
    # Render every part with the host's pdf_variant (for PDF/A, WeasyPrint also flags each
    # annotation as printable). Only the host's document-level objects survive: its catalog
    # (XMP metadata, OutputIntents, embedded files, /AF, /Lang), Info and /ID. The other parts
    # bring their pages, not their bookmarks, named destinations or metadata.
    if not parts:
        raise ValueError("nothing to assemble")
    # (Opening every part once more to count the pages first took a tenth of the merge: 0.6 to
    # 0.8 s at 6,400 pages. The caller discards the output of a failed merge.)
    with ExitStack() as stack:
        sample = stack.enter_context(Pdf.open(BytesIO(glyph_sample)))
        glyphs: Glyphs | None = None
        overlay: Pdf | None = None
        try:
            glyphs = Glyphs.read(sample)
            glyphs.width("".join(sorted(set(footer(0, 0) + _DIGITS))), FOOTER_SIZE_PT)
        except ValueError as reason:  # MissingGlyph too
            if footer_pages is None:
                raise
            log.warning("footers laid out by WeasyPrint: the glyph sample failed (%s)", reason)
            glyphs = None
            sizes = page_sizes(parts)
            footers = [footer(n, len(sizes)) for n in range(1, len(sizes) + 1)]
            overlay = stack.enter_context(
                Pdf.open(BytesIO(footer_pages(footer_document(footers, sizes))))
            )
        host = stack.enter_context(_open(parts[0]))
        merger = _Merger(PdfWriter(output, host.pdf_version), footer, glyphs, overlay, sample)
        catalog, info = host.trailer.Root, host.trailer.get("/Info")
        merger.add(host, [catalog] if info is None else [catalog, info])
        numbers = merger.numbers
        document_id = host.trailer.ID.unparse() if "/ID" in host.trailer else None
        root = numbers[catalog.objgen]
        info_number = None if info is None else numbers[info.objgen]
        for part in parts[1:]:
            with _open(part) as pdf:
                merger.add(pdf)
        merger.finish(root, info_number, document_id)
        return len(merger.kids)


class _Merger:
    """The document being assembled: each part's pages and what they use, written in turn."""

    def __init__(
        self,
        writer: PdfWriter,
        footer: Callable[[int, int], str],
        glyphs: Glyphs | None,
        overlay: Pdf | None,
        sample: Pdf,
    ) -> None:
        self.writer = writer
        self.footer = footer
        self.glyphs = glyphs
        self.overlay = overlay
        self.page_tree = writer.reserve()
        self.kids: list[int] = []
        # Each page's footer line: its object number and the page's box, written by finish.
        self.lines: list[tuple[int, tuple[float, float, float, float]]] = []
        # Font programs and colour profiles written, by digest: each is written once.
        self.shared: dict[bytes, int] = {}
        self.numbers: dict[ObjGen, int] = {}  # the last part's
        # The page's own contents run inside q ... Q: whatever graphics state they leave
        # (WeasyPrint flips the y axis and never restores it) cannot reach the footer.
        self.save = self._stream(b"q\n")
        self.restore = self._stream(b"Q\n")
        self.fonts: dict[str, int] = {}
        if glyphs is not None:
            self.fonts = self._footer_fonts(glyphs, sample)

    def _stream(self, data: bytes) -> int:
        number = self.writer.reserve()
        self.writer.write_stream(number, data)
        return number

    def _footer_fonts(self, glyphs: Glyphs, sample: Pdf) -> dict[str, int]:
        numbers: dict[ObjGen, int] = {}
        programs: dict[bytes, Stream] = {}
        for font in glyphs.fonts:
            _share_font_program(font, programs)
        written = self.writer.copy(sample, glyphs.fonts, numbers)
        fonts = {f"{_FOOTER_FONT}{index}": number for index, number in enumerate(written)}
        for digest, program in programs.items():
            self.shared.setdefault(digest, numbers[program.objgen])
        return fonts

    def add(self, pdf: Pdf, document_level: Sequence[Object] = ()) -> None:
        """Write a part's pages (with their footers) and what they use; document_level too."""
        numbers: dict[ObjGen, int] = {}
        nodes = [pdf.Root.Pages]
        while nodes:
            node = nodes.pop()
            numbers[node.objgen] = self.page_tree
            nodes.extend(kid for kid in node.get("/Kids", ()) if kid.get("/Type") == Name.Pages)
        pages = list(pdf.pages)
        if self.overlay is not None and len(self.kids) + len(pages) > len(self.overlay.pages):
            raise ValueError(f"{len(self.overlay.pages)} footers for more pages than that")
        # Objects of this part that stand for objects already written.
        save = _stand_in(pdf.make_stream(b""), numbers, self.save)
        restore = _stand_in(pdf.make_stream(b""), numbers, self.restore)
        fonts = {
            name: _stand_in(pdf.make_indirect(Dictionary()), numbers, number)
            for name, number in self.fonts.items()
        }
        # One stream stands for each page's footer line, written by finish: cheaper than
        # making a stream per page in the part, filling it and copying it out again.
        footer = pdf.make_stream(b"")
        lines: dict[ObjGen, dict[ObjGen, int]] = {}
        for position, page in enumerate(pages):
            _inherit(page)
            if "/Resources" not in page.obj:
                page.obj.Resources = Dictionary()
            page.contents_add(save, prepend=True)
            if self.glyphs is None:
                assert self.overlay is not None
                page.contents_add(restore)
                page.add_overlay(self.overlay.pages[len(self.kids) + position])
                continue
            resources = page.obj.Resources
            if "/Font" not in resources:
                resources.Font = Dictionary()
            # WeasyPrint shares one resource dictionary between the pages of a part.
            for name, font in fonts.items():
                resources.Font[name] = font
            page.contents_add(footer)
            line = self.writer.reserve()
            self.lines.append((line, _box(page)))
            lines[page.obj.objgen] = {footer.objgen: line}
        kept = _share_and_retag(pages)
        for objgen, digest in kept.items():
            if digest in self.shared:
                numbers[objgen] = self.shared[digest]
        # The part's page tree nodes stand for the document's: each page's /Parent becomes it.
        self.writer.copy(pdf, [*(page.obj for page in pages), *document_level], numbers, lines)
        for objgen, digest in kept.items():
            self.shared.setdefault(digest, numbers[objgen])
        self.kids.extend(numbers[page.obj.objgen] for page in pages)
        self.numbers = numbers

    def finish(self, root: int, info: int | None, document_id: bytes | None) -> None:
        """Write the footer lines, the page tree, the cross-reference table and the trailer."""
        total = len(self.kids)
        if self.overlay is not None and len(self.overlay.pages) != total:
            raise ValueError(f"{len(self.overlay.pages)} footers for {total} pages")
        if self.glyphs is not None:
            for page, (number, box) in enumerate(self.lines, start=1):
                line = _footer_line(self.glyphs, self.footer(page, total), box)
                self.writer.write_stream(number, line)
        kids = b" ".join(b"%d 0 R" % kid for kid in self.kids)
        self.writer.write_raw(
            self.page_tree, b"<</Type /Pages /Count %d /Kids [%s]>>" % (len(self.kids), kids)
        )
        self.writer.finish(root, info, document_id)


def _stand_in(item: Object, numbers: dict[ObjGen, int], number: int) -> Object:
    """Have an (empty) object of a part stand for object number of the output, written already."""
    numbers[item.objgen] = number
    return item


_INHERITED = ("/Resources", "/MediaBox", "/CropBox", "/Rotate")


def _inherit(page: Page) -> None:
    """Copy onto the page the attributes it inherits from its page tree, which is replaced."""
    for key in _INHERITED:
        if key in page.obj:
            continue
        node = page.obj.get("/Parent")
        while node is not None:
            if key in node:
                page.obj[key] = node[key]
                break
            node = node.get("/Parent")


def _resources(resources: Object | None) -> Iterator[Dictionary]:
    """Yield a resource dictionary and those of the Form XObjects it uses, recursively."""
    if resources is None:
        return
    yield resources
    for xobject in resources.get("/XObject", Dictionary()).values():
        if xobject.get("/Subtype") == "/Form":
            yield from _resources(xobject.get("/Resources"))


def _share_and_retag(pages: Sequence[Page]) -> dict[ObjGen, bytes]:
    """Keep one copy of each repeated font program and colour profile; retag font subsets.

    Every part embeds the sRGB profile and its own subsets of the same fonts. WeasyPrint names
    a subset after the font alone, so two parts' different "XXXXXX+DejaVu" subsets would share
    a name, and viewers may match fonts by name: each subset is retagged after its program.
    Return the digests of the programs and profiles kept (for the parts after this one).
    """
    programs: dict[bytes, Stream] = {}
    profiles: dict[bytes, Stream] = {}
    fonts_done: set[tuple[int, int]] = set()
    spaces_done: set[tuple[int, int]] = set()
    for page in pages:
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
    kept = {**programs, **profiles}
    return {stream.objgen: digest for digest, stream in kept.items() if stream.is_indirect}


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
