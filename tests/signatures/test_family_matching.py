"""A family's place and children: what most of its signers gave."""

import pytest

from campaign.signatures.family_matching import most_given, most_given_number, place_key


@pytest.mark.parametrize(
    ("values", "expected"),
    [
        (["СИЗО-1 Грозный"], "СИЗО-1 Грозный"),
        (["Не знаю"], ""),
        ([""], ""),
        ([], ""),
        (["сизо-1 грозный", "СИЗО-1 Грозный", "ИК-2"], "сизо-1 грозный"),
        (["ИК-2", "Не знаю", "СИЗО-1", "СИЗО-1"], "СИЗО-1"),
        (["Не знаю", "ИК-2"], "ИК-2"),
        (["ИК-2", "СИЗО-1"], "ИК-2"),
    ],
)
def test_the_place_most_signers_gave_as_the_first_of_them_wrote_it(values, expected):
    assert most_given(values, place_key) == expected


@pytest.mark.parametrize(
    ("values", "expected"),
    [
        ([2], 2),
        ([None], None),
        ([], None),
        ([None, 3, 1, 1], 1),
        ([3, 1], 3),
        ([0, None], 0),
    ],
)
def test_the_number_of_children_most_signers_gave(values, expected):
    assert most_given_number(values) == expected
