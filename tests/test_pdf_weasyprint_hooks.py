"""The WeasyPrint internals the PDF code relies on are where they were: an upgrade fails here."""

import io
import zlib

import pytest
import weasyprint
import weasyprint.images
import weasyprint.pdf
from pikepdf import Pdf

from campaign import ROOT
from campaign import pdf_weasyprint_hooks as hooks
from campaign.pdf import RenderJob, render_pdf
from campaign.pdf_fetcher import PdfAttachment
from campaign.pdf_glyphs import Glyphs, glyph_sample_document


def test_every_hook_is_where_it_was():
    hooks.check()


def test_an_upgrade_is_refused_until_the_hooks_are_checked(monkeypatch):
    monkeypatch.setattr(weasyprint, "__version__", "71.0")
    with pytest.raises(hooks.HookMissing, match=r"71\.0"):
        hooks.check()


@pytest.mark.parametrize(
    ("target", "name"),
    [
        (weasyprint.HTML, "_ua_stylesheets"),
        (weasyprint.images.RasterImage, "_get_png_data"),
        (weasyprint.pdf, "ColorProfile"),
    ],
)
def test_a_moved_internal_is_named(monkeypatch, target, name):
    monkeypatch.delattr(target, name)
    with pytest.raises(hooks.HookMissing, match=name):
        hooks.check()


def test_the_hooks_are_installed():
    assert weasyprint.images.RasterImage._get_png_data is not hooks.WEASYPRINT_PNG_DATA
    assert weasyprint.pdf.ColorProfile.__name__ == "_ClosingColorProfile"


def test_a_glyph_sample_has_the_shape_the_tables_and_footers_read():
    # Composite fonts with a ToUnicode map per character, in the order the page uses them.
    job = RenderJob(glyph_sample_document("Стр 1 из 2 王", language="ru"))
    pdf = render_pdf(job, ROOT / "static")
    with Pdf.open(io.BytesIO(pdf)) as sample:
        glyphs = Glyphs.read(sample)
        assert set("Стр12из王") <= set(glyphs.codes)
        assert glyphs.width("Стр", 10) > 0


def test_an_embedded_file_is_compressed_at_zlibs_default_level(monkeypatch):
    data = "".join(f"{n},Налоева-{n},Грозный\n" for n in range(20_000)).encode()
    levels = []
    real = zlib.compress

    def compress(source, level=-1):
        levels.append((len(source), level))
        return real(source, level)

    monkeypatch.setattr(hooks.zlib, "compress", compress)
    job = RenderJob("<p>Список</p>", attachments=(PdfAttachment("list.csv", data, "List"),))
    pdf = render_pdf(job, ROOT / "static")
    assert levels == [(len(data), hooks.EMBEDDED_FILE_LEVEL)]
    with Pdf.open(io.BytesIO(pdf)) as document:
        (spec,) = document.attachments.values()
        stream = spec.obj.EF.F
        assert stream.Filter == "/FlateDecode"
        assert stream.read_bytes() == data  # the file as attached, decompressed by the reader
        assert stream.Params.Size == len(data)
