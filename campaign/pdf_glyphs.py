"""Set text with the fonts WeasyPrint embedded for a sample of its characters.

WeasyPrint lays out a row of a table in about five milliseconds. Text whose every character is
one glyph, set left to right (Latin, Cyrillic, Greek, Armenian, Georgian, digits and
punctuation), needs none of that: a one-page sample sets each character once, WeasyPrint embeds
the font subsets with their widths and ToUnicode maps (so that the text can be copied and
searched, and PDF/A is satisfied), and text is then drawn with those fonts directly. Kerning is
left out.

It also knows which characters the installed fonts cover at all (unprintable_characters): the
forms refuse the others, which any renderer would draw as an empty box.
"""

from __future__ import annotations

import bisect
import html
import logging
import re
import shutil
import subprocess
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass, field
from functools import cache

from pikepdf import Array, Dictionary, Pdf, parse_content_stream

log = logging.getLogger(__name__)

_SPACES = re.compile(r"[ \t\n\r\f]+")
# A text wrap() gives back as one line if it fits: words with one space between them.
_ONE_SPACE_BETWEEN_WORDS = re.compile(r"[^ \t\n\r\f]+(?: [^ \t\n\r\f]+)*")
# More than the difference summing the words' widths one by one could make (in points).
_ROUNDING = 1e-6
# Texts whose advance a Glyphs keeps (words and lines, a few MB).
ADVANCES_KEPT = 200_000
_BFCHAR = re.compile(r"beginbfchar(.*?)endbfchar", re.S)
_BFCHAR_ENTRY = re.compile(r"<([0-9a-fA-F]{2,4})>\s*<([0-9a-fA-F]+)>")

# Letters of these ranges join or reorder even without marks: shaping is needed.
_SHAPED_RANGES = (
    (0x0590, 0x08FF),  # Hebrew, Arabic, Syriac, Thaana, N'Ko...
    (0x0900, 0x0DFF),  # Indic scripts
    (0x0E00, 0x0FFF),  # Thai, Lao, Tibetan
    (0x1000, 0x109F),  # Myanmar
    (0x1100, 0x11FF),  # Hangul jamo
    (0x1780, 0x18AF),  # Khmer, Mongolian
    (0xA960, 0xA97F),  # Hangul jamo extended
    (0xD7B0, 0xD7FF),
    (0xFB1D, 0xFDFF),  # Hebrew and Arabic presentation forms
    (0xFE70, 0xFEFF),
    (0xA840, 0xA87F),  # Phags-pa
    (0x1F1E6, 0x1F1FF),  # regional indicators: pairs make flags
    (0x1F3FB, 0x1F3FF),  # skin-tone modifiers
)
_SIMPLE_CATEGORIES = frozenset({"Lu", "Ll", "Lt", "Lo", "Lm", "Nd", "Nl", "No", "Zs"}) | {
    "Pc", "Pd", "Ps", "Pe", "Pi", "Pf", "Po", "Sm", "Sc", "Sk", "So",
}  # fmt: skip


@dataclass(frozen=True)
class FontStyle:
    """A font as CSS names it: family, weight and slant."""

    family: str
    bold: bool = False
    italic: bool = False

    def css(self) -> str:
        """The CSS declarations that select this font."""
        weight = "bold" if self.bold else "normal"
        style = "italic" if self.italic else "normal"
        return f'font-family: "{self.family}"; font-weight: {weight}; font-style: {style}'


SANS = FontStyle("DejaVu Sans")


def is_simple_character(character: str) -> bool:
    """Whether a character is one glyph set left to right, without shaping or marks."""
    if character == " ":
        return True
    if unicodedata.category(character) not in _SIMPLE_CATEGORIES:
        return False
    if unicodedata.bidirectional(character) in ("R", "AL", "AN"):
        return False
    point = ord(character)
    return not any(first <= point <= last for first, last in _SHAPED_RANGES)


# Line breaks and tabs are laid out as space: no font needs a glyph for them.
_LAID_OUT_AS_SPACE = frozenset("\n\t\r")


