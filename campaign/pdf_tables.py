"""Draw long tables of text and images straight into PDF pages, without a layout engine.

A signatory table is thousands of rows of the same few cells. Laid out by WeasyPrint each row
costs milliseconds; here a row is measured with the widths of the fonts WeasyPrint embedded for
a sample of the table's characters (pdf_glyphs), cut into pages from exact heights (a row is
never split, the header is repeated on every page), and drawn as content-stream operators: a
quarter of a millisecond a row, all told. Text that needs shaping, or a row taller than a page,
is refused (NotDrawable): the caller lays out the pages holding such rows with WeasyPrint
(drawable_rows tells which), and draws the others.
"""

from __future__ import annotations

import io
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any, Literal

import pikepdf
from pikepdf import Array, Dictionary, Name, Pdf, StreamDecodeLevel

from campaign.pdf_glyphs import FontStyle, Glyphs, wrap
from campaign.pdf_images import opaque_png, plain_png, png_size, rgb_png

MM = 72 / 25.4
LINE_HEIGHT = 1.25
INK = (0.114, 0.137, 0.153)  # #1d2327
GREY = (0.353, 0.396, 0.439)  # #5a6570
_CELLS_KEPT = 4096
_RUNS_OF_SPACES = re.compile(" +")
_BLANKS = str.maketrans("\t\n\r\f", "    ")


class NotDrawable(ValueError):
    """The table cannot be drawn directly (its text needs shaping, or a row outgrows a page)."""


@dataclass(frozen=True, slots=True)
class Text:
    """A paragraph of a cell."""

    text: str
    style: FontStyle
    size: float
    colour: tuple[float, float, float] = INK
    line_height: float = LINE_HEIGHT


@dataclass(frozen=True, slots=True)
class Picture:
    """An image (a PNG of the table's images), height fixed, width by its ratio up to a maximum."""

    key: str
    height: float  # mm
    max_width: float  # mm


@dataclass(frozen=True, slots=True)
class Box:
    """An empty framed box as wide as the cell, for a pen."""

    height: float  # mm
    colour: tuple[float, float, float] = (0.541, 0.580, 0.612)  # #8a949c
    line: float = 0.6  # pt


Content = Text | Picture | Box


@dataclass(frozen=True)
class Column:
    """A column: width (mm), alignment, padding (mm), and whether its cells stay white."""

    width: float
    align: Literal["left", "right", "center"] = "left"
    nowrap: bool = False
    white: bool = False
    padding: tuple[float, float] = (0.8, 1.2)  # vertical, horizontal


@dataclass(frozen=True)
class TableStyle:
    """The page and the table's frame: page size and margins (mm), columns, header, rows."""

    page: tuple[float, float]
    margins: tuple[float, float, float, float]  # top, right, bottom, left
    columns: tuple[Column, ...]
    header: tuple[Text, ...]
    min_row: float  # mm, padding included
    header_padding: tuple[float, float, float] = (1.0, 1.2, 1.4)  # top, sides, bottom
    rule: float = 0.8  # pt, under the header
    zebra: tuple[float, float, float] = (0.941, 0.949, 0.953)  # #f0f2f3, even rows
    # Paragraphs above the table on the first page (a heading and its lead), and the space
    # (mm) after each.
    heading: tuple[tuple[Text, float], ...] = ()


@dataclass(frozen=True, slots=True)
class _Line:
    text: str
    style: FontStyle
    size: float
    colour: tuple[float, float, float]
    x: float  # pt from the cell's content-box left
    baseline: float  # pt from the top of the cell's content


@dataclass(frozen=True, slots=True)
class _Image:
    key: str
    width: float  # pt
    height: float
    top: float  # pt from the top of the cell's content


@dataclass(frozen=True, slots=True)
class _Frame:
    width: float
    height: float
    top: float
    colour: tuple[float, float, float]
    line: float


@dataclass(frozen=True, slots=True)
class LaidRow:
    """A row measured: its height (pt) and each cell's drawn items, positioned in the cell."""

    height: float
    cells: tuple[tuple[tuple[_Line | _Image | _Frame, ...], float], ...]  # (items, content height)


@dataclass(frozen=True, slots=True)
class TablePage:
    """The rows of one page, and whether it carries the heading."""

    rows: tuple[LaidRow, ...]
    heading: bool = False


