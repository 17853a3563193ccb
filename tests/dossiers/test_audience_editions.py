"""Each edition shows of a signer what its audience may see (signatures.audience): the public
edition exactly what her choices' words say, the submission edition everything."""

import pytest
from flask_babel import force_locale
from flask_babel import gettext as _

from campaign.dossiers.annex_families import families
from campaign.dossiers.content import collect_content
from campaign.dossiers.models import Edition
from campaign.dossiers.operations import make_snapshot, snapshot_path
from campaign.extensions import db
from campaign.signatures.models import Display
from campaign.signatures.regions import region_name
from tests.dossiers.pdftools import attachments, compact, csv_rows, page_texts

SIGNER = {
    "surname": "Налоева",
    "given_name": "Мадина",
    "patronymic": "Руслановна",
    "region": "RU-CE",
    "town": "Гудермес-Тайный",
    "relationship": "свекровь",
    "relative_name": "Ислам Сулейманов",
    "relative_location": "Багдад, тюрьма Русафа",
    "children": 3,
    "helper_name": "Помощница Секретная",
    "postal_address": "ул. Скрытая, 5",
}


def render(appeal, edition):
    snapshot = make_snapshot(appeal, edition, user=None)
    db.session.commit()
    pdf = snapshot_path(snapshot).read_bytes()
    [header, *rows] = csv_rows(attachments(pdf)["signatories.csv"])
    return compact(" ".join(page_texts(pdf))), dict(zip(header, rows[0], strict=True))


def expected_row(display, agreed):
    """The public CSV row the words of her choices allow, column by column."""
    with force_locale("ru"):
        names = {
            Display.full: "Налоева Мадина Руслановна",
            Display.initials: "М. Н.",
            Display.hidden: _("name withheld"),
        }
        columns = [_("Full name"), _("Region"), _("Relationship"), _("Relative concerned"),
                   _("Where held"), _("Children")]  # fmt: skip
    listed = display is not Display.hidden
    values = [
        names[display],
        region_name("RU-CE", "ru") if listed else "",
        *(
            ("свекровь", "Ислам Сулейманов", "Багдад, тюрьма Русафа", "3")
            if listed and agreed
            else ("", "", "", "")
        ),
    ]
    return dict(zip(columns, values, strict=True))


@pytest.mark.parametrize("agreed", [False, True], ids=["relative-not-agreed", "relative-agreed"])
@pytest.mark.parametrize("display", list(Display), ids=lambda d: d.value)
def test_the_public_edition_shows_what_the_choices_say(
    open_appeal, make_signature, display, agreed
):
    make_signature(open_appeal, **SIGNER, display=display, relative_public=agreed)
    text, row = render(open_appeal, Edition.public)
    expected = expected_row(display, agreed)
    assert {column: row[column] for column in expected} == expected
    # The PDF's pages say the same as its list.
    assert (compact("Налоева") in text) is (display is Display.full)
    assert (compact("М. Н.") in text) is (display is Display.initials)
    assert "Мадина" not in text or display is Display.full
    assert (compact("Ислам Сулейманов") in text) is (display is not Display.hidden and agreed)
    # Never public, whatever she chose.
    for value in ("Гудермес-Тайный", "Помощница Секретная", "ул. Скрытая, 5"):
        assert compact(value) not in text and value not in row.values(), value
    # Her family is counted in every case, but one family is too few for the summary to name
    # its place: only her agreement puts it in the annex.
    shown = display is not Display.hidden and agreed
    assert (compact("Багдад, тюрьма Русафа") in text) is shown
    assert compact("1 другое место, не названо") in text


