"""Assemble PDF parts into one document and stamp a footer on every page afterwards."""

from __future__ import annotations

import hashlib
import html
import re
from collections.abc import Iterable, Sequence
from io import BytesIO

from pypdf import PageObject, PdfReader, PdfWriter
from pypdf.generic import (
    ArrayObject,
    DecodedStreamObject,
    DictionaryObject,
    FloatObject,
    IndirectObject,
    NameObject,
    PdfObject,
    StreamObject,
)

# Distance from the bottom edge of the page to the bottom of the footer line.
FOOTER_BOTTOM_MM = 8
_MM = 72 / 25.4
# A page and its stamp may differ by rounding (WeasyPrint works in CSS px, PDF in points).
_SIZE_TOLERANCE = 0.5

_STAMP_NAME = "CampaignStamp"
_SUBSET_TAG = re.compile(r"^/[A-Z]{6}\+")


def page_sizes(parts: Sequence[bytes]) -> list[tuple[float, float]]:
    """Return the (width, height) in points of every page of parts, in order."""
    sizes = []
    for part in parts:
        for page in PdfReader(BytesIO(part)).pages:
            box = page.mediabox
            sizes.append((float(box.width), float(box.height)))
    return sizes


def footer_document(
    footers: Sequence[str], sizes: Sequence[tuple[float, float]], *, language: str
) -> str:
    """Return the HTML of a stamp document: page i has size sizes[i] and shows footers[i]."""
    if len(footers) != len(sizes):
        raise ValueError(f"{len(footers)} footers for {len(sizes)} page sizes")
    # One named page per distinct size, so portrait and landscape pages can follow each other.
    names: dict[tuple[float, float], str] = {}
    for size in sizes:
        names.setdefault((round(size[0], 3), round(size[1], 3)), f"s{len(names)}")
    rules = []
    for (width, height), name in names.items():
        # The block is the page minus the footer's distance, its text sits at the block's bottom:
        # no overflow, hence exactly one page per block.
        rules.append(
            f"@page {name} {{ size: {width:.3f}pt {height:.3f}pt; margin: 0 }}\n"
            f".{name} {{ page: {name}; height: {height - FOOTER_BOTTOM_MM * _MM:.3f}pt }}"
        )
    pages = "\n".join(
        f'<div class="f {names[round(w, 3), round(h, 3)]}"><p>{html.escape(text)}</p></div>'
        for text, (w, h) in zip(footers, sizes, strict=True)
    )
    return f"""<!DOCTYPE html>
<html lang="{html.escape(language)}">
<head>
<meta charset="utf-8">
<style>
{chr(10).join(rules)}
html, body {{ margin: 0; padding: 0; background: none }}
.f {{ position: relative; margin: 0; break-before: page }}
.f:first-child {{ break-before: auto }}
.f p {{
  position: absolute; left: 0; right: 0; bottom: 0; margin: 0;
  text-align: center; font: 7.5pt/1.2 "DejaVu Sans"; color: #444;
}}
</style>
</head>
<body>
{pages}
</body>
</html>
"""


def assemble(parts: Sequence[bytes], stamps: Sequence[bytes]) -> bytes:
    """Concatenate parts (parts[0] is the host) and overlay stamp page i on final page i."""
    # Render every part with the host's pdf_variant (for PDF/A, WeasyPrint also flags each
    # annotation as printable). Only the host's document-level objects survive: the other parts
    # bring their pages, not their bookmarks, named destinations or metadata.
    if not parts:
        raise ValueError("nothing to assemble")
    readers = [PdfReader(BytesIO(part)) for part in parts]
    stamp_pages = [page for stamp in stamps for page in PdfReader(BytesIO(stamp)).pages]
    page_count = sum(len(reader.pages) for reader in readers)
    if len(stamp_pages) != page_count:
        raise ValueError(f"{len(stamp_pages)} stamp pages for {page_count} pages")

    # Cloning the host keeps its catalog (XMP metadata, OutputIntents, embedded files, /AF,
    # /Lang), Info and /ID. Its Info stays WeasyPrint's: pypdf only writes its own /Producer
    # into the fresh writer's Info, which the clone replaces (the orphan is dropped below),
    # so Info and XMP keep agreeing.
    writer = PdfWriter(clone_from=readers[0], keep_initial_header=True)
    for reader in readers[1:]:
        for page in reader.pages:
            writer.add_page(page)

    # Each stamp page becomes a Form XObject drawn after the page's own contents, which are
    # neither parsed nor rewritten: 0.15 s for 1,201 pages, where pypdf's merge_page parses
    # both content streams (2.9 ms a page, 3.5 s). The original contents run inside q ... Q, so
    # whatever graphics state they leave (WeasyPrint flips the y axis and never restores it)
    # cannot reach the stamp. (pypdf has no public way to add an indirect object.)
    save = writer._add_object(_stream(b"q\n"))
    fonts: dict[int, DictionaryObject] = {}
    for index, (page, stamp) in enumerate(zip(writer.pages, stamp_pages, strict=True)):
        form = _form_xobject(writer, page, stamp, index)
        name = _add_xobject(page, form, index)
        restore_and_stamp = writer._add_object(_stream(b"\nQ\n" + name.encode() + b" Do\n"))
        page[NameObject("/Contents")] = ArrayObject([save, *_contents(page), restore_and_stamp])
        for resources in (page.get("/Resources"), form.get_object()["/Resources"]):
            _collect_fonts(resources, fonts)

    # WeasyPrint names a subset after the font alone, so every part has its own "XXXXXX+DejaVu"
    # with different glyphs: retag each subset after its program, as viewers may match by name.
    for font in fonts.values():
        _retag(font)
    # Font programs, the ICC profile and equal images repeat in every part: keep one of each
    # (0.5 s for 1,201 pages; 60 profiles and 124 font programs became 1 and 5). This also drops
    # objects nothing refers to, such as the writer's own initial Info dictionary.
    writer.compress_identical_objects(remove_duplicates=True, remove_unreferenced=True)

    output = BytesIO()
    writer.write(output)
    return output.getvalue()


