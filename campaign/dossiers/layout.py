"""Turn a dossier's content into its parts in document order: render jobs and cached blocks.

The signatory table and the annex are cut into blocks of whole pages (dossiers.block_cache
keeps them). Page numbers ("page X of Y") and the snapshot id depend on the whole document, so
dossiers.rendering draws them on every page after assembly rather than here.
"""

import hashlib
import io
import logging
from collections.abc import Callable, Generator, Iterator, Mapping, Sequence
from contextlib import ExitStack
from dataclasses import dataclass, field, replace
from functools import cached_property, partial
from itertools import islice
from typing import Any, BinaryIO, NamedTuple

from flask_babel import force_locale
from pikepdf import Pdf

from campaign.dossiers.annex_families import Family, families
from campaign.dossiers.block_cache import BlockCache, block_key, item_key
from campaign.dossiers.content import DossierContent, Row
from campaign.dossiers.drawn_tables import Cells, annex_table, characters, signatory_table
from campaign.dossiers.models import Edition
from campaign.dossiers.page_jobs import PageJobs, Snapshot, common, format_day
from campaign.dossiers.pagination import (
    family_columns,
    family_pages,
    signatory_columns,
    signatory_pages,
    split_tall_families,
)
from campaign.dossiers.sheets import scans_annex_jobs
from campaign.dossiers.signature_images import BlockImages
from campaign.dossiers.signature_list import signature_list_csv
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
# Per-signer sheets (one page each) laid out per job: as many pages as a table's block holds
# of rows, about.
SIGNER_SHEETS_PER_BLOCK = 60


