"""Tables drawn straight into PDF pages: pages cut from exact heights, header, text, images."""

import io
import subprocess
from contextlib import ExitStack
from dataclasses import replace

import pytest
from pikepdf import Pdf
from PIL import Image

from campaign import ROOT
from campaign.pdf import RenderJob, render_pdf
from campaign.pdf_glyphs import SANS, FontStyle, Glyphs, glyph_sample_document, wrap
from campaign.pdf_images import plain_png
from campaign.pdf_table_painter import TableJob
from campaign.pdf_tables import (
    MM,
    Box,
    Column,
    NotDrawable,
    Picture,
    TableStyle,
    Text,
    fonts_used,
    lay_out,
    lay_out_pages,
)
from tests.dossiers.pdftools import flat, image_count, page_texts

BOLD = FontStyle("DejaVu Sans", bold=True)
LETTERS = ".абвгдежзийклмнопрстуфхцчшыьэюяАБВГДЕЖЗИКЛМНОПРСТУФХЦЧШЭЮЯ0123456789-№ \u00a0\u0627"


@pytest.fixture(scope="module")
def samples():
    return {
        style: render_pdf(
            RenderJob(glyph_sample_document(LETTERS, language="ru", style=style)), ROOT / "static"
        )
        for style in (SANS, BOLD)
    }


@pytest.fixture(scope="module")
def glyphs(samples):
    with ExitStack() as stack:
        yield {
            style: Glyphs.read(stack.enter_context(Pdf.open(io.BytesIO(data))))
            for style, data in samples.items()
        }


def png(colour, mode="RGB", size=(300, 100)):
    out = io.BytesIO()
    Image.new(mode, size, colour).save(out, format="PNG")
    return out.getvalue()


def style(heading=()):
    return TableStyle(
        page=(210.0, 297.0),
        margins=(14.0, 12.0, 18.0, 12.0),
        columns=(Column(10, "right"), Column(120), Column(56, white=True, padding=(0.0, 1.0))),
        header=tuple(Text(label, BOLD, 7.5) for label in ("№", "Имя", "Подпись")),
        min_row=8.0,
        heading=heading,
    )


def name(number):
    # Some names long enough to wrap over two or three lines of the column.
    return f"Имя{number} " + "Фамилия " * (number % 23)


def rows(count, image=None):
    return [
        (
            (Text(str(n), SANS, 8),),
            (Text(name(n), SANS, 8), Text(f"Город{n}", SANS, 6.8)),
            (Picture("img", 10, 25),) if image else (),
        )
        for n in range(1, count + 1)
    ]


def test_rows_are_cut_into_whole_pages_each_with_the_header(samples, glyphs):
    table = style()
    pages = lay_out(rows(150), table, glyphs, {})
    body = (297 - 14 - 18) * MM
    assert len(pages) > 3
    for page in pages:
        assert page.rows
        assert sum(row.height for row in page.rows) <= body
    pdf = TableJob(tuple(pages), table, samples).draw()
    texts = page_texts(pdf)
    assert len(texts) == len(pages)
    seen = []
    for text, page in zip(texts, pages, strict=True):
        assert {"№", "Имя", "Подпись"} <= set(text.split())
        numbers = [int(word[3:]) for word in flat(text).split() if word[3:].isdigit()]
        assert len(numbers) == len(page.rows)
        seen += numbers
        # Each row is whole on its page: every word of its name, and its second line.
        assert text.split().count("Фамилия") == sum(number % 23 for number in numbers)
        assert all(f"Город{number}" in text.split() for number in numbers)
    assert seen == list(range(1, 151))


def test_a_row_fills_its_minimum_height_or_its_tallest_cell(glyphs):
    short = ((Text("1", SANS, 8),), (Text("Имя", SANS, 8),), ())
    short, tall = lay_out([short, rows(22)[21]], style(), glyphs, {})[0].rows
    assert short.height == pytest.approx(8 * MM)
    # 22 words of "Фамилия" wrap in 117.6 mm; then a 6.8 pt line and padding .8 mm twice.
    lines = wrap(name(22), glyphs[SANS], 8, 117.6 * MM)
    assert len(lines) == 3
    assert tall.height == pytest.approx((3 * 8 + 6.8) * 1.25 + 1.6 * MM)