def _stream(data: bytes) -> DecodedStreamObject:
    stream = DecodedStreamObject()
    stream.set_data(data)
    return stream


def _contents(page: PageObject) -> list[PdfObject]:
    contents = page.get("/Contents")
    if contents is None:
        return []
    if isinstance(contents.get_object(), ArrayObject):
        return list(contents.get_object())
    return [contents]


def _form_xobject(
    writer: PdfWriter, page: PageObject, stamp: PageObject, index: int
) -> IndirectObject:
    page_box, stamp_box = page.mediabox, stamp.mediabox
    if (
        abs(float(page_box.width) - float(stamp_box.width)) > _SIZE_TOLERANCE
        or abs(float(page_box.height) - float(stamp_box.height)) > _SIZE_TOLERANCE
    ):
        raise ValueError(f"stamp page {index} does not have the size of page {index}")
    contents = stamp.get("/Contents")
    if contents is None:
        form: StreamObject = _stream(b"")
    elif isinstance(contents.get_object(), ArrayObject):
        form = _stream(b"\n".join(part.get_object().get_data() for part in contents.get_object()))
    else:
        # The stamp's content stream is used once: take it as it is, still compressed.
        form = contents.get_object().clone(writer)
    form[NameObject("/Type")] = NameObject("/XObject")
    form[NameObject("/Subtype")] = NameObject("/Form")
    form[NameObject("/BBox")] = ArrayObject(FloatObject(v) for v in stamp_box)
    # Put the stamp's lower left corner on the page's (both are 0 0 for WeasyPrint).
    form[NameObject("/Matrix")] = ArrayObject(
        FloatObject(v)
        for v in (
            1,
            0,
            0,
            1,
            float(page_box.left) - float(stamp_box.left),
            float(page_box.bottom) - float(stamp_box.bottom),
        )
    )
    resources = stamp.get("/Resources")
    form[NameObject("/Resources")] = (
        resources.clone(writer) if resources is not None else DictionaryObject()
    )
    return writer._add_object(form)


def _add_xobject(page: PageObject, form: IndirectObject, index: int) -> str:
    # WeasyPrint shares one resource dictionary between the pages of a part: a name per final
    # page keeps every page's stamp distinct in it.
    if "/Resources" not in page:
        page[NameObject("/Resources")] = DictionaryObject()
    resources = page["/Resources"].get_object()
    if "/XObject" not in resources:
        resources[NameObject("/XObject")] = DictionaryObject()
    xobjects = resources["/XObject"].get_object()
    name = f"/{_STAMP_NAME}{index}"
    while name in xobjects:
        name += "x"
    xobjects[NameObject(name)] = form
    return name


def _collect_fonts(resources: PdfObject | None, fonts: dict[int, DictionaryObject]) -> None:
    if resources is None:
        return
    font_dict = resources.get_object().get("/Font")
    if font_dict is None:
        return
    for font in font_dict.get_object().values():
        font = font.get_object()
        fonts.setdefault(id(font), font)


def _retag(font: DictionaryObject) -> None:
    descendants: Iterable[PdfObject] = font.get("/DescendantFonts") or [font]
    for descendant in descendants:
        descendant = descendant.get_object()
        descriptor = descendant.get("/FontDescriptor")
        if descriptor is None:
            continue
        descriptor = descriptor.get_object()
        program = next(
            (
                descriptor[key]
                for key in ("/FontFile2", "/FontFile3", "/FontFile")
                if key in descriptor
            ),
            None,
        )
        if program is None:
            continue
        digest = hashlib.sha256(program.get_object().get_data()).digest()
        tag = "".join(chr(65 + byte % 26) for byte in digest[:6])
        for owner, key in (
            (font, "/BaseFont"),
            (descendant, "/BaseFont"),
            (descriptor, "/FontName"),
        ):
            value = owner.get(key)
            if value is not None and _SUBSET_TAG.match(value):
                owner[NameObject(key)] = NameObject(f"/{tag}+{value[8:]}")