class Measure:
    """Measure and wrap the contents of cells with the glyph samples' fonts."""

    def __init__(self, glyphs: Mapping[FontStyle, Glyphs], images: Mapping[str, bytes]) -> None:
        self.glyphs = glyphs
        self.images = images
        self._ratios: dict[str, float] = {}
        self._cells: dict[tuple[tuple[Content, ...], Column], tuple[Any, float]] = {}

    def cell(
        self, contents: Sequence[Content], column: Column
    ) -> tuple[tuple[_Line | _Image | _Frame, ...], float]:
        """Lay out a cell's contents in its column; return its items and their height (pt)."""
        # Regions, relationships and dates repeat down a table: each is laid out once.
        key = (tuple(contents), column)
        found = self._cells.get(key)
        if found is None:
            if len(self._cells) >= _CELLS_KEPT:
                self._cells.clear()
            found = self._cells[key] = self._cell(contents, column)
        return found

    def _cell(
        self, contents: Sequence[Content], column: Column
    ) -> tuple[tuple[_Line | _Image | _Frame, ...], float]:
        width = (column.width - 2 * column.padding[1]) * MM
        items: list[_Line | _Image | _Frame] = []
        top = 0.0
        for content in contents:
            if isinstance(content, Text):
                glyphs = self._glyphs(content.style)
                # As in HTML, line breaks and tabs are spaces.
                text = content.text.translate(_BLANKS)
                if not glyphs.covers(text):
                    raise NotDrawable("text needs shaping or has no glyph")
                if column.nowrap:
                    line = _RUNS_OF_SPACES.sub(" ", text).strip(" ")
                    lines = [line] if line else []
                else:
                    lines = wrap(text, glyphs, content.size, width)
                line_height = content.size * content.line_height
                ascent = glyphs.ascent * content.size / 1000
                font_height = (glyphs.ascent - glyphs.descent) * content.size / 1000
                for line in lines:
                    advance = glyphs.width(line, content.size)
                    x = {"left": 0.0, "right": width - advance, "center": (width - advance) / 2}[
                        column.align
                    ]
                    baseline = top + (line_height - font_height) / 2 + ascent
                    items.append(
                        _Line(line, content.style, content.size, content.colour, x, baseline)
                    )
                    top += line_height
            elif isinstance(content, Picture):
                height = content.height * MM
                image_width = min(content.max_width * MM, height * self._ratio(content.key))
                items.append(_Image(content.key, image_width, height, top))
                top += height
            else:
                height = content.height * MM + 2 * content.line
                items.append(_Frame(width, height, top, content.colour, content.line))
                top += height
        return tuple(items), top

    def _glyphs(self, style: FontStyle) -> Glyphs:
        try:
            return self.glyphs[style]
        except KeyError:
            raise NotDrawable(f"no glyph sample for {style}") from None

    def _ratio(self, key: str) -> float:
        if key not in self._ratios:
            size = png_size(self.images[key])
            if size is None:
                raise NotDrawable("an image is not a PNG")
            self._ratios[key] = size[0] / size[1]
        return self._ratios[key]


def lay_out(
    rows: Sequence[Sequence[Sequence[Content]]],
    style: TableStyle,
    glyphs: Mapping[FontStyle, Glyphs],
    images: Mapping[str, bytes],
    *,
    heading: bool = True,
) -> list[TablePage]:
    """Measure rows (each a sequence of cell contents, one per column) and cut them into pages.

    The first page carries the style's heading, if it has one and heading is true (false for
    the rest of a table whose first pages were laid out before).
    """
    if not heading:
        style = replace(style, heading=())
    measure = Measure(glyphs, images)
    header_height = _header(style, measure)[1]
    body = (style.page[1] - style.margins[0] - style.margins[2]) * MM - header_height
    heading_height = _heading_height(style, measure)
    minimum = style.min_row * MM
    pages: list[TablePage] = []
    current: list[LaidRow] = []
    room = body - heading_height
    for row in rows:
        cells = []
        tallest = 0.0
        for contents, column in zip(row, style.columns, strict=True):
            items, height = measure.cell(contents, column)
            cells.append((items, height))
            tallest = max(tallest, height + 2 * column.padding[0] * MM)
        laid = LaidRow(max(minimum, tallest), tuple(cells))
        if laid.height > body:
            raise NotDrawable("a row is taller than a page")
        if laid.height > room and (current or not pages):
            # (A first row that does not fit under the heading goes to the next page.)
            pages.append(TablePage(tuple(current), heading=not pages and bool(style.heading)))
            current, room = [], body
        current.append(laid)
        room -= laid.height
    if current:
        pages.append(TablePage(tuple(current), heading=not pages and bool(style.heading)))
    return pages