def test_the_heading_is_on_the_first_page_only(samples, glyphs):
    heading = ((Text("Приложение", BOLD, 15, line_height=1.2), 4.0),)
    table = style(heading)
    pages = lay_out(rows(120), table, glyphs, {})
    plain = lay_out(rows(120), style(), glyphs, {})
    assert [page.heading for page in pages] == [True] + [False] * (len(pages) - 1)
    assert len(pages[0].rows) < len(plain[0].rows)
    texts = page_texts(TableJob(tuple(pages), table, samples).draw())
    assert texts[0].lstrip().startswith("Приложение")
    assert all("Приложение" not in text for text in texts[1:])


def test_a_row_taller_than_a_page_is_not_drawable(glyphs):
    tall = ((Text("1", SANS, 8),), (Text("Фамилия " * 4000, SANS, 8),), ())
    with pytest.raises(NotDrawable, match="taller"):
        lay_out([tall], style(), glyphs, {})


def test_pages_are_handed_out_as_laid_out_before_a_row_taller_than_a_page(glyphs):
    tall = ((Text("1", SANS, 8),), (Text("Фамилия " * 4000, SANS, 8),), ())
    pages = lay_out_pages([*rows(60), tall], style(), glyphs, {})
    first = next(pages)
    assert len(first.rows) < 60  # a page at a time, not the table
    assert first.rows == lay_out(rows(60), style(), glyphs, {})[0].rows
    with pytest.raises(NotDrawable, match="taller"):
        list(pages)


def test_text_that_needs_shaping_is_not_drawable(glyphs):
    with pytest.raises(NotDrawable):
        lay_out([((Text("1", SANS, 8),), (Text("\u0627", SANS, 8),), ())], style(), glyphs, {})


def test_a_character_outside_the_sample_is_not_drawable(glyphs):
    with pytest.raises(NotDrawable):
        lay_out([((Text("1", SANS, 8),), (Text("Q", SANS, 8),), ())], style(), glyphs, {})


def test_a_font_without_a_sample_is_not_drawable(glyphs):
    italic = FontStyle("DejaVu Sans", italic=True)
    with pytest.raises(NotDrawable):
        lay_out([((Text("1", SANS, 8),), (Text("а", italic, 8),), ())], style(), glyphs, {})


@pytest.mark.parametrize("mode", ["RGB", "L", "RGBA"])
def test_images_go_in_as_they_are_once_per_block(samples, glyphs, mode):
    image = png("white" if mode != "RGBA" else (0, 0, 0, 0), mode)
    table = style()
    pages = lay_out(rows(40, image=True), table, glyphs, {"img": image})
    pdf = TableJob(tuple(pages), table, samples, {"img": image}).draw()
    assert image_count(pdf) == 40  # drawn in every row
    with Pdf.open(io.BytesIO(pdf)) as document:
        streams = {
            xobject.objgen
            for page in document.pages
            for xobject in page.Resources.get("/XObject", {}).values()
        }
        assert len(streams) == 1  # stored once
        (objgen,) = streams
        stored = document.get_object(objgen)
        if mode != "RGBA":
            assert stored.read_raw_bytes() == plain_png(image).idat
        assert "/SMask" not in stored


def test_a_picture_keeps_its_ratio_up_to_its_maximum_width(glyphs):
    wide, square = png("white", size=(900, 100)), png("white", size=(100, 100))
    cells = [((Text("1", SANS, 8),), (), (Picture(key, 10, 25),)) for key in ("wide", "square")]
    pages = lay_out(cells, style(), glyphs, {"wide": wide, "square": square})
    (wide_item,), _height = pages[0].rows[0].cells[2]
    (square_item,), _height = pages[0].rows[1].cells[2]
    assert wide_item.width == pytest.approx(25 * MM)
    assert square_item.width == pytest.approx(square_item.height) == pytest.approx(10 * MM)


