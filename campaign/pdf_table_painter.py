"""Draw laid-out table pages (pdf_tables) into a PDF of their own: a render worker's job.

Each page is content-stream operators: the fonts are those WeasyPrint embedded for the glyph
samples, the images go in as they are when a PDF can take them (pdf_images).
"""

from __future__ import annotations

import io
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import pikepdf
from pikepdf import Array, Dictionary, Name, Pdf, StreamDecodeLevel

from campaign.pdf_glyphs import FontStyle, Glyphs
from campaign.pdf_images import opaque_png, plain_png, rgb_png
from campaign.pdf_tables import (
    INK,
    MM,
    Column,
    LaidFrame,
    LaidImage,
    LaidLine,
    LaidRow,
    Measure,
    NotDrawable,
    TablePage,
    TableStyle,
    fonts_used,
    header_cells,
)


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
        self.header, self.header_height = header_cells(style, self.measure)
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
        items: Sequence[LaidLine | LaidImage | LaidFrame],
        left: float,
        top: float,
        xobjects: Dictionary,
    ) -> None:
        for item in items:
            if isinstance(item, LaidLine):
                glyphs, names = self.fonts[item.style]
                out.append(_colour(item.colour, "rg"))
                out.append(
                    glyphs.show(item.text, item.size, left + item.x, top - item.baseline, names)
                )
            elif isinstance(item, LaidImage):
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