def drawable_rows(
    rows: Sequence[Sequence[Sequence[Content]]],
    style: TableStyle,
    glyphs: Mapping[FontStyle, Glyphs],
    images: Mapping[str, bytes],
) -> list[bool]:
    """Tell, for each row, whether lay_out can draw it (its text needs no shaping, and it is
    no taller than a page)."""
    measure = Measure(glyphs, images)
    try:
        header = _header(style, measure)[1]
    except NotDrawable:  # (no glyph sample for the header's font)
        return [False] * len(rows)
    body = (style.page[1] - style.margins[0] - style.margins[2]) * MM - header
    drawable = []
    for row in rows:
        try:
            tallest = max(
                (
                    measure.cell(contents, column)[1] + 2 * column.padding[0] * MM
                    for contents, column in zip(row, style.columns, strict=True)
                ),
                default=0.0,
            )
        except NotDrawable:
            drawable.append(False)
        else:
            drawable.append(max(style.min_row * MM, tallest) <= body)
    return drawable


def _header(style: TableStyle, measure: Measure) -> tuple[list[tuple], float]:
    top, sides, bottom = style.header_padding
    cells = []
    tallest = 0.0
    for text, column in zip(style.header, style.columns, strict=True):
        frame = Column(column.width, "left", padding=(0.0, sides))
        items, height = measure.cell([text], frame)
        cells.append((items, height))
        tallest = max(tallest, height)
    return cells, tallest + (top + bottom) * MM + style.rule


def _heading_height(style: TableStyle, measure: Measure) -> float:
    width = style.page[0] - style.margins[1] - style.margins[3]
    total = 0.0
    for text, after in style.heading:
        total += measure.cell([text], Column(width, padding=(0.0, 0.0)))[1] + after * MM
    return total


def fonts_used(pages: Sequence[TablePage], style: TableStyle) -> set[FontStyle]:
    """The font styles these pages are drawn with: the header's, the heading's, the rows'."""
    used = {text.style for text in style.header}
    if any(page.heading for page in pages):
        used.update(text.style for text, _after in style.heading)
    for page in pages:
        for row in page.rows:
            for items, _height in row.cells:
                used.update(item.style for item in items if isinstance(item, _Line))
    return used


@dataclass(frozen=True)
class TableJob:
    """Pages of a table, laid out, to draw into a PDF of their own (in a render worker).

    samples are the rendered glyph samples (PDF) by font style (those of fonts_used), and
    images the PNGs by key: the block embeds those fonts and images only.
    """

    pages: tuple[TablePage, ...]
    style: TableStyle
    samples: Mapping[FontStyle, bytes]
    images: Mapping[str, bytes] = field(default_factory=dict)

    def draw(self) -> bytes:
        """Draw the pages; return the PDF."""
        used = fonts_used(self.pages, self.style)
        samples = {font: data for font, data in self.samples.items() if font in used}
        with pikepdf.new() as pdf:
            opened = [Pdf.open(io.BytesIO(data)) for data in samples.values()]
            try:
                fonts: dict[FontStyle, tuple[Glyphs, tuple[str, ...]]] = {}
                font_resources = Dictionary()
                for number, (style, sample) in enumerate(zip(samples, opened, strict=True)):
                    glyphs = Glyphs.read(sample)
                    names = tuple(f"/T{number}F{index}" for index in range(len(glyphs.fonts)))
                    for name, font in zip(names, glyphs.fonts, strict=True):
                        font_resources[name] = pdf.copy_foreign(font)
                    fonts[style] = (glyphs, names)
                painter = _Painter(pdf, self.style, fonts, self.images, font_resources)
                for page in self.pages:
                    painter.page(page)
                out = io.BytesIO()
                # Only the page contents are compressed: the images' pixel data (and the
                # fonts) are already, and qpdf's default would inflate and deflate them again
                # (a fifth of a block's time).
                pdf.save(out, compress_streams=True, stream_decode_level=StreamDecodeLevel.none)
                return out.getvalue()
            finally:
                for sample in opened:
                    sample.close()


def _colour(colour: tuple[float, float, float], operator: str) -> str:
    return f"{colour[0]:.3f} {colour[1]:.3f} {colour[2]:.3f} {operator}\n"


