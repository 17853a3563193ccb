"""The signatory table's header: no label is broken inside a word, in either language."""

import io

import pytest
from flask_babel import force_locale
from pikepdf import Pdf

from campaign import ROOT
from campaign.dossiers.drawn_tables import SANS_BOLD, signatory_table
from campaign.dossiers.models import Edition
from campaign.dossiers.pagination import signatory_columns
from campaign.pdf import RenderJob, render_pdf
from campaign.pdf_glyphs import Glyphs, glyph_sample_document, wrap
from campaign.pdf_tables import MM


def _headers(edition, landscape, language):
    columns = signatory_columns(edition, landscape=landscape, versions=True)
    with force_locale(language):
        style, _cells = signatory_table(columns, edition, [], landscape=landscape, format_day=str)
    return style


@pytest.mark.parametrize("language", ["ru", "en"])
@pytest.mark.parametrize("landscape", [False, True])
@pytest.mark.parametrize("edition", list(Edition))
def test_every_header_word_fits_its_column(app, language, landscape, edition):
    with app.test_request_context():
        style = _headers(edition, landscape, language)
        sample = "".join({char for text in style.header for char in text.text})
        html = glyph_sample_document(sample, language=language, style=SANS_BOLD)
        with Pdf.open(io.BytesIO(render_pdf(RenderJob(html), ROOT / "static"))) as pdf:
            glyphs = Glyphs.read(pdf)
    sides = style.header_padding[1]
    for text, column in zip(style.header, style.columns, strict=True):
        room = (column.width - 2 * sides) * MM
        lines = wrap(text.text, glyphs, text.size, room)
        assert " ".join(lines).split() == text.text.split(), (text.text, column.width)
