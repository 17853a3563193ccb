"""Rendered dossiers read back: signatories in order, pages, footers, images, CSV, PDF/A."""

import hashlib
import io
import re
import subprocess
import time
from dataclasses import replace

import pytest
from pypdf import PdfReader

from campaign import ROOT
from campaign.appeals.operations import AddresseeData, AppealData, publish_appeal, update_appeal
from campaign.clock import utcnow
from campaign.dossiers import block_cache, drawn_tables, layout, page_jobs, rendering, table_parts
from campaign.dossiers.content import collect_content
from campaign.dossiers.models import DossierSnapshot, Edition
from campaign.dossiers.operations import make_snapshot, snapshot_path
from campaign.dossiers.signature_list import csv_row
from campaign.extensions import db
from campaign.pdf import render_pdf
from campaign.pdf_workers import RenderTimeout
from campaign.signatures.fields import DEFAULT_MODES
from campaign.signatures.models import Display, FieldMode
from campaign.signatures.settings import (
    QuestionData,
    SettingsData,
    save_sign_form_settings,
    sign_form_settings,
)
from tests.dossiers.pdftools import (
    FOOTER,
    attachments,
    compact,
    csv_rows,
    flat,
    image_count,
    page_size_mm,
    page_texts,
    xmp,
)
from tests.dossiers.rendered import render


def test_submission_lists_every_valid_signatory_in_order(signed_appeal):
    snapshot, pdf = render(signed_appeal)
    text = flat(" ".join(page_texts(pdf)))
    content = collect_content(signed_appeal, Edition.submission)
    assert len(content.rows) == 45 == snapshot.signature_count
    positions = [text.index(row.name) for row in content.rows]
    assert positions == sorted(positions)
    assert "Ожидающая" not in text
    assert "Отозвавшая" not in text


def test_every_page_says_page_x_of_y_and_the_snapshot(signed_appeal):
    snapshot, pdf = render(signed_appeal)
    pages = page_texts(pdf)
    assert len(pages) == snapshot.pages > 5
    for number, page in enumerate(pages, start=1):
        footer = FOOTER.findall(page)
        assert footer == [(str(number), str(len(pages)), snapshot.id)], page[-200:]


def test_one_image_per_drawn_signature(signed_appeal):
    _snapshot, pdf = render(signed_appeal)
    drawn = sum(1 for n in range(45) if n % 9 != 4)
    assert image_count(pdf) == drawn
    assert "Подпись" in " ".join(page_texts(pdf))  # the typed ones


def test_cover_letter_summary_annex_and_verification(signed_appeal):
    snapshot, pdf = render(signed_appeal)
    pages = [flat(page) for page in page_texts(pdf)]
    version = signed_appeal.latest_version
    cover = pages[0]
    assert signed_appeal.title in cover
    assert "The President" in cover and "Office of the President" in cover
    assert "45" in cover and version.fingerprint in cover and snapshot.id in cover
    assert "Зарема Представитель" in cover  # the representative, for the submission
    assert "Договор 1973 года" in pages[1]
    summary = next(page for page in pages if page.startswith("Сводка"))
    assert "Чеченская Республика 45" in summary
    assert "мать 45" in summary
    annex = " ".join(
        page for page in pages if "Приложение: семьи" in page or "Где содержится" in page
    )
    assert "Ислам Налоев 17" in annex and "Багдад, тюрьма Русафа" in annex
    verification = pages[-1]
    assert verification.startswith("Проверка")
    assert version.fingerprint in verification
    assert snapshot.list_fingerprint in verification
    assert f"https://campaign.test/verify/{snapshot.id}" in verification


def test_fonts_are_embedded_and_metadata_set(signed_appeal):

    snapshot, pdf = render(signed_appeal)
    fonts = subprocess.run(
        ["pdffonts", str(snapshot_path(snapshot))], capture_output=True, text=True, check=True
    ).stdout.splitlines()[2:]
    assert fonts and all(line.split()[-5] == "yes" for line in fonts), fonts
    assert any("DejaVu" in line for line in fonts)
    packet = xmp(pdf)
    assert re.search(r"pdfaid:part(>|=\")3", packet)
    assert re.search(r"pdfaid:conformance(>|=\")B", packet)
    assert signed_appeal.title in packet
    info = subprocess.run(
        ["pdfinfo", str(snapshot_path(snapshot))], capture_output=True, text=True, check=True
    ).stdout
    assert signed_appeal.title in info
    assert "Организаторы обращения" in info
    catalog = PdfReader(io.BytesIO(pdf)).trailer["/Root"]
    assert catalog["/Lang"] == "ru"


