"""Assembling rendered parts into one PDF/A document and drawing footers afterwards."""

import io
import re
import subprocess
import zlib
from dataclasses import dataclass
from datetime import UTC
from pathlib import Path

import pikepdf
import pytest
from PIL import Image
from pypdf import PdfReader
from pypdf.generic import StreamObject

from campaign import pdf_merge
from campaign.pdf import PdfMetadata, RenderJob, render_pdf
from campaign.pdf_fetcher import PdfAttachment
from campaign.pdf_glyphs import glyph_sample_document
from campaign.pdf_merge import FOOTER_BOTTOM_MM, assemble, page_sizes
from campaign.pdf_workers import render_many

STATIC = Path(__file__).resolve().parent.parent / "static"
CSV = PdfAttachment("signatures.csv", "n,ФИО\n1,Анна\n".encode(), "Signatures")
A4 = (595.28, 841.89)


def png(seed: int) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (12, 6), (seed * 40 % 256, 90, 200)).save(buffer, "PNG")
    return buffer.getvalue()


def part(first: int, rows: int, *, landscape: bool = False, host: bool = False) -> RenderJob:
    """A table of signatories, 8 rows per page, with a distinct image per row."""
    size = "A4 landscape" if landscape else "A4"
    body = "".join(
        f"<tr><td>{n}</td><td>Подписант {n}</td><td><img src='app:///data/{n}.png'></td></tr>"
        for n in range(first, first + rows)
    )
    html = (
        f"<!DOCTYPE html><html lang=ru><head><style>@page {{ size: {size}; margin: 15mm }}"
        "body { font: 9pt 'DejaVu Sans' } tr { height: 20mm; break-inside: avoid }"
        "td { border: 0.5pt solid #999 } img { image-rendering: crisp-edges }</style></head>"
        f"<body><table>{body}</table></body></html>"
    )
    resources = {f"{n}.png": png(n) for n in range(first, first + rows)}
    if host:
        return RenderJob(
            html,
            resources,
            "pdf/a-3b",
            (CSV,),
            PdfMetadata("Досье «Обращение»", "Инициативная группа", "ru"),
        )
    return RenderJob(html, resources, "pdf/a-3b")


@dataclass
class Dossier:
    parts: list[bytes]
    sizes: list[tuple[float, float]]
    footers: list[str]
    sample: bytes
    pdf: bytes


def footer(page: int, total: int) -> str:
    return f"Страница {page} из {total} · снимок 3f9a-<b>&"


# What the glyph sample of footer() must hold: footer(0, 0), and the digits of other numbers.
FOOTER_CHARACTERS = footer(0, 0) + "0123456789"


def merged(parts, footer, glyphs) -> bytes:
    output = io.BytesIO()
    assert assemble(parts, footer, glyphs, output) == len(PdfReader(output).pages)
    return output.getvalue()


def sample(text: str) -> bytes:
    (pdf,) = render_many(
        [RenderJob(glyph_sample_document(text, language="ru"))],
        static_root=STATIC,
        processes=0,
        time_limit=0,
    )
    return pdf


@pytest.fixture(scope="module")
def dossier() -> Dossier:
    """Host (portrait), a landscape part and a portrait part, with footers drawn on them."""
    jobs = [part(1, 20, host=True), part(21, 10, landscape=True), part(31, 16)]
    parts = render_many(jobs, static_root=STATIC, processes=2, time_limit=120)
    sizes = page_sizes(parts)
    footers = [footer(n, len(sizes)) for n in range(1, len(sizes) + 1)]
    glyphs = sample(FOOTER_CHARACTERS)
    return Dossier(parts, sizes, footers, glyphs, merged(parts, footer, glyphs))


def poppler(*command: str) -> str:
    """Run a poppler tool; it must not complain on stderr."""
    result = subprocess.run(command, capture_output=True, text=True, check=True, timeout=120)
    assert result.stderr == ""
    return result.stdout


@pytest.fixture(scope="module")
def pdf_path(dossier, tmp_path_factory) -> str:
    path = tmp_path_factory.mktemp("dossier") / "dossier.pdf"
    path.write_bytes(dossier.pdf)
    return str(path)


