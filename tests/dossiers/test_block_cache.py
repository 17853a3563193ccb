"""The block cache across renders: blocks reused, emptied by a withdrawal, matched again."""

import io
from shutil import rmtree

import pikepdf

from campaign import pdf_merge
from campaign.appeals.operations import publish_appeal
from campaign.dossiers import block_cache, rendering, table_parts
from campaign.dossiers.models import Edition
from campaign.dossiers.operations import snapshot_path
from campaign.extensions import db
from tests.dossiers.pdftools import FOOTER, flat, page_texts
from tests.dossiers.rendered import render


def test_unchanged_blocks_are_reused(signed_appeal, make_signature, monkeypatch):
    render(signed_appeal)
    batches = {}
    real = rendering.render_many

    def counting(parts, **options):
        parts = list(parts)  # (the blocks come as they are laid out)
        # The glyph samples are rendered in this process; the front matter, summary and
        # verification page in the workers while the tables are laid out; then the blocks.
        batch = (
            "samples" if options["processes"] == 0 else "blocks" if "keep" in options else "pages"
        )
        batches[batch] = sorted(type(part).__name__ for part in parts)
        return real(parts, **options)

    monkeypatch.setattr(rendering, "render_many", counting)
    snapshot, pdf = render(signed_appeal)
    assert batches["pages"] == ["RenderJob"] * 3
    # Every block is cached (the last ones are laid out again, in case rows follow them).
    assert batches["blocks"] == []
    make_signature(signed_appeal, surname="Новаяподписантка")
    batches.clear()
    snapshot, pdf = render(signed_appeal)
    # The last block of the table and of the annex are drawn again.
    assert batches["blocks"] == ["TableJob"] * 2
    assert "Новаяподписантка" in flat(" ".join(page_texts(pdf)))
    cached = list((snapshot_path(snapshot).parent.parent / "cache").rglob("*.pdf"))
    assert len(cached) == 2  # the blocks no longer used are gone


def test_a_cache_emptied_during_a_render_does_not_break_it(
    signed_appeal, make_signature, monkeypatch
):
    monkeypatch.setattr(table_parts, "PAGES_PER_BLOCK", 1)  # several blocks to reuse
    first, pdf = render(signed_appeal)
    make_signature(signed_appeal, surname="Новаяподписантка")
    real = rendering.render_many
    jobs = []

    def emptying(parts, **options):

        parts = list(parts)  # (the blocks come as they are laid out)
        # A withdrawal elsewhere empties the cache while the new blocks are being rendered:
        # the cached blocks already chosen are open, the new ones are still in hand.
        rendered = real(parts, **options)
        if "keep" in options:  # the blocks, after the glyph samples and the other pages
            jobs.append(len(parts))
            rmtree(block_cache.cache_folder(signed_appeal.id))
        return rendered

    monkeypatch.setattr(rendering, "render_many", emptying)
    snapshot, pdf = render(signed_appeal)
    texts = page_texts(pdf)
    assert len(texts) == snapshot.pages
    assert "Новаяподписантка" in flat(" ".join(texts))
    assert snapshot.signature_count == first.signature_count + 1
    assert len(FOOTER.findall(" ".join(texts))) == snapshot.pages
    assert snapshot.pages - first.pages <= 1
    # Only the last table block and the last annex block were drawn; the table's other pages
    # came from the cache.
    assert jobs == [2]
    assert sum("Подпись" in text for text in texts) >= 3


def test_the_block_cache_holds_a_bounded_number_of_files_open(tmp_path, monkeypatch):
    monkeypatch.setattr(block_cache, "OPEN_BLOCKS", 2)
    with block_cache.BlockCache(tmp_path) as cache:
        for key in "abc":
            cache.put(key, f"%PDF {key}".encode())
        found = [cache.get(key) for key in "abc"]
        assert cache.get("missing") is None
        assert [part.read() for part in found[:2]] == [b"%PDF a", b"%PDF b"]
        # Past the limit: copied into one unnamed file, not held in memory (issue 22).
        assert not isinstance(found[2], bytes)
        assert found[2].read() == b"%PDF c"
        found[2].seek(0)
        assert found[2].read(3) == b"%PD"
    assert all(part.closed for part in found[:2])


def test_blocks_past_the_open_files_limit_are_merged_from_the_unnamed_file(tmp_path, monkeypatch):
    monkeypatch.setattr(block_cache, "OPEN_BLOCKS", 1)
    blocks = []
    for width in (100, 200, 300):
        out = io.BytesIO()
        with pikepdf.new() as pdf:
            pdf.add_blank_page(page_size=(width, 400))
            pdf.save(out)
        blocks.append(out.getvalue())
    with block_cache.BlockCache(tmp_path) as cache:
        for key, data in zip("abc", blocks, strict=True):
            cache.put(key, data)
        found = [cache.get(key) for key in "abc"]
        assert not any(isinstance(part, bytes) for part in found)
        assert pdf_merge.page_sizes(found) == [(100, 400), (200, 400), (300, 400)]