def test_attached_csv_is_the_table(signed_appeal):
    snapshot, pdf = render(signed_appeal)
    files = attachments(pdf)
    assert list(files) == ["signatories.csv"]
    data = files["signatories.csv"]
    assert hashlib.sha256(data).hexdigest() == snapshot.list_fingerprint
    rows = csv_rows(data)
    assert rows[0][:2] == ["№", "ФИО"]
    content = collect_content(signed_appeal, Edition.submission)
    assert rows[1:] == [csv_row(content, row) for row in content.rows]
    text = flat(" ".join(page_texts(pdf)))
    for cells in rows[1:]:
        assert f"{cells[0]} {cells[1]}" in text  # number and name, as in the table
    assert f"Подписей: {len(rows) - 1} — см. список далее." in text


@pytest.mark.parametrize("edition", [Edition.submission, Edition.public])
def test_formula_looking_cells_are_neutralised(open_appeal, make_signature, edition):
    settings = save_sign_form_settings(
        open_appeal,
        SettingsData(
            modes=DEFAULT_MODES,
            regions=None,
            relationships=["мать"],
            confirm_email=False,
            consent_text="",
            questions=[QuestionData('=HYPERLINK("http://x";"click")', "text", [], False, False)],
        ),
        seen_revision=sign_form_settings(open_appeal).revision,
    )
    db.session.commit()
    [question] = settings.questions
    make_signature(
        open_appeal,
        surname='=HYPERLINK("http://x")',
        relative_name="+7 999",
        answers={question.id: "＠SUM(1)"},  # full-width: spreadsheets run it too
        relative_public=True,  # her relative's name is in the public edition too
    )
    _snapshot, pdf = render(open_appeal, edition)
    header, row = csv_rows(attachments(pdf)["signatories.csv"])
    assert header[-1] == """'=HYPERLINK("http://x";"click")"""  # an organiser's label
    assert row[-1] == "'＠SUM(1)"
    assert row[1].startswith("'=HYPERLINK")
    assert row[4] == "'+7 999"


def test_signatures_on_two_versions(open_appeal, make_signature, make_user):
    make_signature(open_appeal, surname="Перваяверсия")
    update_appeal(
        open_appeal,
        AppealData(
            title=open_appeal.title,
            language="ru",
            addressees=(AddresseeData("The President", "Office of the President"),),
            body="Второй текст письма.",
            closing="С уважением",
        ),
        seen_revision=open_appeal.draft_revision,
    )
    publish_appeal(
        open_appeal, open_appeal.memberships[0].user, seen_revision=open_appeal.draft_revision
    )
    db.session.commit()
    make_signature(open_appeal, surname="Втораяверсия")
    snapshot, pdf = render(open_appeal)
    assert snapshot.versions == [1, 2]
    text = flat(" ".join(page_texts(pdf)))
    for version in open_appeal.versions:
        assert text.count(version.fingerprint) >= 2  # cover, letter, verification
    assert text.count("Договор 1973 года") == 1 and text.count("Второй текст письма.") == 1
    assert re.search(r"Перваяверсия .*? 1 ", text) and re.search(r"Втораяверсия .*? 2 ", text)


def test_landscape_table_pages(signed_appeal):
    _snapshot, pdf = render(signed_appeal, landscape=True)
    assert page_size_mm(pdf, 0) == (210, 297)
    assert page_size_mm(pdf, 2) == (297, 210)
    footers = [FOOTER.search(page) for page in page_texts(pdf)]
    assert all(footers)