class _Painter:
    def __init__(
        self,
        pdf: Pdf,
        style: TableStyle,
        fonts: dict[FontStyle, tuple[Glyphs, tuple[str, ...]]],
        images: Mapping[str, bytes],
        font_resources: Dictionary,
    ) -> None:
        self.pdf = pdf
        self.style = style
        self.fonts = fonts
        self.images = images
        self.font_resources = pdf.make_indirect(font_resources)
        self.xobjects: dict[str, pikepdf.Stream] = {}
        self.measure = Measure({s: g for s, (g, _n) in fonts.items()}, images)
        self.header, self.header_height = _header(style, self.measure)
        self.lefts = []
        left = style.margins[3] * MM
        for column in style.columns:
            self.lefts.append(left)
            left += column.width * MM
        self.right = left

    def page(self, page: TablePage) -> None:
        style = self.style
        width, height = style.page[0] * MM, style.page[1] * MM
        out: list[str] = []
        xobjects = Dictionary()
        top = height - style.margins[0] * MM
        if page.heading:
            top = self._heading(out, top)
        top = self._header_row(out, top)
        for number, row in enumerate(page.rows, start=1):
            if number % 2 == 0:
                self._background(out, row, top)
            for column, left, (items, content_height) in zip(
                style.columns, self.lefts, row.cells, strict=True
            ):
                inner = row.height - 2 * column.padding[0] * MM
                cell_top = top - column.padding[0] * MM - (inner - content_height) / 2
                self._items(out, items, left + column.padding[1] * MM, cell_top, xobjects)
            top -= row.height
        contents = self.pdf.make_stream("".join(out).encode())
        resources = Dictionary(Font=self.font_resources)
        if xobjects:
            resources.XObject = xobjects
        self.pdf.pages.append(
            pikepdf.Page(
                Dictionary(
                    Type=Name.Page,
                    MediaBox=Array([0, 0, round(width, 3), round(height, 3)]),
                    Resources=resources,
                    Contents=contents,
                )
            )
        )

    def _heading(self, out: list[str], top: float) -> float:
        width = self.style.page[0] - self.style.margins[1] - self.style.margins[3]
        left = self.style.margins[3] * MM
        for text, after in self.style.heading:
            items, content_height = self.measure.cell([text], Column(width, padding=(0.0, 0.0)))
            self._items(out, items, left, top, Dictionary())
            top -= content_height + after * MM
        return top

    def _header_row(self, out: list[str], top: float) -> float:
        padding_top, sides, _bottom = self.style.header_padding
        inner = self.header_height - (padding_top + _bottom) * MM - self.style.rule
        for left, (items, content_height) in zip(self.lefts, self.header, strict=True):
            cell_top = top - padding_top * MM - (inner - content_height) / 2
            self._items(out, items, left + sides * MM, cell_top, Dictionary())
        rule_y = top - self.header_height + self.style.rule / 2
        out.append(_colour(INK, "RG"))
        left = self.style.margins[3] * MM
        out.append(
            f"{self.style.rule:g} w\n{left:.2f} {rule_y:.2f} m {self.right:.2f} {rule_y:.2f} l S\n"
        )
        return top - self.header_height

    def _background(self, out: list[str], row: LaidRow, top: float) -> None:
        out.append(_colour(self.style.zebra, "rg"))
        for column, left in zip(self.style.columns, self.lefts, strict=True):
            if not column.white:
                bottom = top - row.height
                out.append(
                    f"{left:.2f} {bottom:.2f} {column.width * MM:.2f} {row.height:.2f} re f\n"
                )

    def _items(
        self,
        out: list[str],
        items: Sequence[_Line | _Image | _Frame],
        left: float,
        top: float,
        xobjects: Dictionary,
    ) -> None:
        for item in items:
            if isinstance(item, _Line):
                glyphs, names = self.fonts[item.style]
                out.append(_colour(item.colour, "rg"))
                out.append(
                    glyphs.show(item.text, item.size, left + item.x, top - item.baseline, names)
                )
            elif isinstance(item, _Image):
                name = f"/I{item.key[:16]}"
                xobjects[name] = self._image(item.key)
                bottom = top - item.top - item.height
                place = f"{item.width:.2f} 0 0 {item.height:.2f} {left:.2f} {bottom:.2f}"
                out.append(f"q {place} cm {name} Do Q\n")
            else:
                half = item.line / 2
                bottom = top - item.top - item.height
                out.append("1 1 1 rg\n" + _colour(item.colour, "RG"))
                out.append(
                    f"{item.line:g} w {left + half:.2f} {bottom + half:.2f} "
                    f"{item.width - item.line:.2f} {item.height - item.line:.2f} re B\n"
                )

    def _image(self, key: str) -> pikepdf.Stream:
        if key not in self.xobjects:
            self.xobjects[key] = self._new_image(key)
        return self.xobjects[key]

    def _new_image(self, key: str) -> pikepdf.Stream:
        image = plain_png(opaque_png(self.images[key])) or plain_png(rgb_png(self.images[key]))
        if image is None:  # (an RGB PNG of Pillow's is always plain)
            raise NotDrawable("an image cannot be made a plain PNG")
        colours = 3 if image.rgb else 1
        return pikepdf.Stream(
            self.pdf,
            image.idat,
            Type=Name.XObject,
            Subtype=Name.Image,
            Width=image.width,
            Height=image.height,
            ColorSpace=Name.DeviceRGB if image.rgb else Name.DeviceGray,
            BitsPerComponent=8,
            Filter=Name.FlateDecode,
            DecodeParms=Dictionary(
                Predictor=15, Colors=colours, BitsPerComponent=8, Columns=image.width
            ),
        )
