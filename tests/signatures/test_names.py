"""Names folded to one Latin key: spellings of one name meet, different names stay apart."""

import pytest

from campaign.signatures.names import fold_name, fold_words, name_key

SAME = [
    ("Налоева", "Мадина", "Madina", "Naloyeva"),
    ("Налоева", "Мадина", "Naloeva", "Madina"),
    ("Налоева", "Мадина", "NALOEVA", "madina"),
    ("Налоева", "Мадина", "Мадина", "Налоева"),
    ("Айша", "Хасанова", "Aisha", "Hasanova"),
    ("Айша", "Хасанова", "Aysha", "Khasanova"),
    ("Ильясова", "Зарема", "Ilyasova", "Zarema"),
    ("Хадижат", "Ахъядова", "Khadidzhat", "Akhyadova"),
    ("Цой", "Виктор", "Tsoi", "Viktor"),
    ("Цой", "Виктор", "Tzoy", "Victor"),
    ("Королёва", "Ольга", "Korolyova", "Olga"),
    ("Королёва", "Ольга", "Korolova", "Olga"),
    ("Алиева", "Патимат", "Aliyeva", "Patimat"),
    ("Алиева", "Патимат", "Alieva", "Pattimat"),
    ("Дмитрий", "Сергеев", "Dmitrii", "Sergeyev"),
    ("Юсупова", "Яха", "Jusupova", "Yakha"),
    ("Гаджиева", "Гюльнара", "Gadzhiyeva", "Gyulnara"),
    ("Гасанова", "Гуль", "Ghasanova", "Ghul"),
]


@pytest.mark.parametrize(("a_surname", "a_given", "b_surname", "b_given"), SAME)
def test_spellings_of_one_name_fold_to_one_key(a_surname, a_given, b_surname, b_given):
    assert name_key(a_surname, a_given) == name_key(b_surname, b_given)


DIFFERENT = [
    ("Налоева", "Мадина", "Налиева", "Мадина"),
    ("Налоева", "Мадина", "Налоев", "Мадин"),  # her husband's surname form
    ("Жанна", "Алиева", "Яна", "Алиева"),
    ("Хасанова", "Айша", "Хасанова", "Аминат"),
    ("Налоева-1", "Мадина", "Налоева-2", "Мадина"),  # numbered namesakes stay apart
    ("Налоева", "Мадина 11", "Налоева", "Мадина 1"),  # numbers are not folded like letters
]


@pytest.mark.parametrize(("a_surname", "a_given", "b_surname", "b_given"), DIFFERENT)
def test_different_names_keep_different_keys(a_surname, a_given, b_surname, b_given):
    assert name_key(a_surname, a_given) != name_key(b_surname, b_given)


def test_words_are_sorted_and_separators_do_not_matter():
    assert fold_name("Абу-Бакар", "Магомедов") == fold_name("Magomedov", "Abu Bakar")
    assert fold_name("  Султан  ") == "sultan"
    assert fold_words("Ислам Налоев") == ["islam", "naloev"]


def test_places_fold_like_names():
    assert fold_name("Багдад") == fold_name("Baghdad") == fold_name("BAGDAD")
    assert fold_name("Эрбиль") == fold_name("Erbil")


def test_numbers_are_words_of_their_own():
    assert fold_words("Ислам Налоев 17") == ["islam", "naloev", "17"]
    assert fold_words("Налоева-2") == ["naloeva", "2"]
    assert fold_words("٣") == ["3"]  # digits of any script


def test_any_script_gives_a_latin_key():
    assert fold_name("王", "Ли") == fold_name("Wang", "Li")
    key = fold_name("عائشة")
    assert key and key.isascii()


def test_nothing_to_fold_gives_an_empty_key():
    assert fold_name("", " - ", "'") == ""