def test_sheets_have_the_letter_and_one_page_per_signatory(signed_appeal):
    snapshot, pdf = render(signed_appeal, Edition.sheets)
    pages = page_texts(pdf)
    text = flat(" ".join(pages))
    assert "Договор 1973 года" in text
    content = collect_content(signed_appeal, Edition.sheets)
    # Her own page names her, and no one else (tests/dossiers/test_paper_rows.py: the rest).
    for row in content.rows:
        own = [page for page in pages if f"№ {row.number}\n" in page or f"№ {row.number} " in page]
        assert own and row.name in flat(own[0])
    assert image_count(pdf) == 0
    assert attachments(pdf) == {}
    assert len(FOOTER.findall(text)) == snapshot.pages


def test_without_workers_every_part_is_rendered_in_one_batch(signed_appeal, app, monkeypatch):
    monkeypatch.setitem(app.config, "DOSSIER_PROCESSES", 0)
    batches = []
    real = rendering.render_many

    def recording(parts, **options):

        parts = list(parts)  # (the blocks come as they are laid out)
        batches.append(sorted(type(part).__name__ for part in parts))
        return real(parts, **options)

    monkeypatch.setattr(rendering, "render_many", recording)
    snapshot, pdf = render(signed_appeal)
    assert len(batches) == 2  # the glyph samples, then everything else
    assert batches[1] == ["RenderJob"] * 3 + ["TableJob"] * 2
    assert len(FOOTER.findall(" ".join(page_texts(pdf)))) == snapshot.pages


def sign_to_leave(appeal, surname):
    from campaign.signatures.operations import SignData, sign_appeal

    outcome = sign_appeal(
        appeal,
        SignData(surname=surname, given_name="Лейла", region="RU-CE"),
        consent="Согласие",
        confirm_within=None,
    )
    db.session.commit()
    return outcome.withdraw_token


def withdrawing_during(monkeypatch, tokens):
    """Make each render withdraw the next signature once its blocks are laid out."""
    from campaign.signatures.signer_links import withdraw_signature

    real = rendering.render_many
    calls = []

    def withdrawing(parts, **options):

        parts = list(parts)  # (the blocks come as they are laid out)
        rendered = real(parts, **options)
        if "keep" not in options:
            return rendered  # the glyph samples
        calls.append(len(parts))
        if tokens:
            withdraw_signature(tokens.pop(0))
            db.session.commit()
        return rendered

    monkeypatch.setattr(rendering, "render_many", withdrawing)
    return calls


def test_a_signer_who_withdraws_during_a_render_is_left_out(signed_appeal, monkeypatch):
    monkeypatch.setattr(table_parts, "PAGES_PER_BLOCK", 1)
    token = sign_to_leave(signed_appeal, "Уходящая")
    calls = withdrawing_during(monkeypatch, [token])
    snapshot, pdf = render(signed_appeal)
    assert len(calls) == 2  # her withdrawal came after her row was read: rendered again
    assert "Уходящая" not in flat(" ".join(page_texts(pdf)))
    assert "Уходящая" not in attachments(pdf)["signatories.csv"].decode()
    assert snapshot.signature_count == 45
    cached = list(block_cache.cache_folder(signed_appeal.id).rglob("*.pdf"))
    assert cached  # the second render's blocks
    for block in cached:
        assert "Уходящая" not in flat(" ".join(page_texts(block.read_bytes())))


def test_a_render_gives_up_while_signers_keep_withdrawing(signed_appeal, monkeypatch):
    from campaign.dossiers.operations import RENDER_ATTEMPTS, SignersWithdrew

    tokens = [sign_to_leave(signed_appeal, f"Уходящая{n}") for n in range(RENDER_ATTEMPTS)]
    withdrawing_during(monkeypatch, tokens)
    with pytest.raises(SignersWithdrew):
        make_snapshot(signed_appeal, Edition.submission, user=None)
    db.session.rollback()
    assert not block_cache.cache_folder(signed_appeal.id).exists()
    assert db.session.scalar(db.select(db.func.count(DossierSnapshot.id))) == 0


def raster(pdf: bytes, folder) -> list[bytes]:
    """The pages as PNG images at 40 dpi."""
    folder.mkdir()
    subprocess.run(["pdftoppm", "-r", "40", "-png", "-", str(folder / "p")], input=pdf, check=True)
    pages = [path.read_bytes() for path in sorted(folder.glob("p-*.png"))]
    assert pages
    return pages