def test_a_withdrawal_empties_the_appeals_block_cache(signed_appeal, make_appeal):
    from campaign.signatures.operations import SignData, sign_appeal
    from campaign.signatures.signer_links import withdraw_signature

    other = make_appeal()
    publish_appeal(other, other.memberships[0].user, seen_revision=other.draft_revision)
    other_signer = SignData(surname="Другая", given_name="Зарема", region="RU-IN")
    sign_appeal(other, other_signer, consent="Consent", confirm_within=None)
    snapshot, _pdf = render(signed_appeal)
    render(other)
    cache = snapshot_path(snapshot).parent.parent / "cache"
    leaving = sign_appeal(
        signed_appeal,
        SignData(surname="Уходящая", given_name="Лейла", region="RU-CE"),
        consent="Согласие",
        confirm_within=None,
    )
    db.session.commit()
    render(signed_appeal)
    assert any("Уходящая" in flat(" ".join(page_texts(block.read_bytes())))
               for block in (cache / str(signed_appeal.id)).rglob("*.pdf"))  # fmt: skip

    withdraw_signature(leaving.withdraw_token)
    # Not before the withdrawal is committed: a render reading the rows meanwhile would still
    # see her, and cache her again.
    assert (cache / str(signed_appeal.id)).exists()
    db.session.commit()
    assert not (cache / str(signed_appeal.id)).exists()
    assert list((cache / str(other.id)).rglob("*.pdf"))  # other appeals keep theirs
    snapshot, pdf = render(signed_appeal)
    assert "Уходящая" not in flat(" ".join(page_texts(pdf)))
    assert snapshot.signature_count == 45


def test_a_block_is_not_kept_when_the_cache_is_emptied_while_it_is_written(tmp_path, monkeypatch):
    folder = tmp_path / "cache" / "1" / "submission"
    written = block_cache.write_atomically

    def emptied_first(path, data):
        rmtree(tmp_path / "cache")  # a withdrawal commits between mkdir and the write
        written(path, data)

    monkeypatch.setattr(block_cache, "write_atomically", emptied_first)
    with block_cache.BlockCache(folder) as cache:
        cache.put("abc", b"%PDF-1.7 block")
        assert cache.get("abc") is None and "abc" not in cache.used
        cache.prune()  # nothing to prune, and no error


def test_a_re_render_reuses_whole_blocks_and_cuts_pages_as_a_fresh_render(
    signed_appeal, make_signature, monkeypatch
):
    monkeypatch.setattr(table_parts, "PAGES_PER_BLOCK", 1)
    first, _pdf = render(signed_appeal)
    for n in range(8):
        make_signature(signed_appeal, surname=f"Поздняя{n}")
    drawn = []
    real = rendering.render_many

    def recording(parts, **options):

        parts = list(parts)  # (the blocks come as they are laid out)
        drawn.append(sum(type(part).__name__ == "TableJob" for part in parts))
        return real(parts, **options)

    monkeypatch.setattr(rendering, "render_many", recording)
    cached, cached_pdf = render(signed_appeal)
    # The table's pages before its last one came from the cache; its last page was laid out
    # again with the new rows (and the annex's last page, where the new families go).
    new_pages = sum("Поздняя" in text for text in page_texts(cached_pdf))
    # (The old last pages may have had no room left for a new row.)
    assert new_pages <= drawn[-1] <= new_pages + 2 < first.pages
    rmtree(block_cache.cache_folder(signed_appeal.id))
    fresh, fresh_pdf = render(signed_appeal)
    assert fresh.pages == cached.pages

    def tables(pdf, snapshot):
        texts = [text.replace(snapshot.id, "") for text in page_texts(pdf)]
        return [text for text in texts if "ФИО" in text or "Где содержится" in text]

    assert tables(cached_pdf, cached) == tables(fresh_pdf, fresh)


def test_a_broken_manifest_only_costs_a_full_layout(signed_appeal, tmp_path):
    render(signed_appeal)
    folder = block_cache.cache_folder(signed_appeal.id, Edition.submission)
    manifests = list(folder.glob("*.json"))
    assert {path.name for path in manifests} == {
        "table-drawn-portrait.json",
        "annex-drawn-portrait.json",
    }
    for path in manifests:
        path.write_text("[[1, 2]")
    assert block_cache.BlockCache(folder).manifest("table-drawn-portrait") == []
    snapshot, pdf = render(signed_appeal)
    assert snapshot.signature_count == 45
    assert len(FOOTER.findall(" ".join(page_texts(pdf)))) == snapshot.pages


def test_a_cache_emptied_by_a_withdrawal_is_not_brought_back_by_later_blocks(tmp_path):
    folder = tmp_path / "cache" / "1" / "submission"
    with block_cache.BlockCache(folder) as cache:
        assert folder.is_dir()  # made when the render starts
        rmtree(tmp_path / "cache")  # a withdrawal commits during the render
        cache.put("abc", b"%PDF-1.7 block with her row")
        cache.write_manifest("table-drawn-portrait", [("abc", 3, "")])
        assert not (tmp_path / "cache").exists()


def test_a_family_gaining_a_signer_mid_annex_cuts_pages_as_a_fresh_render(
    signed_appeal, make_signature, monkeypatch
):
    monkeypatch.setattr(table_parts, "PAGES_PER_BLOCK", 1)
    for n in range(100):  # more families: an annex of several pages
        make_signature(signed_appeal, drawn=False, relative_name=f"Ахмед Исаев {n}")
    render(signed_appeal)
    # A signer joins the second family: the annex's rows change near its start.
    make_signature(signed_appeal, surname="Сестра", relative_name="Ислам Налоев 2")
    cached, cached_pdf = render(signed_appeal)
    rmtree(block_cache.cache_folder(signed_appeal.id))
    fresh, fresh_pdf = render(signed_appeal)

    def annex(pdf, snapshot):
        texts = [text.replace(snapshot.id, "") for text in page_texts(pdf)]
        return [text for text in texts if "Где содержится" in text]

    assert len(annex(fresh_pdf, fresh)) > 2
    assert annex(cached_pdf, cached) == annex(fresh_pdf, fresh)
    assert "Сестра" in flat(" ".join(annex(cached_pdf, cached)))
