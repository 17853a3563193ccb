"""The index of signers' name words: kept in step with every way a signature is stored, and
used by the list's search when a word starts few names (the query plan shows it)."""

import io

import pytest
from sqlalchemy import delete, select

from campaign.extensions import db
from campaign.signatures.import_columns import mapping_from_header
from campaign.signatures.importing import import_table
from campaign.signatures.listing import Query, filtered, list_page, search_condition
from campaign.signatures.models import Signature, SignatureNameWord
from campaign.signatures.name_words import _after_prefix
from campaign.signatures.signer_links import withdraw_signature


def _words(signature_id):
    return set(
        db.session.scalars(
            select(SignatureNameWord.word).where(SignatureNameWord.signature_id == signature_id)
        )
    )


def test_the_words_follow_the_name(open_appeal, make_signature):
    signature = make_signature(open_appeal, surname="Налоева", given_name="Мадина", patronymic="")
    assert _words(signature.id) == {"madina", "naloeva"}
    signature.surname = "Умарова"
    db.session.commit()
    assert _words(signature.id) == {"madina", "umareva"}
    signature_id = signature.id
    db.session.execute(delete(Signature).where(Signature.id == signature_id))
    db.session.commit()
    assert _words(signature_id) == set()


def test_a_withdrawal_empties_the_words(open_appeal, make_signature):
    from campaign.signatures.operations import SignData, sign_appeal

    outcome = sign_appeal(
        open_appeal,
        SignData(surname="Умарова", given_name="Заира", region="RU-KB", email="z@example.org"),
        consent="yes",
        confirm_within=None,
    )
    db.session.commit()
    assert _words(outcome.signature.id) == {"umareva", "zaira"}
    withdraw_signature(outcome.withdraw_token)
    db.session.commit()
    assert _words(outcome.signature.id) == set()


def test_an_import_indexes_the_words_of_its_rows(open_appeal):
    table = "surname,given_name,region,relationship\nНалоева,Мадина,RU-CE,mother\n".encode()
    stream = io.BytesIO(table)
    mapping = mapping_from_header(open_appeal, ["surname", "given_name", "region", "relationship"])
    report = import_table(open_appeal, stream, mapping)
    db.session.commit()
    assert report.stored == 1
    signature = db.session.scalar(select(Signature))
    assert _words(signature.id) == {"madina", "naloeva"}


@pytest.mark.parametrize(
    ("prefix", "bound"), [("nal", "nam"), ("az", "b"), ("zz", None), ("a9", "aa"), ("9", "a")]
)
def test_the_range_of_a_prefix(prefix, bound):
    assert _after_prefix(prefix) == bound


@pytest.fixture
def crowd(open_appeal, make_signature):
    """Many Madinas, few Naloevas: "madina nal" is a rare pair of common words."""
    for n in range(30):
        make_signature(open_appeal, surname=f"Умарова{'а' * (n % 3)}", given_name="Мадина",
                       drawn=False)  # fmt: skip
    for given in ("Мадина", "Айша", "Madina", "Заира", "Заира", "Заира"):
        make_signature(open_appeal, surname="Налоева", given_name=given, drawn=False)
    return open_appeal


def _found(appeal, text):
    return {s.id for s in list_page(appeal, Query(search=text)).signatures}


@pytest.mark.parametrize("text", ["madina nal", "naloeva", "Айша", "nal madi", "u", "m", "zz"])
def test_the_word_index_finds_what_the_names_alone_find(crowd, monkeypatch, text):
    with_index = _found(crowd, text)
    monkeypatch.setattr("campaign.signatures.name_words.MAX_LOOKED_UP", -1)
    assert _found(crowd, text) == with_index


def test_a_rare_two_word_search_uses_the_word_index(crowd, monkeypatch):
    monkeypatch.setattr("campaign.signatures.name_words.MAX_LOOKED_UP", 6)
    assert "signature_name_word" in str(search_condition("madina nal", crowd.id))
    # Common words alone: walking the list in order finds a page first.
    assert "signature_name_word" not in str(search_condition("madina", crowd.id))
    statement = (
        filtered(crowd, Query(search="madina nal"))
        .order_by(Signature.created_at.desc(), Signature.id.desc())
        .limit(51)
    )
    sql = str(statement.compile(db.engine, compile_kwargs={"literal_binds": True}))
    with db.engine.connect() as connection:
        if db.engine.dialect.name == "sqlite":
            plan = " | ".join(
                row[-1] for row in connection.exec_driver_sql("EXPLAIN QUERY PLAN " + sql)
            )
            assert "SEARCH signature USING INTEGER PRIMARY KEY" in plan, plan
            assert "SEARCH signature_name_word USING COVERING INDEX" in plan, plan
        else:
            plan = " | ".join(row[0] for row in connection.exec_driver_sql("EXPLAIN " + sql))
            assert "signature_name_word" in plan, plan
    assert len(_found(crowd, "madina nal")) == 2


def test_two_common_words_rare_together_are_intersected_in_the_index(crowd, monkeypatch):
    monkeypatch.setattr("campaign.signatures.name_words.MAX_LOOKED_UP", 3)
    condition = str(search_condition("madina naloeva", crowd.id))
    assert "signature_name_word" in condition and "INTERSECT" in condition
    found = _found(crowd, "madina naloeva")
    monkeypatch.setattr("campaign.signatures.name_words.MAX_LOOKED_UP", -1)
    assert _found(crowd, "madina naloeva") == found and len(found) == 2
