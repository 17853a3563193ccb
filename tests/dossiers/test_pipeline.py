"""The tables are laid out block by block as the render workers ask for more (issue 22)."""

import gc

import pytest

from campaign import pdf_workers
from campaign.dossiers import rendering, table_parts
from campaign.dossiers.models import Edition
from campaign.dossiers.operations import make_snapshot, snapshot_path
from campaign.extensions import db
from campaign.pdf_tables import TablePage
from tests.dossiers.pdftools import FOOTER, flat, page_texts

ARABIC = "\u0646\u0627\u0644\u0648\u064a\u0641\u0627"


def laid_out_pages() -> int:
    return sum(isinstance(thing, TablePage) for thing in gc.get_objects())


@pytest.fixture
def watched(monkeypatch):
    """Record, as each block is made, how many blocks are made and not yet drawn, and how many
    laid-out pages are alive."""
    seen: dict[str, list[int]] = {"ahead": [], "pages": [], "tables": []}
    real = rendering.render_many

    def watching(parts, **options):
        if "keep" not in options:
            return real(parts, **options)  # the glyph samples, the cover and such
        done = 0
        on_done = options["on_done"]

        def counted(index):
            nonlocal done
            done += 1
            on_done(index)

        def jobs():
            for made, job in enumerate(parts):
                seen["ahead"].append(made - done)
                seen["pages"].append(laid_out_pages())
                seen["tables"].append(type(job).__name__ == "TableJob")
                yield job

        return real(jobs(), **{**options, "on_done": counted})

    monkeypatch.setattr(rendering, "render_many", watching)
    return seen


def test_blocks_are_laid_out_no_more_than_a_few_ahead_of_the_workers(
    app, open_appeal, make_signature, monkeypatch, watched
):
    monkeypatch.setattr(table_parts, "PAGES_PER_BLOCK", 1)
    monkeypatch.setattr(pdf_workers, "JOBS_AHEAD_PER_PROCESS", 1)
    for n in range(300):
        make_signature(open_appeal, surname=f"Подписавшая{n:03d}", drawn=n % 10 == 0)
    snapshot = make_snapshot(open_appeal, Edition.submission, user=None)
    db.session.commit()
    processes = app.config["DOSSIER_PROCESSES"]
    assert sum(watched["tables"]) >= 4 * processes  # many more blocks than are made ahead
    # A block is made when a worker is free for it, not before: the others are not made yet.
    assert max(watched["ahead"]) <= processes
    # Each block's one page (and the next page, laid out to know where it ends) is alive only
    # until the block is drawn.
    assert max(watched["pages"]) <= 2 * processes + 2
    text = flat(" ".join(page_texts(snapshot_path(snapshot).read_bytes())))
    positions = [text.index(f"Подписавшая{n:03d}") for n in range(300)]
    assert positions == sorted(positions)
    assert len(FOOTER.findall(text)) == snapshot.pages


def test_a_table_with_a_name_that_needs_shaping_is_laid_out_as_the_workers_ask_too(
    app, open_appeal, make_signature, monkeypatch, watched
):
    monkeypatch.setattr(table_parts, "PAGES_PER_BLOCK", 1)
    monkeypatch.setattr(pdf_workers, "JOBS_AHEAD_PER_PROCESS", 1)
    for n in range(300):
        surname = ARABIC if n == 150 else f"Подписавшая{n:03d}"
        make_signature(open_appeal, surname=surname, drawn=n % 10 == 0)
    snapshot = make_snapshot(open_appeal, Edition.submission, user=None)
    db.session.commit()
    processes = app.config["DOSSIER_PROCESSES"]
    # Her page goes to WeasyPrint; the pages drawn before and after it are laid out as the
    # workers ask for them, not all at once (with the cells of every row).
    assert not all(watched["tables"])
    assert sum(watched["tables"]) >= 4 * processes
    assert max(watched["pages"]) <= 2 * processes + 2
    text = flat(" ".join(page_texts(snapshot_path(snapshot).read_bytes())))
    positions = [text.index(f"Подписавшая{n:03d}") for n in range(300) if n != 150]
    assert positions == sorted(positions)
    assert len(FOOTER.findall(text)) == snapshot.pages


def test_the_collector_leaves_the_content_alone_while_the_tables_are_drawn(
    open_appeal, make_signature, monkeypatch
):
    for n in range(3):
        make_signature(open_appeal, surname=f"Подписавшая{n}")
    frozen = []
    real = rendering.render_many

    def watching(parts, **options):
        frozen.append(gc.get_freeze_count())
        return real(parts, **options)

    monkeypatch.setattr(rendering, "render_many", watching)
    make_snapshot(open_appeal, Edition.submission, user=None)
    db.session.commit()
    assert frozen[-1] > 0  # the rows, the families: not walked by each full collection
    assert gc.get_freeze_count() == 0  # and handed back to it after
