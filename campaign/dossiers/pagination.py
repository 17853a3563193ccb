"""Cut the signatory table and the annex into pages before layout, from estimated row heights.

Blocks of pages are laid out in parallel and cached, so where each page ends must be known
before any layout. Row heights are estimated from the text (word wrap with a generous
character width); a page takes rows until the estimate reaches the page's height. The estimate
errs on the tall side: should a row still be taller than guessed, the layout moves the last
rows of that page to an extra page, header repeated, and nothing is lost or split.
"""

import math
from collections.abc import Sequence
from dataclasses import dataclass, replace

from campaign.dossiers.annex_families import Family
from campaign.dossiers.content import Row
from campaign.dossiers.models import Edition

_PT = 25.4 / 72  # mm per point
# Average advance of DejaVu Sans glyphs is about 0.55 em for Cyrillic and Latin text; a
# little more makes the estimate safe.
_EM_PER_CHAR = 0.62
_LINE_HEIGHT = 1.25
_CELL_PADDING_MM = 2.4  # left + right
_ROW_PADDING_MM = 1.6  # top + bottom
_HEADER_MM = 7.5
_SAFETY = 0.96

PORTRAIT = (210.0, 297.0)
LANDSCAPE = (297.0, 210.0)
# @page margins in dossier.css: top, right, bottom, left.
_MARGINS = {PORTRAIT: (14.0, 12.0, 18.0, 12.0), LANDSCAPE: (12.0, 12.0, 18.0, 12.0)}

TEXT_PT = 8.0
SUB_PT = 6.8


@dataclass(frozen=True)
class Column:
    """A column of a paginated table: its CSS class, and its width in mm (None: the rest)."""

    name: str
    width: float | None


def margins(landscape: bool) -> tuple[float, float, float, float]:
    """The table pages' margins in mm (top, right, bottom, left), as dossier.css sets them."""
    return _MARGINS[LANDSCAPE if landscape else PORTRAIT]


def _content_box(landscape: bool) -> tuple[float, float]:
    page = LANDSCAPE if landscape else PORTRAIT
    top, right, bottom, left = _MARGINS[page]
    return page[0] - left - right, page[1] - top - bottom


def signatory_columns(edition: Edition, *, landscape: bool, versions: bool) -> list[Column]:
    """Return the signatory table's columns for an edition, with their widths."""
    wide = 1.45 if landscape else 1.0
    if edition is Edition.sheets:
        columns = [
            Column("number", 12),
            Column("name", None),
            Column("region", 28 * wide),
            Column("address", 46 * wide),
            Column("date", 22),
            Column("ink", 40),
        ]
    else:
        columns = [
            Column("number", 12),
            Column("name", None),
            Column("region", 28 * wide),
            Column("relationship", 24),
            Column("relative", 32 * wide),
            Column("date", 17),
        ]
        if versions:
            # Its header ("Вер.", 9.1 mm with padding in bold 7.5 pt) must not break inside
            # the word: tests/dossiers/test_table_headers.py measures every header.
            columns.append(Column("version", 10))
        if edition is Edition.submission:
            columns.append(Column("signature", 26))
    return _fill(columns, landscape)


def family_columns() -> list[Column]:
    """Return the annex table's columns (portrait)."""
    return _fill(
        [
            Column("relative", 44),
            Column("held", 44),
            Column("children", 14),
            Column("members", None),
        ],
        landscape=False,
    )


def _fill(columns: list[Column], landscape: bool) -> list[Column]:
    width, _height = _content_box(landscape)
    taken = sum(column.width or 0 for column in columns)
    return [Column(c.name, c.width if c.width is not None else width - taken) for c in columns]


def wrapped_lines(text: str, width_mm: float, size_pt: float) -> int:
    """Estimate the lines a text takes in a column, wrapping at spaces like the layout does."""
    if not text:
        return 0
    per_line = max(1, int((width_mm - _CELL_PADDING_MM) / (size_pt * _EM_PER_CHAR * _PT)))
    lines, used = 1, 0
    for word in text.split():
        length = len(word)
        if used and used + 1 + length > per_line:
            lines, used = lines + 1, 0
        if length > per_line:  # a word longer than the column breaks anywhere
            lines += math.ceil(length / per_line) - 1
            length = length % per_line or per_line
        used = length if not used else used + 1 + length
    return lines


def _text_mm(lines: int, size_pt: float) -> float:
    return lines * size_pt * _LINE_HEIGHT * _PT