@pytest.mark.parametrize("edition", list(Edition))
def test_blocks_look_the_same_with_our_parser_and_cut_down_user_agent_stylesheet(
    signed_appeal, make_signature, edition, tmp_path
):
    make_signature(signed_appeal, display=Display.hidden)
    make_signature(signed_appeal, display=Display.initials, helper_name="Соседка Аминат")
    content = collect_content(signed_appeal, edition)
    snapshot = page_jobs.Snapshot("0" * 20, utcnow(), "https://example.org/v", "test")
    cache = block_cache.BlockCache(tmp_path / "cache")
    dossier_layout = layout.DossierLayout(content, snapshot, landscape=False, cache=cache)
    dossier_layout.prepare()
    dossier_layout.plan({})  # without glyph samples, the tables are laid out by WeasyPrint
    blocks = [part for part, key in dossier_layout.parts if key is not None]
    assert blocks
    for number, job in enumerate(blocks):
        assert job.user_agent_elements == page_jobs.BLOCK_ELEMENTS
        ours = raster(render_pdf(job, ROOT / "static"), tmp_path / f"ours{number}")
        full = replace(job, user_agent_elements=())
        assert ours == raster(render_pdf(full, ROOT / "static"), tmp_path / f"full{number}")


def test_public_edition_names_as_signers_chose(open_appeal, make_signature):
    make_signature(open_appeal, surname="Полнаяфамилия", given_name="Аминат", display=Display.full)
    make_signature(open_appeal, surname="Инициалова", given_name="Хава", display=Display.initials)
    make_signature(open_appeal, surname="Скрытова", given_name="Седа", display=Display.hidden)
    _snapshot, pdf = render(open_appeal, Edition.public)
    text = flat(" ".join(page_texts(pdf)))
    assert "Полнаяфамилия Аминат" in text
    # "My initials and region": as on the public page, not the surname in full.
    assert "Х. И." in text and "Хава" not in text and "Инициалова" not in text
    assert "Скрытова" not in text and "Седа" not in text
    assert "имя скрыто" in text
    assert image_count(pdf) == 0


def test_a_letter_cannot_make_the_renderer_fetch_or_attach(make_appeal, make_signature):
    body = (
        "![x](http://127.0.0.1:9/track.png) ![y](file:///etc/passwd)\n\n"
        "[passwd](file:///etc/passwd)\n\n"
        '<link rel="attachment" href="file:///etc/passwd">\n\n'
        "<style>@import url(http://127.0.0.1:9/a.css);</style>\n\n"
        '<img src="http://127.0.0.1:9/x.png">'
    )
    appeal = make_appeal(language="ru", body=body)
    publish_appeal(appeal, appeal.memberships[0].user, seen_revision=appeal.draft_revision)
    db.session.commit()
    make_signature(appeal)
    _snapshot, pdf = render(appeal)
    assert list(attachments(pdf)) == ["signatories.csv"]
    assert b"root:x:0:0" not in pdf
    assert image_count(pdf) == 1  # the signature, nothing from the letter
    assert "@import" in flat(page_texts(pdf)[1])  # shown as text, not run


def test_a_render_over_its_time_limit_leaves_no_snapshot(app, signed_appeal):
    app.config["DOSSIER_TIME_LIMIT"] = 0.01
    with pytest.raises(RenderTimeout):
        make_snapshot(signed_appeal, Edition.submission, user=None)
    db.session.rollback()
    assert db.session.query(DossierSnapshot).count() == 0
    assert not list((snapshot_path(DossierSnapshot(filename="x")).parent).glob("*/*.pdf"))


