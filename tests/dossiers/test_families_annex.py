"""The annex and the summary count families of a person concerned, not strings of a name."""

from sqlalchemy import select

from campaign.dossiers.annex_families import families, family_counts
from campaign.dossiers.content import collect_content
from campaign.dossiers.models import Edition
from campaign.extensions import db
from campaign.signatures.family_desk import merge_families
from campaign.signatures.models import Display, PersonConcerned, Signature
from tests.dossiers.pdftools import compact, flat, page_texts
from tests.dossiers.rendered import render

# Five mothers from five regions, each about her own Sultan, held in five places.
SULTANS = [
    ("Ахмадова", "RU-CE", "Багдад, тюрьма Русафа", 2),
    ("Гаджиева", "RU-DA", "Эрбиль", 1),
    ("Евлоева", "RU-IN", "Насирия, центральная тюрьма", 0),
    ("Карданова", "RU-KB", "Тюрьма Эль-Кадхимия", 3),
    ("Узденова", "RU-KC", "Мосул", 1),
]


def sign_sultans(appeal, make_signature):
    for surname, region, place, children in SULTANS:
        make_signature(
            appeal,
            surname=surname,
            region=region,
            relative_name="Султан",
            relative_location=place,
            children=children,
            drawn=False,
        )


def test_the_annex_of_the_why_gives_five_families_and_every_place(open_appeal, make_signature):
    sign_sultans(open_appeal, make_signature)
    groups = families(collect_content(open_appeal, Edition.submission))
    assert len(groups) == 5
    assert [g.location for g in groups] == [place for _s, _r, place, _c in SULTANS]
    assert [g.children for g in groups] == ["2", "1", "0", "3", "1"]
    _snapshot, pdf = render(open_appeal)
    pages = page_texts(pdf)
    annex = compact(" ".join(p for p in pages if "Где содержится" in p))
    for _surname, _region, place, _children in SULTANS:
        assert compact(place) in annex
    summary = flat(next(p for p in pages if p.startswith("Сводка")))
    assert ("5 семей, 12 затронутых лиц: 5 удерживаемых родственников и 7 детей с ними.") in summary


def test_relatives_signing_about_one_person_are_one_family(open_appeal, make_signature):
    make_signature(
        open_appeal,
        surname="Мать",
        relationship="мать",
        relative_name="Ислам Налоев",
        relative_location="Багдад",
        children=2,
    )
    make_signature(
        open_appeal,
        surname="Жена",
        relationship="жена",
        relative_name="Islam Naloyev",
        relative_location="Baghdad, Rusafa prison",
        children=3,
    )
    [family] = families(collect_content(open_appeal, Edition.submission))
    assert family.relative == "Ислам Налоев"
    # Nothing anyone said is dropped: both places, both numbers, the first given first.
    assert family.location == "Багдад; Baghdad, Rusafa prison"
    assert family.children == "2; 3"
    assert [(name.split()[0], relation) for _n, name, relation in family.members] == [
        ("Мать", "мать"),
        ("Жена", "жена"),
    ]
    assert family_counts([family]).persons == 3  # Islam and the two children most given


def test_an_organisers_merge_is_what_the_annex_shows(open_appeal, make_signature):
    first = make_signature(open_appeal, relative_name="Султан", relative_location="Эрбиль")
    second = make_signature(open_appeal, relative_name="Султан", relative_location="Мосул")
    assert len(families(collect_content(open_appeal, Edition.submission))) == 2
    merge_families(
        open_appeal.id, [first.person_concerned_id, second.person_concerned_id], actor_id=None
    )
    db.session.commit()
    [family] = families(collect_content(open_appeal, Edition.submission))
    assert family.location == "Эрбиль; Мосул"


def test_signatures_made_before_families_were_kept_are_grouped_in_the_annex(
    open_appeal, make_signature
):
    for _ in range(2):
        make_signature(open_appeal, relative_name="Ислам Налоев")
    sign_sultans(open_appeal, make_signature)
    for signature in db.session.scalars(select(Signature)):
        signature.person_concerned_id = None
    db.session.execute(db.delete(PersonConcerned))
    db.session.commit()
    assert len(families(collect_content(open_appeal, Edition.submission))) == 6
    assert db.session.scalars(select(PersonConcerned)).all() == []  # nothing stored by reading


def test_the_public_annex_shows_only_what_signers_who_agreed_gave(open_appeal, make_signature):
    make_signature(
        open_appeal,
        relative_name="Ислам Налоев",
        relative_location="Эрбиль",
        children=4,
        display=Display.initials,
    )
    make_signature(
        open_appeal,
        relative_name="Ислам Налоев",
        relative_location="",
        children=None,
        relative_public=True,
    )
    [family] = families(collect_content(open_appeal, Edition.public))
    assert (family.location, family.children, len(family.members)) == ("", "", 1)
    [family] = families(collect_content(open_appeal, Edition.submission))
    assert (family.location, family.children, len(family.members)) == ("Эрбиль", "4", 2)
