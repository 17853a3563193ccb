"""The duplicate finder: spellings across scripts meet, near-namesakes elsewhere stay apart."""

import pytest

from campaign.extensions import db
from campaign.signatures.duplicates import FIELDS, find_pairs, in_candidate_pair
from campaign.signatures.models import DistinctPair, Signature, SignatureStatus

# (label, surname, given name, overrides): the signers of the list.
SIGNERS = [
    # One mother of Chechnya, three times: Cyrillic, then two Latin spellings.
    ("madina", "Налоева", "Мадина", {"relative_name": "Ислам Налоев"}),
    ("madina-y", "Naloyeva", "Madina", {"relative_name": "Islam Naloyev", "town": "Grozny"}),
    ("madina-e", "Naloeva", "Madina", {"relative_name": "Islam Naloev", "patronymic": ""}),
    # Near-namesakes in other regions, about other relatives: other women.
    (
        "nalieva-dagestan",
        "Налиева",
        "Мадина",
        {"region": "RU-DA", "town": "Махачкала", "relative_name": "Ахмед Налиев"},
    ),
    (
        "naloeva-kbr",
        "Naloeva",
        "Madina",
        {
            "region": "RU-KB",
            "town": "Нальчик",
            "patronymic": "Мухамедовна",
            "relative_name": "Руслан Налоев",
        },
    ),
    # Aisha, twice in Chechnya, the second time in Latin letters; a namesake in Ingushetia.
    ("aisha", "Хасанова", "Айша", {"relative_name": "Адам Хасанов", "patronymic": ""}),
    ("aysha", "Khasanova", "Aysha", {"relative_name": "Adam Khasanov", "patronymic": ""}),
    (
        "aisha-ingushetia",
        "Hasanova",
        "Aisha",
        {"region": "RU-IN", "town": "Назрань", "relative_name": "Муса Хасанов", "patronymic": ""},
    ),
    # A grandmother and the granddaughter named after her, on one phone, about one grandson.
    (
        "grandmother",
        "Магомедова",
        "Аминат",
        {"patronymic": "Исаевна", "phone": "+79281234567", "relative_name": "Шамиль Магомедов"},
    ),
    (
        "granddaughter",
        "Magomedova",
        "Aminat",
        {"patronymic": "Ruslanovna", "phone": "+79281234567", "relative_name": "Shamil Magomedov"},
    ),
    # Once with her patronymic, once without it.
    (
        "patimat",
        "Алиева",
        "Патимат",
        {"region": "RU-DA", "patronymic": "Магомедовна", "relative_name": "Али Алиев"},
    ),
    (
        "patimat-short",
        "Alieva",
        "Patimat",
        {"region": "RU-DA", "patronymic": "", "town": "", "relative_name": "Ali Aliev"},
    ),
    # Her surname swapped into the given name's box, and a soft sign for a hard one.
    ("khadizhat", "Ахъядова", "Хадижат", {"relative_name": "Ибрагим Ахъядов", "patronymic": ""}),
    (
        "khadizhat-swap",
        "Хадижат",
        "Ахьядова",
        {"relative_name": "Ибрагим Ахьядов", "patronymic": ""},
    ),
    # A namesake of the same region who names another relative, held elsewhere.
    (
        "zarema",
        "Ильясова",
        "Зарема",
        {"relative_name": "Хасан Ильясов", "patronymic": "Адамовна", "town": "Аргун"},
    ),
    (
        "zarema-other",
        "Ilyasova",
        "Zarema",
        {
            "relative_name": "Said Ilyasov",
            "patronymic": "Vakhaevna",
            "town": "Shali",
            "relative_location": "Erbil",
        },
    ),
]
DUPLICATES = {
    frozenset({"madina", "madina-y"}),
    frozenset({"madina", "madina-e"}),
    frozenset({"madina-y", "madina-e"}),
    frozenset({"aisha", "aysha"}),
    frozenset({"patimat", "patimat-short"}),
    frozenset({"khadizhat", "khadizhat-swap"}),
}


@pytest.fixture
def signed(make_published_appeal, make_signature):
    appeal = make_published_appeal(language="ru", country="RU")
    labels = {}
    for label, surname, given_name, overrides in SIGNERS:
        values = {"patronymic": "Руслановна", "email": f"{label}@example.org", **overrides}
        signature = make_signature(appeal, surname=surname, given_name=given_name, **values)
        labels[signature.id] = label
    return appeal, labels


def found(appeal, labels, **options):
    return {
        frozenset({labels[pair.first_id], labels[pair.second_id]})
        for pair in find_pairs(appeal.id, **options)
    }


def test_the_list_finds_the_duplicates_and_not_the_near_namesakes(signed):
    appeal, labels = signed
    assert found(appeal, labels) == DUPLICATES