@cache
def installed_coverage() -> tuple[list[int], list[int]] | None:
    """Return the code points the installed scalable fonts cover, as sorted merged ranges.

    (first points, last points), read once per process from fontconfig, which Pango (and so
    WeasyPrint) asks for a font for each character: a character outside every font is drawn
    as .notdef (an empty box, and a PDF/A violation). None when fontconfig cannot be asked.
    """
    fc_list = shutil.which("fc-list")
    if fc_list is None:
        log.warning("font coverage unknown (no fc-list): characters are not checked")
        return None
    try:
        listed = subprocess.run(  # noqa: S603 - fixed arguments, no user input
            [fc_list, ":scalable=true", "--format", "%{charset}\n"],
            capture_output=True,
            text=True,
            check=True,
            timeout=60,
        ).stdout
    except (OSError, subprocess.SubprocessError) as reason:
        log.warning("font coverage unknown (fc-list: %s): characters are not checked", reason)
        return None
    ranges = []
    for item in listed.split():
        first, _, last = item.partition("-")
        ranges.append((int(first, 16), int(last or first, 16)))
    firsts: list[int] = []
    lasts: list[int] = []
    for first, last in sorted(ranges):
        if lasts and first <= lasts[-1] + 1:
            lasts[-1] = max(lasts[-1], last)
        else:
            firsts.append(first)
            lasts.append(last)
    return firsts, lasts


def unprintable_characters(text: str) -> list[str]:
    """Return the distinct characters of text that no installed font has, in order of appearance.

    The one check of what a PDF can draw: forms refuse such text before it reaches a dossier.
    """
    coverage = installed_coverage()
    if coverage is None or not text:
        return []
    firsts, lasts = coverage
    missing: list[str] = []
    for character in dict.fromkeys(text):
        if character in _LAID_OUT_AS_SPACE:
            continue
        point = ord(character)
        index = bisect.bisect_right(firsts, point) - 1
        if index < 0 or point > lasts[index]:
            missing.append(character)
    return missing


def glyph_sample_document(text: str, *, language: str, style: FontStyle = SANS) -> str:
    """Return the HTML of a one-page document that sets every character of text once.

    The characters are apart, so that no ligature or kerning pair replaces one of them.
    """
    characters = " ".join(sorted(set(text) - {" "}))
    return f"""<!DOCTYPE html>
<html lang="{html.escape(language)}">
<head>
<meta charset="utf-8">
<style>
@page {{ size: A4; margin: 10mm }}
p {{ {style.css()}; font-size: 8pt; line-height: 1.2; margin: 0 }}
</style>
</head>
<body>
<p>{html.escape(characters)} </p>
</body>
</html>
"""


class MissingGlyph(ValueError):
    """The sample has no glyph for a character."""


@dataclass(frozen=True)
class Glyphs:
    """The fonts a glyph sample set: each character's font and code, and the codes' widths.

    Usually one font; WeasyPrint falls back to others for characters the first one lacks.
    """

    fonts: tuple[Dictionary, ...]
    codes: dict[str, tuple[int, int]]  # character -> (font index, code)
    widths: dict[str, float]  # character -> advance, in thousandths of the font size
    ascent: float  # of the first font, in thousandths of the font size
    descent: float  # negative
    # The characters covers() accepts: those with a glyph that need no shaping.
    drawable: frozenset[str] = frozenset()
    # The advances of texts measured (in thousandths of the font size): the words of a table
    # repeat (relationships, places, names), and a table's layout measured 600,000 of them at
    # 100,000 signatories. Emptied when it holds ADVANCES_KEPT.
    _advances: dict[str, float] = field(default_factory=dict, init=False, repr=False, compare=False)

    @classmethod
    def read(cls, sample: Pdf) -> Glyphs:
        """Read the fonts of a rendered glyph_sample_document(), in the order it uses them."""
        page = sample.pages[0]
        resources = page.obj.Resources.get("/Font", Dictionary())
        names = []
        for operands, operator in parse_content_stream(page):
            if str(operator) == "Tf" and str(operands[0]) not in names:
                names.append(str(operands[0]))
        fonts = tuple(resources[name] for name in names)
        if not fonts or any("/DescendantFonts" not in font for font in fonts):
            raise ValueError("the glyph sample must set composite fonts")
        codes: dict[str, tuple[int, int]] = {}
        widths: dict[str, float] = {}
        for index, font in enumerate(fonts):
            font_widths = _widths(font.DescendantFonts[0])
            default = float(font.DescendantFonts[0].get("/DW", 1000))
            for bfchar in _BFCHAR.findall(font.ToUnicode.read_bytes().decode("latin-1")):
                for code, unicode in _BFCHAR_ENTRY.findall(bfchar):
                    character = bytes.fromhex(unicode).decode("utf-16-be")
                    if len(character) == 1 and character not in codes:
                        number = int(code, 16)
                        codes[character] = (index, number)
                        widths[character] = font_widths.get(number, default)
        descriptor = fonts[0].DescendantFonts[0].FontDescriptor
        return cls(
            fonts,
            codes,
            widths,
            float(descriptor.get("/Ascent", 800)),
            float(descriptor.get("/Descent", -200)),
            frozenset(character for character in codes if is_simple_character(character)),
        )

    def covers(self, text: str) -> bool:
        """Whether every character of text has a glyph here and needs no shaping."""
        return self.drawable.issuperset(text)

    def width(self, text: str, size: float) -> float:
        """The advance of text at size points, in points."""
        advance = self._advances.get(text)
        if advance is None:
            try:
                advance = sum(map(self.widths.__getitem__, text))
            except KeyError as missing:
                raise MissingGlyph(f"the glyph sample has no {missing}") from None
            if len(self._advances) >= ADVANCES_KEPT:
                self._advances.clear()
            self._advances[text] = advance
        return advance * size / 1000

    def show(self, text: str, size: float, x: float, y: float, names: Iterable[str]) -> str:
        """Content-stream operators drawing text with its baseline starting at (x, y).

        names are the page resources' names of self.fonts, in order.
        """
        names = tuple(names)
        parts = [f"BT\n1 0 0 1 {x:.2f} {y:.2f} Tm\n"]
        current = None
        run: list[str] = []
        for character in text:
            try:
                font, code = self.codes[character]
            except KeyError:
                raise MissingGlyph(f"the glyph sample has no {character!r}") from None
            if font != current:
                if run:
                    parts.append(f"<{''.join(run)}> Tj\n")
                    run = []
                parts.append(f"{names[font]} {size:g} Tf\n")
                current = font
            run.append(f"{code:04x}")
        if run:
            parts.append(f"<{''.join(run)}> Tj\n")
        parts.append("ET\n")
        return "".join(parts)