def test_public_edition_has_no_private_value(open_appeal, make_signature):
    settings = save_sign_form_settings(
        open_appeal,
        SettingsData(
            modes={
                **DEFAULT_MODES,
                "phone": FieldMode.optional,
                "postal_address": FieldMode.optional,
            },
            regions=None,
            relationships=["мать", "жена"],
            confirm_email=False,
            consent_text="",
            questions=[
                QuestionData("Секретный вопрос", "text", [], private=True, required=False),
                QuestionData("Открытый вопрос", "text", [], private=False, required=False),
            ],
        ),
        seen_revision=sign_form_settings(open_appeal).revision,
    )
    db.session.commit()
    private_q, public_q = settings.questions
    planted = {
        "email": "zz-planted-mail@example.org",
        "phone": "+79280000001",
        "postal_address": "ул. Подброшенная, дом 99",
        "helper_name": "Помощница Подброшенная",
    }
    make_signature(
        open_appeal,
        answers={private_q.id: "Ответ-тайна-42", public_q.id: "Ответ-открытый-7"},
        **planted,
    )
    make_signature(open_appeal, surname="Невидимова", display=Display.hidden, town="Тайнокент")
    _snapshot, public_pdf = render(open_appeal, Edition.public)
    # Without any whitespace: a value broken over two lines of its cell is still found.
    public_text = compact(" ".join(page_texts(public_pdf)))
    public_csv = attachments(public_pdf)["signatories.csv"].decode()
    secrets = [
        *planted.values(),
        "Ответ-тайна-42",
        "Невидимова",
        "Тайнокент",
        "ул. Мира, 1",
        "Зарема",
    ]
    for secret in secrets:
        assert compact(secret) not in public_text, secret
        assert secret not in public_csv, secret
    assert compact("Ответ-открытый-7") in public_text and "Ответ-открытый-7" in public_csv
    # The same values are in the submission edition: the search above can find them.
    _snapshot, submission_pdf = render(open_appeal, Edition.submission)
    submission_text = compact(" ".join(page_texts(submission_pdf)))
    submission_csv = attachments(submission_pdf)["signatories.csv"].decode()
    for found in ("ул. Подброшенная, дом 99", "Ответ-тайна-42", "Помощница Подброшенная"):
        assert compact(found) in submission_text and found in submission_csv, found
    assert "Невидимова" in submission_text and "Зарема" in submission_text


def test_an_appeal_without_signatures_still_has_its_dossier(open_appeal):
    snapshot, pdf = render(open_appeal)
    assert snapshot.signature_count == 0 and snapshot.versions == [1]
    text = flat(" ".join(page_texts(pdf)))
    assert "Подписей нет." in text and "Договор 1973 года" in text
    assert csv_rows(attachments(pdf)["signatories.csv"])[1:] == []


def test_an_english_appeal_makes_an_english_dossier(make_appeal, make_signature):
    appeal = make_appeal(language="en")
    publish_appeal(appeal, appeal.memberships[0].user, seen_revision=appeal.draft_revision)
    db.session.commit()
    make_signature(appeal)
    snapshot, pdf = render(appeal)
    pages = page_texts(pdf)
    assert "DOSSIER FOR SUBMISSION" in pages[0]
    for number, page in enumerate(pages, start=1):
        assert f"Page {number} of {len(pages)} · snapshot {snapshot.id}" in page
    text = flat(" ".join(pages))
    assert "Full name" in text
    assert "Signed by 1 person" in text and "with 1 signatory." in text
    header = csv_rows(attachments(pdf)["signatories.csv"])[0]
    assert header[:2] == ["No.", "Full name"]


def test_workers_are_stopped_before_merging_a_big_document(signed_appeal, monkeypatch):
    import multiprocessing.forkserver

    from campaign import pdf_workers as renderer

    server = multiprocessing.forkserver._forkserver
    render(signed_appeal)
    assert renderer.pool_pids() and server._forkserver_pid is not None
    monkeypatch.setattr(rendering, "STOP_WORKERS_FROM_PARTS", 4)  # front, table, summary, ...
    snapshot, pdf = render(signed_appeal)
    # Neither the workers nor the fork server (WeasyPrint imported) wait through the merge.
    assert renderer.pool_pids() == []
    assert server._forkserver_pid is None
    assert len(page_texts(pdf)) == snapshot.pages >= 4
    render(signed_appeal)  # the next render starts them again


