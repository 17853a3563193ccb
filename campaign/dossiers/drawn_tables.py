"""The signatory table and the annex as tables drawn without a layout engine (pdf_tables).

They look like templates/pdf/table.html and annex.html laid out with dossier.css, which remain
for tables whose text needs shaping (pdf_tables.NotDrawable).
"""

from collections.abc import Callable, Iterable, Sequence

from flask_babel import gettext as _

from campaign.dossiers.annex_families import Family
from campaign.dossiers.content import Row
from campaign.dossiers.models import Edition
from campaign.dossiers.pagination import (
    LANDSCAPE,
    PORTRAIT,
    SUB_PT,
    TEXT_PT,
    Column,
    margins,
)
from campaign.pdf_glyphs import SANS, FontStyle
from campaign.pdf_tables import GREY, INK, Box, Content, Picture, TableStyle, Text
from campaign.pdf_tables import Column as DrawnColumn

SANS_BOLD = FontStyle("DejaVu Sans", bold=True)
SANS_OBLIQUE = FontStyle("DejaVu Sans", italic=True)
SERIF_ITALIC = FontStyle("DejaVu Serif", italic=True)
SERIF_BOLD = FontStyle("DejaVu Serif", bold=True)

HEADER_PT = 7.5
# td heights in dossier.css plus their padding (.8 mm above and below).
_MIN_ROW = {Edition.submission: 11.0, Edition.public: 8.4, Edition.sheets: 15.0}
_SIGNATURE_HEIGHT, _SIGNATURE_MAX_WIDTH = 10.0, 25.0
_BOX_HEIGHT = 11.0

Cells = tuple[tuple[Content, ...], ...]


def _text(value: str, style: FontStyle = SANS, colour: tuple[float, float, float] = INK) -> Text:
    return Text(value, style, TEXT_PT, colour)


def _column(column: Column) -> DrawnColumn:
    name = column.name
    width = float(column.width or 0)
    if name == "number":
        return DrawnColumn(width, "right", nowrap=True)
    if name in ("version", "children"):
        return DrawnColumn(width, "center")
    if name == "date":
        return DrawnColumn(width, nowrap=True)
    if name == "signature":
        return DrawnColumn(width, white=True, padding=(0.0, 1.0))
    return DrawnColumn(width)


def _header(label: str) -> Text:
    return Text(label, SANS_BOLD, HEADER_PT, GREY)


# Marks a signature given in ink on a collection sheet, in the number column.
PAPER_MARK = "*"


def paper_place(row: Row, words: dict[str, str]) -> str:
    """Say where a paper signature's ink is: "in ink on paper, sheet 3, line 7"."""
    parts = [words["paper"]]
    if row.sheet is not None:
        parts.append(words["sheet"] % {"sheet": row.sheet})
    if row.line is not None:
        parts.append(words["line"] % {"line": row.line})
    return ", ".join(parts)


def signatory_table(
    columns: Sequence[Column],
    edition: Edition,
    questions: Sequence[str],
    *,
    landscape: bool,
    format_day: Callable[[str], str],
) -> tuple[TableStyle, Callable[[Row], Cells]]:
    """Return the signatory table's frame and what makes a row's cells (current language)."""
    labels = {
        "number": "№",
        "name": _("Full name"),
        "region": _("Region"),
        "address": _("Address or town"),
        "date": _("Date"),
        "ink": _("Signature"),
        "relationship": _("Relationship"),
        "relative": _("Relative concerned"),
        "version": _("Ver."),
        "signature": _("Signature"),
    }
    style = TableStyle(
        page=LANDSCAPE if landscape else PORTRAIT,
        margins=margins(landscape),
        columns=tuple(_column(column) for column in columns),
        header=tuple(_header(labels[column.name]) for column in columns),
        min_row=_MIN_ROW[edition],
    )
    names = [column.name for column in columns]
    words = {
        "filled_in_by": _("filled in by %(name)s"),
        "paper": _("in ink on paper"),
        "sheet": _("sheet %(sheet)s"),
        "line": _("line %(line)s"),
    }

    def cells(row: Row) -> Cells:
        return tuple(
            _signatory_cell(row, name, edition, questions, format_day, words) for name in names
        )

    return style, cells


