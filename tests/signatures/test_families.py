"""Families: signers grouped around one person concerned, never by a given name alone."""

import pytest
from sqlalchemy import select

from campaign.extensions import db
from campaign.link_tokens import new_token
from campaign.signatures.families import family_labels, recompute_families, unplaced_count
from campaign.signatures.family_matching import place_key, places_agree
from campaign.signatures.models import PersonConcerned, Signature, SignatureStatus
from campaign.signatures.signer_links import withdraw_signature


@pytest.fixture
def appeal(make_published_appeal):
    return make_published_appeal(language="ru", country="RU")


def family(signature):
    db.session.refresh(signature)
    return signature.person_concerned_id


def families_count(appeal):
    query = select(PersonConcerned.id).where(PersonConcerned.appeal_id == appeal.id)
    return len(db.session.scalars(query).all())


def test_spellings_of_one_relative_in_one_region_are_one_family(appeal, make_signature):
    mother = make_signature(appeal, relative_name="Ислам Налоев", relative_location="Багдад")
    wife = make_signature(
        appeal, relative_name="Islam Naloyev", relative_location="Baghdad, Rusafa prison"
    )
    sister = make_signature(appeal, relative_name="НАЛОЕВ ИСЛАМ", relative_location="")
    assert family(mother) == family(wife) == family(sister) is not None
    assert families_count(appeal) == 1


def test_sultan_in_five_regions_held_in_five_places_is_five_families(appeal, make_signature):
    places = ["Багдад, тюрьма Русафа", "Эрбиль", "Насирия", "Тюрьма Эль-Кадхимия", "Мосул"]
    regions = ["RU-CE", "RU-DA", "RU-IN", "RU-KB", "RU-KC"]
    signers = [
        make_signature(appeal, relative_name="Султан", region=region, relative_location=place)
        for region, place in zip(regions, places, strict=True)
    ]
    assert len({family(s) for s in signers}) == 5


def test_one_region_but_two_places_is_two_families(appeal, make_signature):
    first = make_signature(appeal, relative_name="Султан", relative_location="Эрбиль")
    second = make_signature(appeal, relative_name="Султан", relative_location="Багдад")
    assert family(first) != family(second)


def test_a_name_alone_never_groups(appeal, make_signature):
    first = make_signature(appeal, relative_name="Султан", region="", relative_location="")
    second = make_signature(appeal, relative_name="Султан", region="", relative_location="")
    assert family(first) != family(second)


def test_an_unknown_place_is_no_place(appeal, make_signature):
    assert place_key("Неизвестно") == place_key("не известно") == ""
    known = make_signature(appeal, relative_name="Султан", relative_location="Эрбиль")
    unknown = make_signature(appeal, relative_name="Султан", relative_location="Неизвестно")
    assert family(known) == family(unknown)


def test_answers_fitting_two_families_equally_start_a_third(appeal, make_signature):
    erbil = make_signature(appeal, relative_name="Султан", relative_location="Эрбиль")
    baghdad = make_signature(appeal, relative_name="Султан", relative_location="Багдад")
    # Same region as both, no place: which Sultan is hers cannot be told.
    unsure = make_signature(appeal, relative_name="Султан", relative_location="")
    assert family(unsure) not in (family(erbil), family(baghdad))


@pytest.mark.parametrize(
    ("a", "b", "agree"),
    [
        ("Багдад", "Багдад, тюрьма Русафа", True),
        ("Багдад, тюрьма Русафа", "Baghdad, Rusafa", True),
        ("Эрбиль", "Erbil", True),
        ("Эрбиль", "Багдад", False),
        ("Тюрьма Эль-Кадхимия", "Багдад, тюрьма Русафа", False),
        ("", "Эрбиль", True),
    ],
)
def test_places_agree_when_one_holds_the_other_or_they_are_spellings(a, b, agree):
    assert places_agree(place_key(a), place_key(b)) is agree


def test_no_relative_no_family(appeal, make_signature):
    supporter = make_signature(appeal, relative_name="", relationship="сторонник")
    assert family(supporter) is None and supporter.relative_key == ""


def test_a_withdrawal_takes_her_out_of_her_family(appeal, make_signature):
    signature = make_signature(appeal, relative_name="Ислам Налоев")
    token, signature.withdraw_token_hash = new_token()
    db.session.commit()
    assert family(signature) is not None
    withdraw_signature(token)
    db.session.commit()
    assert family(signature) is None and signature.relative_key == ""
    recompute_families(appeal.id)
    db.session.commit()
    assert families_count(appeal) == 0  # nothing of her relative is kept


def test_signatures_made_before_families_were_kept_are_placed_as_a_recompute_would(
    appeal, make_signature
):
    old = [make_signature(appeal, relative_name="Ислам Налоев") for _ in range(2)]
    for signature in old:
        signature.person_concerned_id = None
    db.session.execute(db.delete(PersonConcerned))
    db.session.commit()
    assert unplaced_count(appeal.id) == 2
    # The dossier reads them as one family without storing anything.
    labels = family_labels(appeal.id, [s.id for s in old], [None, None])
    assert labels[0] == labels[1] is not None
    assert unplaced_count(appeal.id) == 2
    # Her relative's next signer places them first, with her.
    new = make_signature(appeal, relative_name="Islam Naloev")
    assert family(old[0]) == family(old[1]) == family(new) is not None
    assert unplaced_count(appeal.id) == 0


def test_recompute_places_everyone_again_and_keeps_ids(appeal, make_signature):
    a = make_signature(appeal, relative_name="Ислам Налоев")
    b = make_signature(appeal, relative_name="Islam Naloev")
    c = make_signature(appeal, relative_name="Ахмед Исаев")
    kept = family(a)
    # Two signers of one relative put apart (a race between two signers at once, say).
    c.person_concerned_id = kept
    b.person_concerned_id = db.session.scalar(
        select(PersonConcerned.id).where(PersonConcerned.id != kept)
    )
    db.session.commit()
    result = recompute_families(appeal.id)
    db.session.commit()
    assert family(a) == family(b) == kept
    assert family(c) not in (None, kept)
    assert (result.families, result.moved) == (2, 2)
    assert families_count(appeal) == 2


def test_pending_and_rejected_signers_keep_their_family(appeal, make_signature):
    a = make_signature(appeal, relative_name="Ислам Налоев")
    b = make_signature(appeal, relative_name="Ислам Налоев")
    b.status = SignatureStatus.rejected
    db.session.commit()
    recompute_families(appeal.id)
    db.session.commit()
    assert family(a) == family(b)
    assert db.session.get(Signature, b.id).relative_key == "islam naloev"
