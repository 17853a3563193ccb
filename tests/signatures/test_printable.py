"""A character no installed font has is refused at signing; what the fonts cover is printed."""

import pytest
from sqlalchemy import func, select

from campaign.extensions import db
from campaign.pdf_glyphs import installed_coverage, unprintable_characters
from campaign.signatures.models import Signature

# A rare CJK ideograph (Extension B) and an emoji: no Debian font the set-up installs has them.
UNPRINTABLE = ("\U00020000", "\U0001f970")
# What the set-up's fonts cover beyond DejaVu: CJK, Devanagari, Thai, Ethiopic, Georgian...
PRINTABLE = "Ван 王小明 देवनागरी ภาษาไทย አማርኛ ქართული Հայերեն Ωμέγα"


def signature_count():
    return db.session.scalar(select(func.count()).select_from(Signature))


def test_the_installed_fonts_cover_the_scripts_a_signer_may_use():
    assert installed_coverage() is not None, "fontconfig (fc-list) is needed"
    assert unprintable_characters(PRINTABLE) == []
    assert unprintable_characters("Мадина\nНалоева\t") == []  # laid out as spaces
    assert unprintable_characters(f"a{UNPRINTABLE[0]}b{UNPRINTABLE[0]}{UNPRINTABLE[1]}") == list(
        UNPRINTABLE
    )


@pytest.mark.parametrize("field", ["surname", "given_name", "town", "relative_name"])
def test_an_unprintable_character_is_refused_with_what_was_typed_kept(sign, open_appeal, field):
    typed = f"Ли {UNPRINTABLE[0]}"
    response = sign(open_appeal, **{field: typed})
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert "The dossier cannot print these characters" in page
    assert "U+20000" in page
    assert f'value="{typed}"' in page
    assert signature_count() == 0


def test_the_refusal_is_in_russian_for_a_russian_reader(sign, open_appeal):
    response = sign(open_appeal, surname=f"Ли{UNPRINTABLE[1]}", headers={"Accept-Language": "ru"})
    assert "Досье не может напечатать эти знаки" in response.get_data(as_text=True)
    assert signature_count() == 0


def test_a_typed_signature_is_checked_too(sign, open_appeal):
    response = sign(open_appeal, signature="", typed_signature=f"王{UNPRINTABLE[0]}")
    assert "U+20000" in response.get_data(as_text=True)
    assert signature_count() == 0
