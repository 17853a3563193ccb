"""Render a dossier's parts in parallel (reusing cached blocks), then assemble the PDF.

dossiers.layout turns the content into parts, dossiers.block_cache keeps the blocks. Page
numbers ("page X of Y") and the snapshot id depend on the whole document, so they are drawn on
every page after assembly rather than laid out in the blocks.
"""

import ctypes
import gc
import tempfile
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Any, BinaryIO

from flask import current_app
from flask_babel import force_locale
from flask_babel import gettext as _

from campaign import ROOT
from campaign.dossiers import shared_blocks
from campaign.dossiers.block_cache import BlockCache, cache_folder
from campaign.dossiers.content import DossierContent
from campaign.dossiers.layout import DossierLayout
from campaign.dossiers.page_jobs import Snapshot
from campaign.dossiers.table_parts import CutAgain
from campaign.pdf import RenderJob, render_pdf
from campaign.pdf_glyphs import FontStyle, glyph_sample_document
from campaign.pdf_merge import assemble
from campaign.pdf_table_painter import TableJob
from campaign.pdf_workers import WorkersStopped, render_many, start_workers
from campaign.pdf_workers import shutdown as stop_render_workers
from campaign.private_files import private_folder

# Parts to merge from which the render workers are stopped first: about 300 pages (a block of
# the tables is about 6 pages).
STOP_WORKERS_FROM_PARTS = 50
# Reading this many signatures leaves enough freed memory to be worth handing back.
RELEASE_MEMORY_FROM_ROWS = 3_000


@dataclass(frozen=True)
class RenderedDossier:
    """The finished file and what the snapshot records about it."""

    # Unnamed, in the dossier folder: the caller closes it. At 100,000 signatories the file is
    # about 200 MB, which need not be in memory to be hashed and stored.
    file: BinaryIO
    pages: int
    list_fingerprint: str
    versions: list[int]
    signature_count: int


def _release_memory() -> None:
    """Hand freed memory back to the system: reading the signatures', or the layout's.

    Rows read and laid out are many small objects: once freed, glibc keeps their memory for
    the process unless asked to trim it (about 80 MB after the layout at 20,000 signatories,
    120 MB after reading 100,000 signatures).
    """
    gc.collect()
    # Not glibc: the memory stays with the process, nothing worse.
    with suppress(OSError, AttributeError):
        ctypes.CDLL("libc.so.6").malloc_trim(0)


@contextmanager
def _collector_kept_off_the_content() -> Iterator[None]:
    """Keep the cyclic garbage collector off every object made so far while the tables are
    laid out and drawn.

    The layout makes many small objects block by block, and each of the collector's full
    passes walked the 100,000 rows and the families again: the pipelined layout took 30.3 s
    instead of 24.5 s at 100,000 without this (one render each, the same database). Objects
    made meanwhile are collected as usual; those made before (in any thread) wait till the end.
    """
    gc.freeze()
    try:
        yield
    finally:
        gc.unfreeze()


def footer_text(page: int, total: int, snapshot_id: str) -> str:
    """The footer of every page, in the current language."""
    return _("Page %(page)d of %(total)d · snapshot %(id)s", page=page, total=total, id=snapshot_id)


def prepare_render() -> None:
    """Get the render workers going while the caller gathers a dossier's content."""
    start_workers(current_app.config["DOSSIER_PROCESSES"])


def render_dossier(
    content: DossierContent,
    snapshot: Snapshot,
    *,
    landscape: bool = False,
    progress: Callable[[int], None] | None = None,
) -> RenderedDossier:
    """Render the dossier for a snapshot: parts in parallel, cached blocks reused, then assembled.

    `progress` receives a percentage now and then.
    """
    if len(content.rows) >= RELEASE_MEMORY_FROM_ROWS:
        _release_memory()
    with BlockCache(cache_folder(content.appeal.id, content.edition)) as cache:
        return _render(content, snapshot, landscape, progress, cache)


def _render(
    content: DossierContent,
    snapshot: Snapshot,
    landscape: bool,
    progress: Callable[[int], None] | None,
    cache: BlockCache,
) -> RenderedDossier:
    config = current_app.config
    layout = DossierLayout(content, snapshot, landscape=landscape, cache=cache)
    static_root = ROOT / "static"
    processes = config["DOSSIER_PROCESSES"]
    # One time limit for the whole render, whichever batch its time goes to.
    deadline = time.monotonic() + config["DOSSIER_TIME_LIMIT"]
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="dossier-pages") as pages:
        # With render workers, the pages that do not depend on the tables are rendered while
        # this thread lays the tables out (a thread waits for them, not the CPU).
        early = {}
        if processes:
            jobs = list(layout.pages.values())
            early = {id(job): job for job in jobs}
            try:
                future = pages.submit(
                    render_many,
                    jobs,
                    static_root=static_root,
                    processes=processes,
                    time_limit=config["DOSSIER_TIME_LIMIT"],
                    until=deadline,
                )
            except RuntimeError as error:
                # concurrent.futures takes no work once the interpreter is exiting (a job of
                # the web process's own task consumer as the process ends): the render stops
                # as it does when its workers are stopped under it.
                raise WorkersStopped("the process is exiting: no thread is started") from error
        layout.prepare()
        with _collector_kept_off_the_content():
            pdf_parts, glyph_sample = _render_parts(
                layout, static_root, progress, cache, early, deadline
            )
        if early:
            rendered_pages = dict(zip(early, future.result(), strict=True))
            pdf_parts = [rendered_pages.get(id(part), part) for part in pdf_parts]
    return _assemble(layout, pdf_parts, glyph_sample, progress)


