"""Text set with the fonts of a glyph sample: which characters, their widths, line breaks."""

import io
import random

import pytest
from pikepdf import Pdf

from campaign import ROOT
from campaign.pdf import RenderJob, render_pdf
from campaign.pdf_glyphs import (
    FontStyle,
    Glyphs,
    MissingGlyph,
    _wrap_words,
    glyph_sample_document,
    is_simple_character,
    wrap,
)

ALPHABET = (
    "абвгдеёжзийклмнопрстуфхцчшщъыьэюяАБВГДЕЖЗИЙКЛМНОПРСТУФХЦЧШЩЭЮЯabcdefxyz-() \u00a0№0123456789"
)


@pytest.fixture(scope="module")
def sample():
    """A rendered sample of ALPHABET in DejaVu Sans, open (its fonts are read from it)."""
    pdf = render_pdf(RenderJob(glyph_sample_document(ALPHABET, language="ru")), ROOT / "static")
    with Pdf.open(io.BytesIO(pdf)) as document:
        yield document


@pytest.fixture(scope="module")
def glyphs(sample):
    return Glyphs.read(sample)


@pytest.mark.parametrize("character", ["ж", "Ж", "q", "7", "-", "№", "(", " ", "\u00a0", "é"])
def test_letters_digits_and_punctuation_need_no_shaping(character):
    assert is_simple_character(character)


@pytest.mark.parametrize(
    "character",
    [
        "\u0627",  # Arabic alef
        "\u05d0",  # Hebrew alef
        "\u0301",  # a combining acute accent
        "\u0915",  # Devanagari ka
        "\u1100",  # a conjoining Hangul jamo
        "\u200d",  # zero-width joiner
        "\n",
        "\U0001f1f7",  # a regional indicator: two make a flag
        "\U0001f3fd",  # a skin-tone modifier
        "\ua840",  # Phags-pa, a joining script
    ],
)
def test_scripts_that_need_shaping_are_not_simple(character):
    assert not is_simple_character(character)


def test_the_sample_gives_each_character_a_code_and_a_width(glyphs):
    assert len(glyphs.fonts) == 1
    assert str(glyphs.fonts[0].BaseFont).endswith("+DejaVu-Sans")
    assert set(ALPHABET) <= set(glyphs.codes)
    assert glyphs.width("ш", 10) > glyphs.width("-", 10) > 0
    assert glyphs.width("ab", 8) == pytest.approx(glyphs.width("a", 8) + glyphs.width("b", 8))
    assert glyphs.width("a", 16) == pytest.approx(2 * glyphs.width("a", 8))
    assert glyphs.ascent > 0 > glyphs.descent


def test_covers_only_text_the_sample_sets_without_shaping(glyphs):
    assert glyphs.covers("Гаджиева Муслимат (мать) № 12")
    assert not glyphs.covers("Гаджиева Q")  # not in the sample
    assert not glyphs.covers("\u0627")


def test_show_draws_with_the_samples_codes(glyphs):
    operators = glyphs.show("аб", 8, 10, 20, ["/F0"])
    codes = "".join(f"{glyphs.codes[c][1]:04x}" for c in "аб")
    assert operators == f"BT\n1 0 0 1 10.00 20.00 Tm\n/F0 8 Tf\n<{codes}> Tj\nET\n"
    with pytest.raises(MissingGlyph):
        glyphs.show("Q", 8, 0, 0, ["/F0"])


def test_the_bold_style_is_sampled_in_its_own_font():
    bold = FontStyle("DejaVu Sans", bold=True)
    html = glyph_sample_document("аб", language="ru", style=bold)
    pdf = render_pdf(RenderJob(html), ROOT / "static")
    with Pdf.open(io.BytesIO(pdf)) as document:
        assert str(Glyphs.read(document).fonts[0].BaseFont).endswith("+DejaVu-Sans-Bold")


def test_wrap_breaks_at_spaces(glyphs):
    width = glyphs.width("абв где", 8) + 0.1
    assert wrap("абв где жзи", glyphs, 8, width) == ["абв где", "жзи"]
    assert wrap("  абв   где  ", glyphs, 8, 1000) == ["абв где"]
    assert wrap("", glyphs, 8, 100) == []


def test_wrap_breaks_after_a_hyphen(glyphs):
    width = glyphs.width("Кабардино-", 8) + 0.1
    assert wrap("Кабардино-Балкария", glyphs, 8, width) == ["Кабардино-", "Балкария"]
    assert wrap("-абв", glyphs, 8, 1000) == ["-абв"]


def test_a_no_break_space_keeps_its_neighbours_together(glyphs):
    width = glyphs.width("аааа №", 8) + 0.1
    assert wrap("аааа №\u00a012", glyphs, 8, width) == ["аааа", "№\u00a012"]


def test_a_word_wider_than_the_line_breaks_anywhere(glyphs):
    width = glyphs.width("ааа", 8) + 0.1
    assert wrap("ааааааа б", glyphs, 8, width) == ["ааа", "ааа", "а б"]


def test_wrapped_lines_fit_and_keep_every_character(glyphs):
    chance = random.Random(7)
    letters = ALPHABET.replace(" ", "").replace("\u00a0", "")
    for _ in range(200):
        words = [
            "".join(chance.choice(letters) for _ in range(chance.randint(1, 25)))
            for _ in range(chance.randint(1, 12))
        ]
        text = " ".join(words)
        width = chance.uniform(20, 120)
        lines = wrap(text, glyphs, 8, width)
        assert all(glyphs.width(line, 8) <= width + 1e-6 for line in lines)
        assert "".join(lines).replace(" ", "") == text.replace(" ", "")


def test_wrap_gives_what_wrapping_word_by_word_gives(glyphs):
    # The shortcuts (one word, or words that fit on one line as written) change nothing.
    chance = random.Random(11)
    letters = ALPHABET.replace(" ", "") + "--"
    separators = [" ", " ", " ", " ", "  ", "   "]
    for _ in range(2_000):
        words = [
            "".join(chance.choice(letters) for _ in range(chance.randint(1, 12)))
            for _ in range(chance.randint(1, 6))
        ]
        text = "".join(word + chance.choice(separators) for word in words)[: chance.randint(1, 80)]
        if chance.random() < 0.2:
            text = " " + text
        whole = glyphs.width(" ".join(text.split()), 8)
        # Around the whole text's width, where a shortcut would go wrong if it could.
        for width in (whole, whole - 1e-9, whole + 1e-9, whole * chance.uniform(0.3, 1.2)):
            assert wrap(text, glyphs, 8, width) == _wrap_words(text, glyphs, 8, width), text


def test_a_sample_without_a_composite_font_is_refused():
    pdf = render_pdf(RenderJob(glyph_sample_document("   ", language="ru")), ROOT / "static")
    with Pdf.open(io.BytesIO(pdf)) as document, pytest.raises(ValueError, match="composite"):
        Glyphs.read(document)