def test_the_submission_edition_carries_every_field_whatever_the_choices(
    open_appeal, make_signature
):
    make_signature(open_appeal, **SIGNER, display=Display.hidden, relative_public=False)
    text, row = render(open_appeal, Edition.submission)
    for value in ("Налоева Мадина Руслановна", "Ислам Сулейманов", "Помощница Секретная",
                  "ул. Скрытая, 5"):  # fmt: skip
        assert compact(value) in text, value
    with force_locale("ru"):
        assert row[_("Relative concerned")] == "Ислам Сулейманов"
        assert row[_("Children")] == "3"
        assert row[_("Town")] == "Гудермес-Тайный"  # the table gives the postal address


def test_the_public_annex_lists_agreed_families_and_the_summary_counts_every_family(
    open_appeal, make_signature
):
    make_signature(open_appeal, relative_name="Ислам Налоев", relative_location="Эрбиль",
                   children=2, relative_public=True)  # fmt: skip
    make_signature(open_appeal, relative_name="Ислам Налоев", relative_location="Эрбиль",
                   children=2, relative_public=False)  # fmt: skip
    make_signature(open_appeal, relative_name="Муса Тайный", relative_location="Эрбиль",
                   children=1, display=Display.initials)  # fmt: skip
    make_signature(open_appeal, relative_name="Ахмед Тайный", relative_location="Неизвестно",
                   children=None, display=Display.hidden, relative_public=True)  # fmt: skip
    content = collect_content(open_appeal, Edition.public)
    [family] = families(content)
    assert (family.relative, family.location, len(family.members)) == ("Ислам Налоев", "Эрбиль", 1)
    counted = [(p.place, p.families, p.persons, p.grouped) for p in content.places]
    # Two families are too few to name their place; the place not given last.
    assert counted == [("", 2, 5, 1), ("", 1, 1, 0)]
    # The submission edition counts the same families, and names every place.
    submission = collect_content(open_appeal, Edition.submission)
    named = [(p.place, p.families, p.persons, p.grouped) for p in submission.places]
    assert named == [("Эрбиль", 2, 5, 0), ("", 1, 1, 0)]
    assert len(families(submission)) == 3
    text, _row = render(open_appeal, Edition.public)
    assert compact("Муса Тайный") not in text and compact("Ахмед Тайный") not in text
    assert compact("Ислам Налоев") in text


def test_the_public_summary_names_only_places_with_enough_families(open_appeal, make_signature):
    for relative in ("Ислам Налоев", "Муса Налоев", "Ахмед Налоев"):
        make_signature(open_appeal, relative_name=relative, relative_location="Эрбиль", children=1)
    make_signature(open_appeal, relative_name="Адам Редкий",
                   relative_location="Мосул, тюрьма Бадуш", children=2)  # fmt: skip
    make_signature(open_appeal, relative_name="Юсуф Редкий", relative_location="Тикрит",
                   children=None)  # fmt: skip
    public = collect_content(open_appeal, Edition.public)
    assert [(p.place, p.families, p.persons, p.grouped) for p in public.places] == [
        ("Эрбиль", 3, 6, 0),
        ("", 2, 4, 2),  # Mosul and Tikrit, one family each, counted together and not named
    ]
    text, _row = render(open_appeal, Edition.public)
    assert compact("Эрбиль") in text and compact("2 других места, не названы") in text
    assert compact("Бадуш") not in text and compact("Тикрит") not in text
    submission = collect_content(open_appeal, Edition.submission)
    assert {p.place for p in submission.places} == {"Эрбиль", "Мосул, тюрьма Бадуш", "Тикрит"}


def test_the_summary_counts_every_signer_by_region_and_relationship(open_appeal, make_signature):
    make_signature(open_appeal, display=Display.hidden)
    make_signature(open_appeal, display=Display.initials, relationship="жена")
    content = collect_content(open_appeal, Edition.public)
    assert [row.region for row in content.rows] == ["", region_name("RU-CE", "ru")]
    assert content.by_region == [(region_name("RU-CE", "ru"), 2)]
    assert content.by_relationship == [("жена", 1), ("мать", 1)]  # neither agreed: counted
    assert [row.relationship for row in content.rows] == ["", ""]
