"""Draw long tables of text and images straight into PDF pages, without a layout engine.

A signatory table is thousands of rows of the same few cells. Laid out by WeasyPrint each row
costs milliseconds; here a row is measured with the widths of the fonts WeasyPrint embedded for
a sample of the table's characters (pdf_glyphs), cut into pages from exact heights (a row is
never split, the header is repeated on every page), and drawn as content-stream operators
(pdf_table_painter): a quarter of a millisecond a row, all told. This module measures and
lays out. Text that needs shaping, or a row taller than a page,
is refused (NotDrawable): the caller lays out the pages holding such rows with WeasyPrint
(drawable_rows tells which), and draws the others.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any, Literal

from campaign.pdf_glyphs import FontStyle, Glyphs, wrap
from campaign.pdf_images import png_size

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
class LaidLine:
    """A line of text in a cell, placed."""

    text: str
    style: FontStyle
    size: float
    colour: tuple[float, float, float]
    x: float  # pt from the cell's content-box left
    baseline: float  # pt from the top of the cell's content


@dataclass(frozen=True, slots=True)
class LaidImage:
    """An image in a cell, placed."""

    key: str
    width: float  # pt
    height: float
    top: float  # pt from the top of the cell's content


@dataclass(frozen=True, slots=True)
class LaidFrame:
    """An empty frame in a cell (a box to sign in), placed."""

    width: float
    height: float
    top: float
    colour: tuple[float, float, float]
    line: float


@dataclass(frozen=True, slots=True)
class LaidRow:
    """A row measured: its height (pt) and each cell's drawn items, positioned in the cell."""

    height: float
    # Each cell's (items, content height).
    cells: tuple[tuple[tuple[LaidLine | LaidImage | LaidFrame, ...], float], ...]


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
    ) -> tuple[tuple[LaidLine | LaidImage | LaidFrame, ...], float]:
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
    ) -> tuple[tuple[LaidLine | LaidImage | LaidFrame, ...], float]:
        width = (column.width - 2 * column.padding[1]) * MM
        items: list[LaidLine | LaidImage | LaidFrame] = []
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
                        LaidLine(line, content.style, content.size, content.colour, x, baseline)
                    )
                    top += line_height
            elif isinstance(content, Picture):
                height = content.height * MM
                image_width = min(content.max_width * MM, height * self._ratio(content.key))
                items.append(LaidImage(content.key, image_width, height, top))
                top += height
            else:
                height = content.height * MM + 2 * content.line
                items.append(LaidFrame(width, height, top, content.colour, content.line))
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
    rows: Iterable[Sequence[Sequence[Content]]],
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
    return list(lay_out_pages(rows, style, glyphs, images, heading=heading))


def lay_out_pages(
    rows: Iterable[Sequence[Sequence[Content]]],
    style: TableStyle,
    glyphs: Mapping[FontStyle, Glyphs],
    images: Mapping[str, bytes],
    *,
    heading: bool = True,
) -> Iterator[TablePage]:
    """Lay rows out as lay_out does, yielding each page as soon as it is full.

    A row taller than a page raises NotDrawable when it is reached, after the pages before it.
    """
    if not heading:
        style = replace(style, heading=())
    measure = Measure(glyphs, images)
    header_height = header_cells(style, measure)[1]
    body = (style.page[1] - style.margins[0] - style.margins[2]) * MM - header_height
    heading_height = _heading_height(style, measure)
    minimum = style.min_row * MM
    pages = 0
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
            yield TablePage(tuple(current), heading=not pages and bool(style.heading))
            pages += 1
            current, room = [], body
        current.append(laid)
        room -= laid.height
    if current:
        yield TablePage(tuple(current), heading=not pages and bool(style.heading))


def covered(
    characters: Mapping[FontStyle, Iterable[str]], glyphs: Mapping[FontStyle, Glyphs]
) -> bool:
    """Whether every character, by font style, is one lay_out can set (has a glyph, needs no
    shaping): if not, lay_out would raise NotDrawable."""
    return all(
        font in glyphs and glyphs[font].covers("".join(chars).translate(_BLANKS))
        for font, chars in characters.items()
    )


def drawable_rows(
    rows: Iterable[Sequence[Sequence[Content]]],
    style: TableStyle,
    glyphs: Mapping[FontStyle, Glyphs],
    images: Mapping[str, bytes],
) -> list[bool]:
    """Tell, for each row, whether lay_out can draw it (its text needs no shaping, and it is
    no taller than a page)."""
    measure = Measure(glyphs, images)
    try:
        header = header_cells(style, measure)[1]
    except NotDrawable:  # (no glyph sample for the header's font)
        return [False for _row in rows]
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


def header_cells(style: TableStyle, measure: Measure) -> tuple[list[tuple], float]:
    """Return the header row's cells, measured, and its height (pt)."""
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
                used.update(item.style for item in items if isinstance(item, LaidLine))
    return used
