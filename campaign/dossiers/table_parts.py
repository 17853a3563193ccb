"""A dossier's tables made into parts: their blocks found in the cache, blocks of pages drawn
straight into PDF (pdf_tables), and, where a row cannot be drawn, pages for WeasyPrint; and the
manifests by which the next render finds the blocks again. dossiers.layout puts them in order.
"""

import logging
from collections.abc import Callable, Generator, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from itertools import islice
from typing import Any, BinaryIO, NamedTuple

from campaign.dossiers.block_cache import BlockCache, block_key, item_key
from campaign.dossiers.content import DossierContent, Row
from campaign.dossiers.drawn_tables import Cells
from campaign.dossiers.pagination import Column, family_columns, family_pages, signatory_pages
from campaign.dossiers.signature_images import BlockImages
from campaign.pdf import RenderJob
from campaign.pdf_glyphs import FontStyle, Glyphs
from campaign.pdf_table_painter import TableJob
from campaign.pdf_tables import (
    NotDrawable,
    TablePage,
    TableStyle,
    covered,
    drawable_rows,
    fonts_used,
    lay_out_pages,
)

log = logging.getLogger(__name__)

# Small enough that new signatures re-render little, large enough to keep each block's own
# start-up cost (style sheets, fonts) small.
PAGES_PER_BLOCK = 6


def chunks(items: Sequence[Any], size: int) -> Iterator[Sequence[Any]]:
    """Cut the items into runs of `size` (the last may be shorter)."""
    for start in range(0, len(items), size):
        yield items[start : start + size]


def page_blocks(pages: list[Sequence[Any]]) -> list[list[Sequence[Any]]]:
    """Group pages into blocks of PAGES_PER_BLOCK pages: the blocks WeasyPrint lays out."""
    return [list(block) for block in chunks(pages, PAGES_PER_BLOCK)]


@dataclass
class DrawnTable:
    """A table to draw: its blocks found in the cache, then the rows after them."""

    kind: str
    manifest: str
    style: TableStyle
    items: Sequence[Any]  # rows or families
    make_cells: Callable[[Any], Cells]
    blocks: list[tuple[BinaryIO | bytes, str, int]] = field(default_factory=list)
    start: int = 0  # the first item not in a cached block
    # Every character the cells (and the frame lay_out sets) use, by font style, once known.
    characters: dict[FontStyle, set[str]] | None = None
    # False once a row turned out taller than a page: the table is cut for WeasyPrint's pages.
    whole: bool = True

    @property
    def rest(self) -> int:
        """How many rows are not in a cached block."""
        return len(self.items) - self.start

    def cells(self) -> Iterator[Cells]:
        """Make the cells of each row not in a cached block, as they are asked for.

        Made again for each use rather than kept: at 100,000 signatories they are about
        110 MB, and making them is quick next to laying them out.
        """
        return map(self.make_cells, islice(self.items, self.start, None))


class Part(NamedTuple):
    """A part of the document: a cached block's file or a job, and where it belongs."""

    part: BinaryIO | bytes | RenderJob | TableJob
    key: str | None = None  # the cache key to keep it under (None: not kept)
    rows: int = 0  # the table rows (or signers) it holds, cached or not: for progress


class CutAgain(Exception):
    """A table drawn whole met a row taller than a page: ask for the parts again."""