def test_page_sizes_mix_portrait_and_landscape(dossier):
    counts = [len(PdfReader(io.BytesIO(p)).pages) for p in dossier.parts]
    assert all(count >= 2 for count in counts)
    portrait, landscape = pytest.approx(A4, abs=0.01), pytest.approx(A4[::-1], abs=0.01)
    assert dossier.sizes[: counts[0]] == [portrait] * counts[0]
    assert dossier.sizes[counts[0] : counts[0] + counts[1]] == [landscape] * counts[1]


def test_pages_are_concatenated_and_keep_their_sizes(dossier):
    reader = PdfReader(io.BytesIO(dossier.pdf))
    assert len(reader.pages) == sum(len(PdfReader(io.BytesIO(p)).pages) for p in dossier.parts)
    assert page_sizes([dossier.pdf]) == dossier.sizes


def test_each_page_shows_its_own_footer(dossier, pdf_path):
    pages = poppler("pdftotext", "-layout", pdf_path, "-").split("\f")[:-1]
    assert len(pages) == len(dossier.footers)
    for text, expected in zip(pages, dossier.footers, strict=True):
        assert expected in text
        assert len(re.findall(r"Страница \d+ из", text)) == 1
        assert "Подписант" in text


def test_footers_are_bottom_centred(dossier, pdf_path):
    bbox = poppler("pdftotext", "-bbox-layout", pdf_path, "-")
    pages = re.findall(r'<page width="([\d.]+)" height="([\d.]+)">(.*?)</page>', bbox, re.S)
    assert len(pages) == len(dossier.footers)
    for width, height, body in pages:
        lines = re.findall(
            r'<line xMin="([\d.]+)" yMin="([\d.]+)" xMax="([\d.]+)" yMax="([\d.]+)">(.*?)</line>',
            body,
            re.S,
        )
        footers = [line for line in lines if ">Страница<" in line[4]]
        assert len(footers) == 1
        x_min, _, x_max, y_max = (float(v) for v in footers[0][:4])
        assert (x_min + x_max) / 2 == pytest.approx(float(width) / 2, abs=1.5)
        # The bottom of the line box sits about 8 mm above the bottom edge.
        assert float(height) - y_max == pytest.approx(FOOTER_BOTTOM_MM * 72 / 25.4, abs=3)


def test_glyph_sample_is_escaped_and_sets_each_character_apart():
    html = glyph_sample_document("<script>x</script> & yy", language="ru")
    assert "<script>" not in html
    assert "<p>&amp; / &lt; &gt; c i p r s t x y </p>" in html


def test_footers_use_one_font_set_by_weasyprint(dossier, pdf_path):
    reader = PdfReader(io.BytesIO(dossier.pdf))
    footer_fonts = {
        page["/Resources"]["/Font"]["/CampaignFooter0"].get_object()["/BaseFont"]
        for page in reader.pages
    }
    assert len(footer_fonts) == 1
    assert footer_fonts.pop().endswith("+DejaVu-Sans")


def test_nothing_to_assemble_is_refused(dossier):
    with pytest.raises(ValueError, match="nothing to assemble"):
        merged([], footer, dossier.sample)


def test_a_character_missing_from_the_sample_is_refused(dossier):
    # Before any page is written when the footer's own text has it...
    with pytest.raises(ValueError, match="Ж"):
        merged(dossier.parts, lambda page, total: f"Ж {footer(page, total)}", dossier.sample)

    # ...and as the footers are drawn, when only some page's footer has it.
    def last_page_differs(page: int, total: int) -> str:
        return "Страница Ж" if page == total else footer(page, total)

    with pytest.raises(ValueError, match="Ж"):
        merged(dossier.parts, last_page_differs, dossier.sample)


def test_host_attachment_is_the_only_one(dossier):
    reader = PdfReader(io.BytesIO(dossier.pdf))
    assert reader.attachments == {"signatures.csv": [CSV.data]}
    catalog = reader.trailer["/Root"]
    assert len(catalog["/AF"]) == 1
    assert catalog["/AF"][0].get_object()["/AFRelationship"] == "/Data"
    names = catalog["/Names"]["/EmbeddedFiles"]["/Names"]
    assert names[1].get_object() == catalog["/AF"][0].get_object()