def test_a_title_edited_in_the_draft_stays_out_until_published(open_appeal, make_signature):
    published = open_appeal.title
    make_signature(open_appeal)
    update_appeal(
        open_appeal,
        AppealData(
            title="Черновое название",
            language="ru",
            addressees=(AddresseeData("The President", "Office of the President"),),
            body=open_appeal.latest_version.body,
            closing=open_appeal.latest_version.closing,
        ),
        seen_revision=open_appeal.draft_revision,
    )
    db.session.commit()
    _snapshot, pdf = render(open_appeal)
    text = flat(" ".join(page_texts(pdf)))
    assert published in flat(page_texts(pdf)[0]) and "Черновое" not in text
    assert published in xmp(pdf) and "Черновое" not in xmp(pdf)
    assert PdfReader(io.BytesIO(pdf)).metadata.title == published


def test_signatures_are_dated_by_the_appeals_clock(open_appeal, make_signature):
    from datetime import UTC, datetime

    signature = make_signature(open_appeal)
    signature.created_at = datetime(2026, 12, 4, 22, 30, tzinfo=UTC)  # 01:30 in Grozny
    db.session.commit()
    assert open_appeal.time_zone == "Europe/Moscow"
    [row] = collect_content(open_appeal, Edition.submission).rows
    assert row.signed_on == "2026-12-05"
    open_appeal.time_zone = "UTC"
    db.session.commit()
    [row] = collect_content(open_appeal, Edition.submission).rows
    assert row.signed_on == "2026-12-04"


def test_the_glyph_samples_hold_every_character_the_tables_set(
    signed_appeal, make_signature, tmp_path
):
    make_signature(signed_appeal, display=Display.hidden, helper_name="Соседка Аминат")
    content = collect_content(signed_appeal, Edition.submission)
    snapshot = page_jobs.Snapshot("0" * 20, utcnow(), "https://example.org/v", "test")
    cache = block_cache.BlockCache(tmp_path)
    dossier_layout = layout.DossierLayout(content, snapshot, landscape=False, cache=cache)
    dossier_layout.prepare()
    # The table's header, the annex's heading and the rows' texts are sampled, by font.
    characters = dossier_layout.characters
    assert set("Налоева-Мадинаслед") <= set(characters[drawn_tables.SANS])
    assert set("ФИО") <= set(characters[drawn_tables.SANS_BOLD])
    assert set("Приложение") <= set(characters[drawn_tables.SERIF_BOLD])
    assert set("Подпись") <= set(characters[drawn_tables.SERIF_ITALIC])  # typed signatures


def test_a_table_whose_text_needs_shaping_is_laid_out_by_weasyprint(
    open_appeal, make_signature, monkeypatch
):
    make_signature(open_appeal, surname="Налоева")
    make_signature(open_appeal, surname="\u0646\u0627\u0644\u0648\u064a\u0641\u0627")  # Arabic
    make_signature(open_appeal, surname="Исаева")
    kinds = []
    real = rendering.render_many

    def recording(parts, **options):

        parts = list(parts)  # (the blocks come as they are laid out)
        kinds.append({type(part).__name__ for part in parts})
        return real(parts, **options)

    monkeypatch.setattr(rendering, "render_many", recording)
    snapshot, pdf = render(open_appeal)
    assert kinds[-1] == {"RenderJob"}  # no table drawn: both the table and the annex name her
    text = flat(" ".join(page_texts(pdf)))
    assert text.index("Налоева") < text.index("Исаева")
    assert snapshot.signature_count == 3
    assert len(FOOTER.findall(text)) == snapshot.pages


@pytest.mark.parametrize(
    ("label", "shown"),
    [
        ("Республика Северная Осетия — Алания", "Республика Северная Осетия — Алания"),
        ("Ханты-Мансийский автономный округ — Югра", "Ханты-Мансийский автономный округ — Ю…"),
    ],
)
def test_chart_labels_fit_left_of_their_bars(app, label, shown):
    bars = app.jinja_env.get_template("pdf/_bars.html").module.bars
    svg = str(bars([(label, 3), ("мать", 1)]))
    labels = re.findall(r'text-anchor="end"[^>]*>([^<]*)<', svg)
    assert labels == [shown, "мать"]
    # At DejaVu Sans' average advance (0.62 em, as pagination.py estimates) and 9 px, the
    # longest label fits in the room left of the bars (they end 6 px before them).
    width = int(re.search(r'<rect x="(\d+)"', svg).group(1)) - 6
    assert width >= 38 * 9 * 0.62


