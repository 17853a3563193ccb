"""Turn a dossier's content into its parts in document order: render jobs and cached blocks.

The signatory table and the annex are cut into blocks of whole pages (dossiers.block_cache
keeps them; dossiers.table_parts makes them). Page numbers ("page X of Y") and the snapshot id
depend on the whole document, so dossiers.rendering draws them on every page after assembly
rather than here.
"""

import hashlib
import io
import logging
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import ExitStack
from dataclasses import replace
from functools import cached_property, partial
from itertools import islice
from typing import Any, BinaryIO

from flask_babel import force_locale
from pikepdf import Pdf

from campaign.dossiers.annex_families import Family, families
from campaign.dossiers.block_cache import BlockCache, block_key
from campaign.dossiers.content import DossierContent, Row
from campaign.dossiers.drawn_tables import annex_table, characters, signatory_table
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
from campaign.dossiers.signature_list import signature_list_csv
from campaign.dossiers.table_parts import (
    CutAgain,
    DrawnTable,
    Part,
    TableParts,
    chunks,
    page_blocks,
)
from campaign.pdf import RenderJob
from campaign.pdf_glyphs import FontStyle, Glyphs
from campaign.pdf_table_painter import TableJob

log = logging.getLogger(__name__)

# Per-signer sheets (one page each) laid out per job: as many pages as a table's block holds
# of rows, about.
SIGNER_SHEETS_PER_BLOCK = 60


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
        self.drawn: list[DrawnTable] = []
        self.tables = TableParts(content, landscape=landscape, columns=self.columns, cache=cache)

    @property
    def manifests(self) -> dict[str, list[tuple[str, int, str]]]:
        """The drawn tables' manifests for the next render, filled as each table ends."""
        return self.tables.manifests

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
            self.drawn = [self.tables.prepare("table-drawn", style, content.rows, cells)]
            # The drawings of the rows to lay out again (those of cached blocks are drawn).
            content.load_images(islice(content.rows, self.drawn[0].start, None))
            if content.edition is not Edition.sheets:
                style, cells = annex_table(family_columns())
                self.drawn.append(self.tables.prepare("annex-drawn", style, self.annex_rows, cells))

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
                    for rows in chunks(self.content.rows, SIGNER_SHEETS_PER_BLOCK):
                        yield self._block("signer-sheets", [rows], rows, self.jobs.signer_sheets)
                else:
                    yield from self.tables.parts(
                        self.drawn[0], glyphs, samples, self._signatory_blocks
                    )
                    yield Part(self.pages["summary"])
                    yield from self.tables.parts(self.drawn[1], glyphs, samples, self._annex_blocks)
                if self.content.edition is Edition.submission:
                    for scans in scans_annex_jobs(self.content, common(self.content, False)):
                        yield Part(scans)
                yield Part(self.pages["verification"])

    def _signatory_blocks(self, rows: list[Row], _first: bool) -> Iterator[Part]:
        pages = signatory_pages(
            rows,
            self.columns,
            self.content.edition,
            self.content.questions,
            landscape=self.landscape,
        )
        for block in page_blocks(pages):
            items = [row for page in block for row in page]
            yield self._block("table", block, items, self.jobs.table)

    def _annex_blocks(self, items: Sequence[Family], first: bool = True) -> Iterator[Part]:
        pages = family_pages(items, family_columns(), first_heading=first)
        for number, block in enumerate(page_blocks(pages)):
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