def test_host_document_level_metadata_survives(dossier):
    reader = PdfReader(io.BytesIO(dossier.pdf))
    catalog = reader.trailer["/Root"]
    assert reader.pdf_header == "%PDF-1.7"
    assert catalog["/Lang"] == "ru"
    assert catalog["/OutputIntents"][0]["/S"] == "/GTS_PDFA1"
    assert "/DestOutputProfile" in catalog["/OutputIntents"][0]
    xmp = reader.xmp_metadata
    raw = xmp.stream.get_data()
    assert b'pdfaid:part="3"' in raw
    assert b'pdfaid:conformance="B"' in raw
    info = reader.metadata
    assert info.title == xmp.dc_title["x-default"] == "Досье «Обращение»"
    assert info.author == xmp.dc_creator[0]
    assert info.producer == xmp.pdf_producer == "WeasyPrint 70.0"
    assert info.creation_date.astimezone(UTC).replace(tzinfo=None) == xmp.xmp_create_date
    assert info.modification_date.astimezone(UTC).replace(tzinfo=None) == xmp.xmp_modify_date
    assert b"pypdf" not in dossier.pdf


def test_all_fonts_are_embedded_with_distinct_subset_names(pdf_path):
    rows = poppler("pdffonts", pdf_path).splitlines()[2:]
    assert rows
    assert all(row.split()[-5] == "yes" for row in rows)
    # Identical subsets may be shared; different subsets never share a tagged name.
    reader = PdfReader(pdf_path)
    programs: dict[str, set[bytes]] = {}
    for pdf_page in reader.pages:
        for resources in _resources(pdf_page["/Resources"].get_object()):
            for font in resources.get("/Font", {}).get_object().values():
                descendant = font.get_object()["/DescendantFonts"][0].get_object()
                program = descendant["/FontDescriptor"]["/FontFile2"].get_object().get_data()
                programs.setdefault(descendant["/BaseFont"], set()).add(program)
    assert all(len(found) == 1 for found in programs.values())


def _resources(resources):
    yield resources
    for xobject in resources.get("/XObject", {}).get_object().values():
        xobject = xobject.get_object()
        if xobject.get("/Subtype") == "/Form" and "/Resources" in xobject:
            yield from _resources(xobject["/Resources"].get_object())


def test_identical_objects_are_stored_once(dossier):
    # Every part embeds the same sRGB profile (a stream with /N 3 and no /Subtype).
    reader = PdfReader(io.BytesIO(dossier.pdf))
    objects = [reader.get_object(idnum) for idnum in reader.xref[0]]
    profiles = [
        obj
        for obj in objects
        if isinstance(obj, StreamObject) and obj.get("/N") == 3 and "/Subtype" not in obj
    ]
    assert len(profiles) == 1


def test_poppler_renders_without_complaint(pdf_path, tmp_path):
    poppler("pdftoppm", "-r", "10", "-png", pdf_path, str(tmp_path / "page"))
    assert len(list(tmp_path.glob("page*.png"))) == len(PdfReader(pdf_path).pages)
    poppler("pdfinfo", pdf_path)


def content_ending_in_cr() -> bytes:
    """Page content whose compressed form ends in a carriage return (its checksum's last byte)."""
    for first in range(33, 127):
        for second in range(33, 127):
            data = b"0 0 m 10 10 l S\n% " + bytes([first, second]) + b"\n"
            if zlib.compress(data).endswith(b"\r"):
                return data
    raise AssertionError("no such content")


def test_no_stream_ends_in_a_carriage_return(dossier):
    # qpdf writes a line feed before "endstream": after a CR, a PDF/A validator reads CR LF as
    # the end of line and the stream as a byte shorter than its /Length.
    data = content_ending_in_cr()
    with pikepdf.new() as pdf:
        pdf.add_blank_page(page_size=(595, 842))
        stream = pdf.make_stream(b"")
        stream.write(zlib.compress(data), filter=pikepdf.Name.FlateDecode)
        pdf.pages[0].obj.Contents = stream
        out = io.BytesIO()
        pdf.save(out, compress_streams=False)
    part = out.getvalue()
    assert part.count(b"\r\nendstream") == 1  # the case at hand
    result = merged([dossier.parts[0], part], footer, dossier.sample)
    assert b"\r\nendstream" not in result
    with pikepdf.open(io.BytesIO(result)) as pdf:
        for item in pdf.objects:
            if isinstance(item, pikepdf.Stream):
                assert not item.read_raw_bytes().endswith(b"\r")
        contents = b"".join(s.read_bytes() for s in pdf.pages[-1].obj.Contents)
    assert data in contents