def test_reading_the_signatures_leaves_the_garbage_collector_as_it_was(signed_appeal, monkeypatch):
    import gc

    from campaign.dossiers import content as content_module

    assert gc.isenabled()
    assert len(collect_content(signed_appeal, Edition.submission).rows) == 45
    assert gc.isenabled()

    def failing(*_args):
        assert not gc.isenabled()  # paused while the rows are made
        raise RuntimeError("database gone")

    monkeypatch.setattr(content_module, "_collect_content", failing)
    with pytest.raises(RuntimeError):
        collect_content(signed_appeal, Edition.submission)
    assert gc.isenabled()
    gc.disable()
    try:
        with pytest.raises(RuntimeError):
            collect_content(signed_appeal, Edition.submission)
        assert not gc.isenabled()  # left off, as the caller had it
    finally:
        gc.enable()


def test_the_time_limit_is_the_whole_renders(app, signed_appeal, monkeypatch):
    app.config["DOSSIER_TIME_LIMIT"] = 2
    real = rendering.render_many

    def slow_pages(parts, **options):

        parts = list(parts)  # (the blocks come as they are laid out)
        if options["processes"] and "keep" not in options:
            time.sleep(2.5)  # the batch of the cover, summary and verification page waits
        return real(parts, **options)

    monkeypatch.setattr(rendering, "render_many", slow_pages)
    started = time.monotonic()
    with pytest.raises(RenderTimeout):
        make_snapshot(signed_appeal, Edition.submission, user=None)
    # The batch did not get the whole limit again when its turn came.
    assert time.monotonic() - started < 4
    db.session.rollback()


def test_a_number_of_five_digits_stays_on_one_line(signed_appeal, tmp_path):
    from pikepdf import Pdf

    from campaign.dossiers.pagination import signatory_columns
    from campaign.pdf import RenderJob
    from campaign.pdf_glyphs import Glyphs, glyph_sample_document
    from campaign.pdf_tables import MM

    for edition in Edition:
        (number, *_rest) = signatory_columns(edition, landscape=False, versions=True)
        sample = render_pdf(
            RenderJob(glyph_sample_document("0123456789", language="ru")),
            ROOT / "static",
        )
        with Pdf.open(io.BytesIO(sample)) as document:
            glyphs = Glyphs.read(document)
            assert glyphs.width("88888", 8) <= (number.width - 2.4) * MM


def test_a_table_sent_to_weasyprint_drops_its_drawn_blocks(open_appeal, make_signature):
    for n in range(3):
        make_signature(open_appeal, surname=f"Первая{n}")
    render(open_appeal)
    folder = block_cache.cache_folder(open_appeal.id, Edition.submission)
    drawn = {
        key
        for key, _count, _next in block_cache.BlockCache(folder).manifest("table-drawn-portrait")
    }
    assert drawn and all((folder / f"{key}.pdf").exists() for key in drawn)
    make_signature(open_appeal, surname="\u0646\u0627\u0644\u0648\u064a\u0641\u0627")  # Arabic
    snapshot, _pdf = render(open_appeal)
    assert snapshot.signature_count == 4
    assert not any((folder / f"{key}.pdf").exists() for key in drawn)


def test_a_sample_whose_fonts_cannot_be_read_sends_the_tables_to_weasyprint(
    signed_appeal, monkeypatch
):
    class Unreadable(layout.Glyphs):
        @classmethod
        def read(cls, sample):
            raise ValueError("the glyph sample must set composite fonts")

    monkeypatch.setattr(layout, "Glyphs", Unreadable)  # the tables' samples, not the footers'
    kinds = []
    real_many = rendering.render_many

    def recording(parts, **options):

        parts = list(parts)  # (the blocks come as they are laid out)
        if "keep" in options:
            kinds.extend(type(part).__name__ for part in parts)
        return real_many(parts, **options)

    monkeypatch.setattr(rendering, "render_many", recording)
    snapshot, _pdf = render(signed_appeal)
    assert kinds and "TableJob" not in kinds
    assert snapshot.signature_count == 45
