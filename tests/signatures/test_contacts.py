"""Contacts: one person, one identity, and a keyed hash of it."""

import pytest

from campaign.signatures.contacts import (
    contact_hash,
    email_identity,
    name_identity,
    normalise_phone,
)


@pytest.mark.parametrize(
    ("given", "identity"),
    [
        ("Madina@Example.ORG", "madina@example.org"),
        ("  madina@example.org  ", "madina@example.org"),
        ("madina+appeal@example.org", "madina@example.org"),
        ("Madina+Appeal+More@example.org", "madina@example.org"),
        ("madina.naloeva@example.org", "madina.naloeva@example.org"),
        ("madina.naloeva@yandex.ru", "madina.naloeva@yandex.ru"),
        ("Madina.Naloeva@Gmail.com", "madinanaloeva@gmail.com"),
        ("m.a.d.i.n.a+signed@gmail.com", "madina@gmail.com"),
        ("madina.naloeva@googlemail.com", "madinanaloeva@gmail.com"),
        ("MADINA.NALOEVA+x@GoogleMail.COM", "madinanaloeva@gmail.com"),
    ],
)
def test_email_identity(given, identity):
    assert email_identity(given) == identity


def test_gmail_spellings_reach_one_identity():
    spellings = [
        "madinanaloeva@gmail.com",
        "Madina.Naloeva@gmail.com",
        "madina.naloeva+appeal@googlemail.com",
        "M.A.D.I.N.A.N.A.L.O.E.V.A@GMAIL.COM",
    ]

    assert {email_identity(s) for s in spellings} == {"madinanaloeva@gmail.com"}


def test_other_domains_keep_their_dots():
    assert email_identity("madina.naloeva@example.org") != email_identity(
        "madinanaloeva@example.org"
    )


@pytest.mark.parametrize(
    "phone",
    ["8 (928) 123-45-67", "+7 928 123 45 67", "+7 (928) 123-45-67", "89281234567"],
)
def test_russian_numbers_in_every_spelling_are_one_number(phone):
    assert normalise_phone(phone, "RU") == "+79281234567"


def test_national_and_international_spellings_agree():
    assert normalise_phone("8 (928) 123-45-67", "RU") == normalise_phone("+7 928 123 45 67", "RU")


def test_an_international_number_keeps_its_own_country():
    assert normalise_phone("+44 20 7946 0958", "RU") == "+442079460958"


@pytest.mark.parametrize(
    "phone",
    ["12", "not a phone", "", "+7 000 000 00 00", "8 (928) 123-45-6"],
    ids=["too-short", "letters", "empty", "unassigned", "one-digit-short"],
)
def test_an_invalid_phone_raises_value_error(phone):
    with pytest.raises(ValueError):
        normalise_phone(phone, "RU")


MADINA = name_identity("Naloeva", "Madina")


@pytest.mark.parametrize(
    ("surname", "given_name"),
    [
        ("NALOEVA", "madina"),
        ("  Naloeva ", "Madina"),
        ("Madina", "Naloeva"),  # the two boxes swapped
        ("Naloeva", "Ｍａｄｉｎａ"),  # full-width letters
    ],
)
def test_name_identity_folds_what_does_not_make_another_person(surname, given_name):
    assert name_identity(surname, given_name) == MADINA


def test_a_patronymic_tells_namesakes_apart():
    grandmother = name_identity("Магомедова", "Аминат", "Исаевна")
    granddaughter = name_identity("Магомедова", "Аминат", "Руслановна")
    assert grandmother != granddaughter
    assert name_identity("МАГОМЕДОВА", "аминат", " Исаевна ") == grandmother
    assert name_identity("Magomedova", "Aminat", "Isaevna") == grandmother
    assert name_identity("Magomedova", "Aminat", "Ruslanovna") == granddaughter
    # Signed once with her patronymic and once without: two, for the organisers to see.
    assert name_identity("Магомедова", "Аминат") != grandmother


def test_name_identity_folds_yo_and_spaces_inside():
    assert name_identity("Алиёва", "Зарема  Магомедовна") == name_identity(
        "алиева", "Зарема Магомедовна"
    )


@pytest.mark.parametrize(
    ("surname", "given_name"),
    [("Naloyeva", "Madina"), ("Налоева", "Мадина"), ("Мадина", "Naloeva")],
)
def test_name_identity_is_one_in_any_script_and_spelling(surname, given_name):
    assert name_identity(surname, given_name) == MADINA


@pytest.mark.parametrize(
    ("surname", "given_name"),
    [("Naloeva", "Aisha"), ("Налиева", "Мадина"), ("Налоев", "Мадина"), ("Naloeva-2", "Madina")],
)
def test_name_identity_tells_other_names_apart(surname, given_name):
    assert name_identity(surname, given_name) != MADINA


def test_a_name_with_nothing_to_fold_is_still_itself():
    assert name_identity("🌸", "🌼") != name_identity("🌹", "🌼")
    assert name_identity("🌸", "🌼") != name_identity("", "")


def test_contact_hash_differs_between_relatives_on_one_contact(app):
    mother = name_identity("Naloeva", "Khadizhat")
    assert contact_hash("phone", "+79281234567", MADINA) != contact_hash(
        "phone", "+79281234567", mother
    )


def test_contact_hash_is_deterministic(app):
    first = contact_hash("email", "madina@example.org", MADINA)

    assert first == contact_hash("email", "madina@example.org", MADINA)
    assert len(first) == 64 and int(first, 16) >= 0
    assert "madina" not in first


def test_contact_hash_differs_between_identities(app):
    assert contact_hash("email", "madina@example.org", MADINA) != contact_hash(
        "email", "islam@example.org", MADINA
    )


def test_contact_hash_differs_between_kinds(app):
    assert contact_hash("email", "+79281234567", MADINA) != contact_hash(
        "phone", "+79281234567", MADINA
    )


def test_contact_hash_depends_on_the_key(app):
    app.config["CONTACT_HASH_KEY"] = "first key"
    first = contact_hash("email", "madina@example.org", MADINA)
    assert first == contact_hash("email", "madina@example.org", MADINA)

    app.config["CONTACT_HASH_KEY"] = "second key"

    assert contact_hash("email", "madina@example.org", MADINA) != first


def test_contact_hash_needs_an_app_context():
    with pytest.raises(RuntimeError):
        contact_hash("email", "madina@example.org", MADINA)