class TableParts:
    """Make a dossier's drawn tables into parts, and keep their manifests for the next render."""

    def __init__(
        self,
        content: DossierContent,
        *,
        landscape: bool,
        columns: list[Column],
        cache: BlockCache,
    ) -> None:
        self.content = content
        self.landscape = landscape
        self.columns = columns
        self.cache = cache
        # Each drawn table's blocks in order, (key, rows, fingerprint of the row after them),
        # for the next render to match.
        self.manifests: dict[str, list[tuple[str, int, str]]] = {}

    def prepare(
        self,
        kind: str,
        style: TableStyle,
        items: Sequence[Any],
        cells: Callable[[Any], Cells],
    ) -> DrawnTable:
        """A table to draw, its first blocks matched against the last render's manifest."""
        table = DrawnTable(kind, self._manifest_name(kind), style, items, cells)
        for key, count, following in self.cache.manifest(table.manifest):
            # A block's page cuts depend on its rows and on the row after it (which did not fit
            # on its last page): both must be as they were. The table's last block never is.
            end = table.start + count
            if end >= len(items) or following != item_key(items[end]):
                break
            if key != self._drawn_key(kind, table.start, items[table.start : end]):
                break
            cached = self.cache.get(key)
            if cached is None:
                break
            table.blocks.append((cached, key, count))
            table.start = end
        return table

    def _manifest_name(self, kind: str) -> str:
        return f"{kind}-{'landscape' if self.landscape else 'portrait'}"

    def _drawn_key(self, kind: str, start: int, items: Sequence[Any]) -> str:
        # The first block of the annex carries its heading.
        return block_key(
            f"{kind}@{start}" if start == 0 else kind, self.content, self.landscape, items
        )

    def parts(
        self,
        table: DrawnTable,
        glyphs: Mapping[FontStyle, Glyphs],
        samples: Mapping[FontStyle, bytes],
        laid_out_blocks: Callable[[list[Sequence[Any]], bool], Iterator[Part]],
    ) -> Iterator[Part]:
        blocks = [(key, count) for _cached, key, count in table.blocks]
        yield from (Part(cached, key, count) for cached, key, count in table.blocks)
        pages = self._lay_out(table, glyphs)
        if pages is not None:
            try:
                blocks += yield from self._drawn_parts(table, pages, table.start, samples)
            except NotDrawable as reason:
                # (A row taller than a page: rare.) The table is cut as for WeasyPrint instead.
                log.info("%s not drawn whole: %s", table.kind, reason)
                table.whole = False
                raise CutAgain(table.kind) from None
            self.manifests[table.manifest] = self._manifest(table, blocks)
            return
        # A table with rows that cannot be drawn (text that needs shaping, a row taller than a
        # page) is cut into pages as for WeasyPrint: the pages holding such rows are laid out
        # by WeasyPrint, the others drawn.
        mixed = self._mixed_segments(table, glyphs)
        start = table.start
        for number, (segment, drawn) in enumerate(mixed):
            if drawn is not None:
                yield from self._drawn_parts(table, drawn, start, samples)
            else:
                yield from laid_out_blocks(segment, number == 0 and table.start == 0)
            start += len(segment)
        # Only the blocks that were already cached are matched by the next render.
        self.manifests[table.manifest] = self._manifest(table, blocks)

    def _mixed_segments(
        self, table: DrawnTable, glyphs: Mapping[FontStyle, Glyphs]
    ) -> list[tuple[list[Any], Iterator[TablePage] | None]]:
        """Cut the rows still to lay out into pages, and those into runs of pages to draw or not.

        A page is drawn if every row of it can be. Each run is (its items, its drawn pages, laid
        out as they are asked for, or None for WeasyPrint). The cells are made row by row, for
        the check and again for the layout, never listed (issue 22: listed, the cells and the
        laid-out pages of 100,000 rows took 200 MB more than the table drawn whole).
        """
        items = table.items[table.start :]
        if table.kind == "table-drawn":
            pages = signatory_pages(
                items,
                self.columns,
                self.content.edition,
                self.content.questions,
                landscape=self.landscape,
            )
        else:
            pages = family_pages(items, family_columns(), first_heading=table.start == 0)
        drawable = drawable_rows(table.cells(), table.style, glyphs, self.content.images)
        segments: list[tuple[bool, list[Any]]] = []
        offset = 0
        for page in pages:
            drawn = all(drawable[offset : offset + len(page)])
            offset += len(page)
            if segments and segments[-1][0] == drawn:
                segments[-1][1].extend(page)
            else:
                segments.append((drawn, list(page)))
        log.info(
            "%s: %d of %d rows in pages laid out by WeasyPrint",
            table.kind,
            sum(len(items) for drawn, items in segments if not drawn),
            len(items),
        )
        runs: list[tuple[list[Any], Iterator[TablePage] | None]] = []
        start = table.start
        for drawn, run in segments:
            laid_out = None
            if drawn:
                cells = map(table.make_cells, islice(table.items, start, start + len(run)))
                laid_out = lay_out_pages(
                    cells, table.style, glyphs, self.content.images, heading=start == 0
                )
            runs.append((run, laid_out))
            start += len(run)
        # (WeasyPrint's runs are cut into the same pages again when their blocks are made.)
        return runs

    def _lay_out(
        self, table: DrawnTable, glyphs: Mapping[FontStyle, Glyphs]
    ) -> Iterator[TablePage] | None:
        """The table's pages, laid out as they are asked for; None if it is not drawn whole."""
        if not table.rest:
            return iter(())
        if not table.whole:
            return None
        if table.characters is None or not covered(table.characters, glyphs):
            log.info("%s not drawn whole: a text needs shaping or has no glyph", table.kind)
            return None
        return lay_out_pages(
            table.cells(), table.style, glyphs, self.content.images, heading=table.start == 0
        )

    def _drawn_parts(
        self,
        table: DrawnTable,
        pages: Iterator[TablePage],
        start: int,
        samples: Mapping[FontStyle, bytes],
    ) -> Generator[Part, None, list[tuple[str, int]]]:
        """Yield the table's blocks of drawn pages, each as soon as its pages are laid out;
        return each block's key and row count."""
        blocks = []
        while block := list(islice(pages, PAGES_PER_BLOCK)):
            count = sum(len(page.rows) for page in block)
            items = table.items[start : start + count]
            key = self._drawn_key(table.kind, start, items)
            start += count
            cached = self.cache.get(key)
            if cached is None:
                # Read when the job is sent to a worker, not now.
                images = BlockImages(
                    self.content.images,
                    {
                        row.image_sha256: row.image_sha256
                        for row in items
                        if isinstance(row, Row) and row.image_sha256
                    },
                )
                fonts = fonts_used(block, table.style)
                used = {font: data for font, data in samples.items() if font in fonts}
                cached = TableJob(tuple(block), table.style, used, images)
            del block
            blocks.append((key, count))
            yield Part(cached, key, count)
        return blocks

    def _manifest(
        self, table: DrawnTable, blocks: list[tuple[str, int]]
    ) -> list[tuple[str, int, str]]:
        entries = []
        start = 0
        for key, count in blocks:
            start += count
            following = item_key(table.items[start]) if start < len(table.items) else ""
            entries.append((key, count, following))
        return entries