def _widths(descendant: Dictionary) -> dict[int, float]:
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
    return widths


def wrap(text: str, glyphs: Glyphs, size: float, width: float) -> list[str]:
    """Break text into lines no wider than width points, like the table's CSS does.

    Lines break at spaces and after a hyphen inside a word; a piece wider than a line breaks
    between any two characters (overflow-wrap: anywhere). Runs of spaces collapse.
    """
    # Most cells are words that fit on one line as written, one space between them: the line
    # is the text. (Below, pieces are added one by one, each sum no more than the whole, so
    # none would break it; the margin is for the rounding of those sums.)
    if _ONE_SPACE_BETWEEN_WORDS.fullmatch(text) and glyphs.width(text, size) <= width - _ROUNDING:
        return [text]
    return _wrap_words(text, glyphs, size, width)


def _wrap_words(text: str, glyphs: Glyphs, size: float, width: float) -> list[str]:
    """wrap(), word by word."""
    lines: list[str] = []
    line, line_width = "", 0.0
    space = glyphs.width(" ", size) if text.strip() else 0.0
    # Only spaces break: a no-break space is part of its word.
    for word in _SPACES.split(text):
        if not word:
            continue
        pieces = _hyphen_pieces(word)
        for number, piece in enumerate(pieces):
            joiner = " " if number == 0 and line else ""
            piece_width = glyphs.width(piece, size)
            added = piece_width + (space if joiner else 0.0)
            if line and line_width + added > width:
                lines.append(line)
                line, line_width, joiner, added = "", 0.0, "", piece_width
            if not line and piece_width > width:
                *whole, piece = _break_anywhere(piece, glyphs, size, width)
                lines.extend(whole)
                piece_width = added = glyphs.width(piece, size)
            line += joiner + piece
            line_width += added
    if line:
        lines.append(line)
    return lines


def _hyphen_pieces(word: str) -> list[str]:
    if "-" not in word:
        return [word]
    pieces, start = [], 0
    for index, character in enumerate(word[:-1]):
        if character == "-" and index > start:
            pieces.append(word[start : index + 1])
            start = index + 1
    pieces.append(word[start:])
    return pieces


def _break_anywhere(piece: str, glyphs: Glyphs, size: float, width: float) -> list[str]:
    lines, line, used = [], "", 0.0
    for character in piece:
        advance = glyphs.width(character, size)
        if line and used + advance > width:
            lines.append(line)
            line, used = "", 0.0
        line += character
        used += advance
    lines.append(line)
    return lines