def test_pairs_come_highest_first_with_what_agrees(signed):
    appeal, labels = signed
    pairs = find_pairs(appeal.id)
    assert [p.score for p in pairs] == sorted((p.score for p in pairs), reverse=True)
    for pair in pairs:
        assert 0 <= pair.score <= 100 and set(pair.agree) <= set(FIELDS)
        assert pair.first_id < pair.second_id  # the first signed first
    madina = next(
        p for p in pairs if {labels[p.first_id], labels[p.second_id]} == {"madina", "madina-y"}
    )
    assert madina.score == 100
    assert madina.agree == ("name", "patronymic", "region", "relative", "town")
    grandmother = next(
        p for p in find_pairs(appeal.id, minimum=0) if labels[p.first_id] == "grandmother"
    )
    assert grandmother.score < 50 and "phone" in grandmother.agree


def test_what_else_agrees_raises_the_score_and_what_differs_lowers_it(
    make_published_appeal, make_signature
):
    appeal = make_published_appeal(language="ru", country="RU")
    base = {
        "surname": "Налоева",
        "given_name": "Мадина",
        "patronymic": "",
        "town": "",
        "relative_name": "",
    }
    make_signature(appeal, **base, email="a@example.org")
    make_signature(appeal, **{**base, "surname": "Налаева"}, email="b@example.org")  # a typo
    [pair] = find_pairs(appeal.id, minimum=0)
    typo = pair.score
    assert pair.agree == ("region",)
    # Elsewhere, the same two names score lower.
    other = make_published_appeal(language="ru", country="RU")
    make_signature(other, **base, email="c@example.org")
    make_signature(
        other, **{**base, "surname": "Налаева", "region": "RU-DA"}, email="d@example.org"
    )
    [elsewhere] = find_pairs(other.id, minimum=0)
    assert elsewhere.score < typo and elsewhere.agree == ()


def test_only_counted_or_flagged_signatures_are_candidates(signed):
    appeal, labels = signed
    by_label = {label: sid for sid, label in labels.items()}
    db.session.get(Signature, by_label["madina-y"]).status = SignatureStatus.flagged
    db.session.get(Signature, by_label["madina-e"]).status = SignatureStatus.rejected
    db.session.get(Signature, by_label["aysha"]).status = SignatureStatus.pending
    db.session.commit()
    assert found(appeal, labels) == {
        frozenset({"madina", "madina-y"}),
        frozenset({"patimat", "patimat-short"}),
        frozenset({"khadizhat", "khadizhat-swap"}),
    }


def test_a_pair_marked_distinct_is_not_shown(signed):
    appeal, labels = signed
    by_label = {label: sid for sid, label in labels.items()}
    first, second = sorted([by_label["patimat"], by_label["patimat-short"]])
    db.session.add(DistinctPair(appeal_id=appeal.id, first_id=first, second_id=second))
    db.session.commit()
    assert frozenset({"patimat", "patimat-short"}) not in found(appeal, labels)


def test_the_threshold_is_a_setting(signed, app):
    appeal, labels = signed
    app.config["DUPLICATE_THRESHOLD"] = 101
    assert find_pairs(appeal.id) == []
    app.config["DUPLICATE_THRESHOLD"] = 0
    assert found(appeal, labels) > DUPLICATES


def test_the_list_filter_is_a_query_condition(signed):
    appeal, labels = signed
    query = db.select(Signature.id).where(
        Signature.appeal_id == appeal.id, in_candidate_pair(appeal.id)
    )
    ids = set(db.session.scalars(query))
    assert {labels[i] for i in ids} == set().union(*DUPLICATES)


def test_many_namesakes_are_compared_in_blocks(make_published_appeal, make_signature):
    appeal = make_published_appeal(language="ru", country="RU")
    # Twelve namesakes with twelve patronymics: none is another, and nothing is found.
    patronymics = [
        "Адамовна",
        "Ахмедовна",
        "Исаевна",
        "Мусаевна",
        "Руслановна",
        "Саидовна",
        "Умаровна",
        "Хасановна",
        "Алиевна",
        "Магомедовна",
        "Ибрагимовна",
        "Асланова",
    ]
    for n, patronymic in enumerate(patronymics):
        make_signature(
            appeal,
            surname="Мусаева",
            given_name="Хава",
            patronymic=patronymic,
            email=f"h{n}@example.org",
            drawn=False,
        )
    assert find_pairs(appeal.id) == []
    assert len(find_pairs(appeal.id, minimum=0)) == 66  # every pair was scored, once


def test_the_list_filter_takes_more_ids_than_sqlite_binds(signed, monkeypatch):
    appeal, labels = signed
    many = set(range(100_000, 400_000)) | set(labels)  # Debian allows 250,000 parameters
    monkeypatch.setattr("campaign.signatures.duplicates.candidate_ids", lambda _appeal_id: many)
    query = db.select(Signature.id).where(in_candidate_pair(appeal.id))
    assert set(db.session.scalars(query)) == set(labels)