def _chunks(items: Sequence[Any], size: int) -> Iterator[Sequence[Any]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


def _blocks(pages: list[Sequence[Any]]) -> list[list[Sequence[Any]]]:
    return [list(block) for block in _chunks(pages, PAGES_PER_BLOCK)]


@dataclass
class _DrawnTable:
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


class DossierLayout:
    """Turn a dossier's content into render jobs and cached parts, in document order."""

    def __init__(
        self, content: DossierContent, snapshot: Snapshot, *, landscape: bool, cache: BlockCache
    ) -> None:
        self.content = content
        self.snapshot = snapshot
        self.landscape = landscape
        self.cache = cache
        self.csv = signature_list_csv(content)
        self.list_fingerprint = hashlib.sha256(self.csv).hexdigest()
        self.columns = signatory_columns(
            content.edition, landscape=landscape, versions=len(content.versions) > 1
        )
        self.jobs = PageJobs(
            content,
            snapshot,
            landscape=landscape,
            columns=self.columns,
            csv=self.csv,
            list_fingerprint=self.list_fingerprint,
        )
        # Document order: each entry is a cached block's file or a job, and the cache key to
        # keep it under.
        self.parts: list[tuple[BinaryIO | bytes | RenderJob | TableJob, str | None]] = []
        self.drawn: list[_DrawnTable] = []
        # Each drawn table's blocks in order, (key, rows, fingerprint of the row after them),
        # for the next render to match.
        self.manifests: dict[str, list[tuple[str, int, str]]] = {}

    @cached_property
    def pages(self) -> dict[str, RenderJob]:
        """The pages laid out by WeasyPrint whatever the tables: front matter, summary, checks."""
        with force_locale(self.content.language):
            pages = {"front": self.jobs.front()}
            if self.content.edition is not Edition.sheets:
                pages["summary"] = self.jobs.page("pdf/summary.html", self.jobs.summary_context())
            pages["verification"] = self.jobs.verification()
        return pages

    def prepare(self) -> None:
        """Find the tables' cached blocks, and how to make the cells of the rows still to lay out.

        A table's blocks are matched in order against the last render's (BlockCache.manifest):
        rows only ever join the end of the signatory table, so after new signatures only its
        last block is laid out again. The annex changes wherever a family gains a signer.
        """
        content = self.content
        if content.edition is Edition.sheets:
            self.drawn = []  # one page per signer (dossiers.sheets), no table
            content.load_images(content.rows)
            return
        with force_locale(content.language):
            style, cells = signatory_table(
                self.columns,
                content.edition,
                content.questions,
                landscape=self.landscape,
                format_day=partial(format_day, language=content.language),
            )
            self.drawn = [self._prepare("table-drawn", style, content.rows, cells)]
            # The drawings of the rows to lay out again (those of cached blocks are drawn).
            content.load_images(islice(content.rows, self.drawn[0].start, None))
            if content.edition is not Edition.sheets:
                style, cells = annex_table(family_columns())
                self.drawn.append(self._prepare("annex-drawn", style, self.annex_rows, cells))

    def _prepare(
        self,
        kind: str,
        style: TableStyle,
        items: Sequence[Any],
        cells: Callable[[Any], Cells],
    ) -> _DrawnTable:
        table = _DrawnTable(kind, self._manifest_name(kind), style, items, cells)
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

    @property
    def characters(self) -> dict[FontStyle, str]:
        """Every character the rows to draw set, by font style: what the glyph samples hold.

        Nothing when every block is cached.
        """
        found: dict[FontStyle, set[str]] = {}
        for table in self.drawn:
            if table.rest:
                # The heading is set on the table's first page only.
                frame = table.style if table.start == 0 else replace(table.style, heading=())
                table.characters = characters(frame, table.cells())
                for font, chars in table.characters.items():
                    found.setdefault(font, set()).update(chars)
                for font, chars in characters(table.style, ()).items():
                    found.setdefault(font, set()).update(chars)
        return {font: "".join(sorted(chars)) for font, chars in found.items()}

    @property
    def rows_to_lay_out(self) -> int:
        """How many rows (or signers) the parts hold in all, cached or not: for progress."""
        if self.content.edition is Edition.sheets:
            return len(self.content.rows)
        return sum(len(table.items) for table in self.drawn)

    @cached_property
    def families(self) -> list[Family]:
        """The annex's families."""
        return families(self.content)

    @cached_property
    def annex_rows(self) -> list[Family]:
        """The annex's rows: its families, a family too tall for a page in several rows."""
        return split_tall_families(self.families, family_columns())

    def plan(self, samples: Mapping[FontStyle, bytes]) -> None:
        """Fill `parts` with every part at once (tests, the naive benchmark): see in_order."""
        while True:
            try:
                self.parts = [(part, key) for part, key, _rows in self.in_order(samples)]
            except CutAgain:
                continue
            return

    def in_order(self, samples: Mapping[FontStyle, bytes]) -> Iterator[Part]:
        """Yield the parts in document order: front matter, table blocks, summary, annex
        blocks, verification; fill `manifests` as each table ends.

        samples are the rendered glyph samples of `characters`, by font style. A table drawn
        whole is laid out as its blocks are asked for, so that only the blocks not yet drawn
        are held (issue 22); raises CutAgain if a row of it turns out taller than a page (the
        parts must be asked for again: the table is then cut for WeasyPrint's pages).
        """
        with ExitStack() as stack:
            glyphs = {}
            for font, data in samples.items():
                try:
                    glyphs[font] = Glyphs.read(stack.enter_context(Pdf.open(io.BytesIO(data))))
                except ValueError as reason:  # say, a colour font WeasyPrint set as Type 3
                    log.info("no glyphs from the sample of %s: %s", font, reason)
            with force_locale(self.content.language):
                yield Part(self.pages["front"])
                if self.content.edition is Edition.sheets:
                    for rows in _chunks(self.content.rows, SIGNER_SHEETS_PER_BLOCK):
                        yield self._block("signer-sheets", [rows], rows, self.jobs.signer_sheets)
                else:
                    yield from self._table_parts(
                        self.drawn[0], glyphs, samples, self._signatory_blocks
                    )
                    yield Part(self.pages["summary"])
                    yield from self._table_parts(self.drawn[1], glyphs, samples, self._annex_blocks)
                if self.content.edition is Edition.submission:
                    for scans in scans_annex_jobs(self.content, common(self.content, False)):
                        yield Part(scans)
                yield Part(self.pages["verification"])

    def _table_parts(
        self,
        table: _DrawnTable,
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
        self, table: _DrawnTable, glyphs: Mapping[FontStyle, Glyphs]
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

    def _signatory_blocks(self, rows: list[Row], _first: bool) -> Iterator[Part]:
        pages = signatory_pages(
            rows,
            self.columns,
            self.content.edition,
            self.content.questions,
            landscape=self.landscape,
        )
        for block in _blocks(pages):
            items = [row for page in block for row in page]
            yield self._block("table", block, items, self.jobs.table)

    def _lay_out(
        self, table: _DrawnTable, glyphs: Mapping[FontStyle, Glyphs]
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
        table: _DrawnTable,
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
        self, table: _DrawnTable, blocks: list[tuple[str, int]]
    ) -> list[tuple[str, int, str]]:
        entries = []
        start = 0
        for key, count in blocks:
            start += count
            following = item_key(table.items[start]) if start < len(table.items) else ""
            entries.append((key, count, following))
        return entries

    def _annex_blocks(self, items: Sequence[Family], first: bool = True) -> Iterator[Part]:
        pages = family_pages(items, family_columns(), first_heading=first)
        for number, block in enumerate(_blocks(pages)):
            block_items = [family for page in block for family in page]
            # The first block carries the annex's heading.
            heading = first and number == 0
            yield self._block(
                "annex-first" if heading else "annex",
                block,
                block_items,
                lambda pages, heading=heading: self.jobs.annex(pages, heading),
            )

    def _block(
        self,
        kind: str,
        pages: list[Sequence[Any]],
        items: Sequence[Any],
        make_job: Callable[[list[Sequence[Any]]], RenderJob],
    ) -> Part:
        key = block_key(kind, self.content, self.landscape, items)
        cached = self.cache.get(key)
        return Part(cached if cached is not None else make_job(pages), key, len(items))