def _row_height(
    row: Row, widths: dict[str, float], edition: Edition, questions: Sequence[str]
) -> float:
    name = _text_mm(wrapped_lines(row.name, widths["name"], TEXT_PT), TEXT_PT)
    if edition is Edition.sheets:
        cells = [
            name,
            _text_mm(wrapped_lines(row.region, widths["region"], TEXT_PT), TEXT_PT),
            _text_mm(
                wrapped_lines(row.postal_address or row.town, widths["address"], TEXT_PT), TEXT_PT
            ),
        ]
        return max(15.0, max(cells) + _ROW_PADDING_MM)
    subs = [row.postal_address or row.town, row.helper and f"filled in by {row.helper}"]
    answers = zip(questions, row.answers, strict=True)
    subs += [f"{label}: {answer}" for label, answer in answers if answer]
    for sub in subs:
        name += _text_mm(wrapped_lines(sub, widths["name"], SUB_PT), SUB_PT)
    cells = [
        name,
        _text_mm(wrapped_lines(row.region, widths["region"], TEXT_PT), TEXT_PT),
        _text_mm(wrapped_lines(row.relationship, widths["relationship"], TEXT_PT), TEXT_PT),
        _text_mm(wrapped_lines(row.relative, widths["relative"], TEXT_PT), TEXT_PT),
    ]
    minimum = 11.0 if edition is Edition.submission else 8.4
    return max(minimum, max(cells) + _ROW_PADDING_MM)


def _family_height(family: Family, widths: dict[str, float]) -> float:
    members = "; ".join(f"№ {n} {name} ({relation})" for n, name, relation in family.members)
    cells = [
        wrapped_lines(family.relative, widths["relative"], TEXT_PT),
        wrapped_lines(family.location, widths["held"], TEXT_PT),
        wrapped_lines(members, widths["members"], TEXT_PT),
    ]
    # Rows are as tall as their text (.families td sets no height): one line is 5.1 mm.
    return _text_mm(max(1, *cells), TEXT_PT) + _ROW_PADDING_MM


def _pages(heights: list[float], budget: float) -> list[tuple[int, int]]:
    pages, start, used = [], 0, 0.0
    for index, height in enumerate(heights):
        if index > start and used + height > budget:
            pages.append((start, index))
            start, used = index, 0.0
        used += height
    if start < len(heights):
        pages.append((start, len(heights)))
    return pages


def signatory_pages(
    rows: Sequence[Row],
    columns: list[Column],
    edition: Edition,
    questions: Sequence[str],
    *,
    landscape: bool,
) -> list[Sequence[Row]]:
    """Cut the table's rows into pages."""
    widths = {column.name: float(column.width or 0) for column in columns}
    heights = [_row_height(row, widths, edition, questions) for row in rows]
    budget = (_content_box(landscape)[1] - _HEADER_MM) * _SAFETY
    return [rows[start:end] for start, end in _pages(heights, budget)]


def split_tall_families(groups: Sequence[Family], columns: list[Column]) -> list[Family]:
    """Cut a family whose row would be taller than a page into rows that each fit one.

    Its members are shared out in order; every row repeats the relative, the places and the
    children. A row taller than a page could be neither drawn nor split by the layout.
    """
    widths = {column.name: float(column.width or 0) for column in columns}
    # Room for the annex's heading too, so that any row fits under it.
    budget = (_content_box(False)[1] - _HEADER_MM - 22.0) * _SAFETY
    rows: list[Family] = []
    for family in groups:
        if _family_height(family, widths) <= budget:
            rows.append(family)
            continue
        members: list[tuple[int, str, str]] = []
        for member in family.members:
            trial = replace(family, members=(*members, member))
            if members and _family_height(trial, widths) > budget:
                rows.append(replace(family, members=tuple(members)))
                members = []
            members.append(member)
        rows.append(replace(family, members=tuple(members)))
    return rows


def family_pages(
    groups: Sequence[Family], columns: list[Column], *, first_heading: bool
) -> list[Sequence[Family]]:
    """Cut the annex into pages; the first page also carries the annex's heading."""
    widths = {column.name: float(column.width or 0) for column in columns}
    heights = [_family_height(family, widths) for family in groups]
    budget = (_content_box(False)[1] - _HEADER_MM) * _SAFETY
    if first_heading and heights:
        heights[0] += 22.0  # the heading and its lead paragraph
    return [groups[start:end] for start, end in _pages(heights, budget)]