def test_drawn_pages_render_cleanly(samples, glyphs, tmp_path):
    table = TableStyle(
        page=(297.0, 210.0),
        margins=(12.0, 12.0, 18.0, 12.0),
        columns=(Column(20, "center"), Column(100), Column(40)),
        header=tuple(Text(label, BOLD, 7.5) for label in ("№", "Имя", "Подпись")),
        min_row=15.0,
    )
    cells = [((Text(str(n), SANS, 8),), (Text(name(n), SANS, 8),), (Box(11),)) for n in range(30)]
    pages = lay_out(cells, table, glyphs, {})
    pdf = TableJob(tuple(pages), table, samples).draw()
    result = subprocess.run(
        ["pdftoppm", "-r", "20", "-png", "-", str(tmp_path / "p")], input=pdf, capture_output=True
    )
    assert result.returncode == 0
    assert result.stderr == b""
    with Pdf.open(io.BytesIO(pdf)) as document:
        assert [round(float(v)) for v in document.pages[0].mediabox] == [0, 0, 842, 595]
    fonts = subprocess.run(["pdffonts", "-"], input=pdf, capture_output=True, check=True)
    lines = fonts.stdout.decode().splitlines()[2:]
    assert lines and all(line.split()[-5] == "yes" for line in lines)  # embedded


def test_line_breaks_in_text_are_spaces(glyphs):
    cells = [((Text("1", SANS, 8),), (Text("Город\nул.\tАбв", SANS, 8),), ())]
    (row,) = lay_out(cells, style(), glyphs, {})[0].rows
    (line,), _height = row.cells[1]
    assert line.text == "Город ул. Абв"


def test_a_block_embeds_only_the_fonts_its_pages_use(samples, glyphs):
    italic = FontStyle("DejaVu Sans", italic=True)
    table = style(heading=((Text("Приложение", italic, 15), 4.0),))
    pages = lay_out(rows(120), table, glyphs | {italic: glyphs[SANS]}, {})
    assert fonts_used(pages, table) == {SANS, BOLD, italic}
    assert fonts_used(pages[1:], table) == {SANS, BOLD}
    pdf = TableJob(tuple(pages[1:]), table, samples | {italic: samples[SANS]}).draw()
    with Pdf.open(io.BytesIO(pdf)) as document:
        fonts = {str(font.BaseFont) for font in document.pages[0].Resources.Font.values()}
    assert len(fonts) == 2


def test_no_rows_no_pages(glyphs):
    assert lay_out([], style(((Text("Приложение", BOLD, 15), 4.0),)), glyphs, {}) == []


@pytest.mark.parametrize(
    "image",
    [
        Image.new("P", (300, 100), 3),  # a palette
        Image.new("I;16", (300, 100), 40000),  # 16 bits
    ],
)
def test_other_pngs_are_re_encoded_once(samples, glyphs, image):
    out = io.BytesIO()
    image.save(out, format="PNG")
    data = out.getvalue()
    assert plain_png(data) is None
    table = style()
    pages = lay_out(rows(3, image=True), table, glyphs, {"img": data})
    pdf = TableJob(tuple(pages), table, samples, {"img": data}).draw()
    assert image_count(pdf) == 3
    listing = subprocess.run(["pdfimages", "-list", "-"], input=pdf, capture_output=True)
    assert listing.returncode == 0 and listing.stderr == b""


def test_a_nowrap_cell_keeps_its_characters_on_one_line(glyphs):
    table = replace(style(), columns=(Column(10, "right", nowrap=True), Column(120), Column(56)))
    cells = [((Text("12\u00a0345  6", SANS, 8),), (Text("Имя", SANS, 8),), ())]
    (row,) = lay_out(cells, table, glyphs, {})[0].rows
    (line,), _height = row.cells[0]
    assert line.text == "12\u00a0345 6"