def test_footers_fall_back_to_weasyprint_when_the_glyph_sample_cannot_be_read(
    dossier, monkeypatch, tmp_path
):
    def unreadable(_sample):
        raise ValueError("the glyph sample must set composite fonts")

    monkeypatch.setattr(pdf_merge.Glyphs, "read", unreadable)
    with pytest.raises(ValueError, match="composite"):
        merged(dossier.parts, footer, dossier.sample)
    output = io.BytesIO()
    assemble(
        dossier.parts,
        footer,
        dossier.sample,
        output,
        footer_pages=lambda html: render_pdf(RenderJob(html=html), STATIC),
    )
    path = tmp_path / "fallback.pdf"
    path.write_bytes(output.getvalue())
    pages = poppler("pdftotext", "-layout", str(path), "-").split("\f")[:-1]
    assert len(pages) == len(dossier.footers)
    for text, expected in zip(pages, dossier.footers, strict=True):
        assert text.rstrip().splitlines()[-1].strip() == expected
    assert page_sizes([output.getvalue()]) == dossier.sizes


@pytest.mark.parametrize(
    ("counted", "message"),
    [(-1, "footers for more pages than that"), (+1, r"\d+ footers for \d+ pages")],
)
def test_the_fallbacks_footers_must_match_the_pages(dossier, monkeypatch, counted, message):
    # The fallback counts the pages before it lays the footers out; should the parts hold more
    # or fewer pages than counted, the merge stops rather than misplace a footer.
    def unreadable(_sample):
        raise ValueError("the glyph sample must set composite fonts")

    monkeypatch.setattr(pdf_merge.Glyphs, "read", unreadable)
    real_sizes = pdf_merge.page_sizes
    if counted < 0:
        monkeypatch.setattr(pdf_merge, "page_sizes", lambda parts: real_sizes(parts)[:-1])
    else:
        monkeypatch.setattr(pdf_merge, "page_sizes", lambda parts: [*real_sizes(parts), A4])
    with pytest.raises(ValueError, match=message):
        assemble(
            dossier.parts,
            footer,
            dossier.sample,
            io.BytesIO(),
            footer_pages=lambda html: render_pdf(RenderJob(html=html), STATIC),
        )


def test_parts_are_merged_one_at_a_time(dossier, monkeypatch):
    # Memory must not grow with the pages: the document is written part by part, and a part
    # is let go of before the next is opened (the host stays open: its catalog comes first).
    real_open, open_now, most = pdf_merge._open, [], 0

    class Counted:
        def __init__(self, part):
            self.pdf = real_open(part)

        def __enter__(self):
            nonlocal most
            open_now.append(self)
            most = max(most, len(open_now))
            return self.pdf.__enter__()

        def __exit__(self, *exc_info):
            open_now.remove(self)
            return self.pdf.__exit__(*exc_info)

    monkeypatch.setattr(pdf_merge, "_open", Counted)
    many = [dossier.parts[0], *[dossier.parts[1], dossier.parts[2]] * 5]
    count = len(page_sizes(many))
    pdf = merged(many, footer, dossier.sample)
    assert most == 2
    with pikepdf.open(io.BytesIO(pdf)) as document:
        assert len(document.pages) == count
        # Identical font programs are still written once, across all the parts.
        programs = {
            item.objgen: item.read_raw_bytes()
            for item in document.objects
            if isinstance(item, pikepdf.Dictionary) and "/FontFile2" in item
            for item in [item.FontFile2]
        }
        assert len(programs) == len(set(programs.values()))


def test_the_merged_file_reads_back_without_repairs(dossier, pdf_path):
    # qpdf warns of anything it had to repair (a wrong offset, a bad /Length).
    with pikepdf.open(pdf_path) as document:
        for item in document.objects:
            if isinstance(item, pikepdf.Stream):
                item.read_bytes()
        assert document.get_warnings() == []
        pages = list(document.pages)
        assert len(pages) == len(dossier.footers)
        assert all(page.obj.Parent.objgen == pages[0].obj.Parent.objgen for page in pages)