def _signatory_cell(
    row: Row,
    name: str,
    edition: Edition,
    questions: Sequence[str],
    format_day: Callable[[str], str],
    words: dict[str, str],
) -> tuple[Content, ...]:
    if name == "number":
        # PAPER_MARK: see the legend on the front page.
        return (_text(f"{row.number}{PAPER_MARK if row.paper else ''}", colour=GREY),)
    if name == "name":
        if edition is Edition.sheets:
            return (_text(row.name),)
        lines: list[Content] = [_text(row.name, SANS_OBLIQUE if row.withheld else SANS)]
        place = row.postal_address or row.town
        if place:
            lines.append(Text(place, SANS, SUB_PT, GREY))
        if row.helper:
            lines.append(Text(words["filled_in_by"] % {"name": row.helper}, SANS, SUB_PT, GREY))
        if row.paper:
            lines.append(Text(paper_place(row, words), SANS, SUB_PT, GREY))
        for label, answer in zip(questions, row.answers, strict=True):
            if answer:
                lines.append(Text(f"{label}: {answer}", SANS, SUB_PT, GREY))
        return tuple(lines)
    if name == "address":
        return (_text(row.postal_address or row.town),)
    if name in ("ink",) or (name == "date" and edition is Edition.sheets):
        return (Box(_BOX_HEIGHT),)
    if name == "date":
        return (_text(format_day(row.signed_on)),)
    if name == "version":
        return (_text(str(row.version)),)
    if name == "signature":
        if row.image_sha256:
            return (Picture(row.image_sha256, _SIGNATURE_HEIGHT, _SIGNATURE_MAX_WIDTH),)
        if row.typed_signature:
            return (_text(row.typed_signature, SERIF_ITALIC),)
        return ()
    return (_text(getattr(row, name)),)


def annex_table(columns: Sequence[Column]) -> tuple[TableStyle, Callable[[Family], Cells]]:
    """Return the annex's frame (its heading on the first page) and what makes a row's cells."""
    labels = {
        "relative": _("Relative concerned"),
        "held": _("Where held"),
        "children": _("Children"),
        "members": _("Signatories"),
    }
    style = TableStyle(
        page=PORTRAIT,
        margins=margins(False),
        columns=tuple(_column(column) for column in columns),
        header=tuple(_header(labels[column.name]) for column in columns),
        min_row=0.0,
        heading=(
            (Text(_("Annex: families"), SERIF_BOLD, 15.0, line_height=1.2), 4.0),
            (
                Text(
                    _(
                        "Signatories grouped by the person concerned they name; every place and "
                        "number of children given is shown, the most given first."
                    ),
                    SANS,
                    9.0,
                    GREY,
                    line_height=1.35,
                ),
                9.0 * 25.4 / 72,  # the paragraph's bottom margin, 1em
            ),
        ),
    )

    def cells(family: Family) -> Cells:
        return (
            (_text(family.relative),),
            (_text(family.location),) if family.location else (),
            (_text(family.children),),
            (_text(_members(family)),),
        )

    return style, cells


def _members(family: Family) -> str:
    return "; ".join(
        f"№\u00a0{number} {name}" + (f" ({relationship})" if relationship else "")
        for number, name, relationship in family.members
    )


def characters(style: TableStyle, rows: Iterable[Cells]) -> dict[FontStyle, set[str]]:
    """Every character each font style sets in the table's rows and frame."""
    found: dict[FontStyle, set[str]] = {}
    for text in [*style.header, *(text for text, _after in style.heading)]:
        found.setdefault(text.style, set()).update(text.text)
    # Row by row: the rows may be made as they are read, and let go after.
    for row in rows:
        for cell in row:
            for item in cell:
                if isinstance(item, Text):
                    found.setdefault(item.style, set()).update(item.text)
    return found