def _render_parts(
    layout: DossierLayout,
    static_root: Path,
    progress: Callable[[int], None] | None,
    cache: BlockCache,
    early: dict[int, RenderJob],
    deadline: float,
) -> tuple[list[Any], bytes]:
    """Render the parts not cached (but those in early); return them all, and the footers' glyphs.

    The parts in early stay as they are, to be replaced by the caller.
    """
    config = current_app.config
    content, snapshot = layout.content, layout.snapshot

    # First the glyph samples: the tables are measured and drawn with their fonts, and the
    # footers drawn with those of a sample of their own characters (which do not depend on the
    # page count: all digits are in).
    characters = layout.characters
    with force_locale(content.language):
        footer_characters = footer_text(0, 0, snapshot.id) + "0123456789"
    sample_jobs = [
        RenderJob(html=glyph_sample_document(text, language=content.language, style=font))
        for font, text in characters.items()
    ]
    sample_jobs.append(
        RenderJob(html=glyph_sample_document(footer_characters, language=content.language))
    )
    # They are small pages of our own: rendered here while the workers may still be starting.
    *samples, glyph_sample = render_many(
        sample_jobs, static_root=static_root, processes=0, time_limit=config["DOSSIER_TIME_LIMIT"]
    )
    samples_by_font = dict(zip(characters, samples, strict=True))
    # Footers and assembling are counted as the last tenth, the rest by the rows drawn.
    total_rows = max(1, layout.rows_to_lay_out)

    def rows_done(done: int) -> None:
        if progress is not None:
            progress(min(90, int(90 * done / total_rows)))

    while True:
        try:
            parts = _draw_in_order(
                layout, samples_by_font, static_root, cache, early, deadline, rows_done
            )
        except CutAgain:
            # (Rare.) A table met a row taller than a page, and is cut again for WeasyPrint's
            # pages; the blocks drawn before are in the cache.
            continue
        break
    cache.prune()
    for name, entries in layout.manifests.items():
        cache.write_manifest(name, entries)
    return parts, glyph_sample


def _draw_in_order(
    layout: DossierLayout,
    samples: dict[FontStyle, bytes],
    static_root: Path,
    cache: BlockCache,
    early: dict[int, RenderJob],
    deadline: float,
    rows_done: Callable[[int], None],
) -> list[Any]:
    """Render the parts not cached (but those in early), as the layout makes them; return all.

    The tables are laid out block by block as the workers ask for more (render_many takes a
    few jobs ahead), so that their laid-out pages are not held whole (issue 22).
    """
    config = current_app.config
    parts: list[Any] = []  # in document order; a job's place is filled once rendered
    places: list[int] = []
    keys: list[str | None] = []
    counts: list[int] = []  # each job's rows
    done = 0  # rows in the parts at hand

    def jobs() -> Iterator[RenderJob | TableJob]:
        nonlocal done
        for part, key, count in layout.in_order(samples):
            if isinstance(part, RenderJob | TableJob) and id(part) not in early:
                places.append(len(parts))
                keys.append(key)
                counts.append(count)
                parts.append(None)
                yield part
            else:
                parts.append(part)
                done += count

    def keep(position: int, pdf: bytes) -> bytes | BinaryIO:
        # A new block goes to the cache as soon as it arrives, and is merged from there: this
        # process never holds all the blocks at once.
        key = keys[position]
        if key is None:
            return pdf
        cache.put(key, pdf)
        # Emptied meanwhile (a withdrawal): the bytes in hand will do.
        return cache.get(key) or pdf

    def tick(position: int) -> None:
        nonlocal done
        done += counts[position]
        rows_done(done)

    options: dict[str, Any] = {
        "static_root": static_root,
        "processes": config["DOSSIER_PROCESSES"],
        "time_limit": config["DOSSIER_TIME_LIMIT"],
        "until": deadline,
        "on_done": tick,
        "keep": keep,
    }
    if shared_blocks.enabled():
        # Task workers on other hosts render blocks too: every job is laid out before the
        # first is offered to them (alone, a render lays them out as its workers ask).
        content = layout.content
        listed = list(jobs())
        rendered = shared_blocks.render_shared(
            listed, keys, cache, appeal_id=content.appeal.id, edition=content.edition, **options
        )
        del listed
    else:
        rendered = render_many(jobs(), **options)
    for place, pdf in zip(places, rendered, strict=True):
        parts[place] = pdf
    return parts


def _assemble(
    layout: DossierLayout,
    parts: list[bytes | BinaryIO],
    glyph_sample: bytes,
    progress: Callable[[int], None] | None,
) -> RenderedDossier:
    config = current_app.config
    content, snapshot = layout.content, layout.snapshot
    if progress is not None:
        progress(95)
    if len(parts) >= STOP_WORKERS_FROM_PARTS:
        # The idle workers' and the fork server's memory (about 250 MB) is worth more to the
        # rest of the machine than the second it takes to start them again.
        stop_render_workers(fork_server=True)
        _release_memory()
    # The merged file is written part by part to an unnamed file beside the snapshots (it
    # holds private data), and handed over as it is.
    folder = Path(config["DOSSIER_FOLDER"])
    private_folder(folder)
    merged = tempfile.TemporaryFile(dir=folder)  # noqa: SIM115 (the caller closes it)
    try:
        with force_locale(content.language):
            page_count = assemble(
                parts,
                partial(footer_text, snapshot_id=snapshot.id),
                glyph_sample,
                merged,
                footer_pages=lambda html: render_pdf(RenderJob(html=html), ROOT / "static"),
            )
    except BaseException:
        merged.close()
        raise
    merged.seek(0)
    return RenderedDossier(
        file=merged,
        pages=page_count,
        list_fingerprint=layout.list_fingerprint,
        versions=[version.number for version in content.versions],
        signature_count=len(content.rows),
    )
