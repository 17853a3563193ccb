"""Regions are ISO 3166-2 subdivisions, named in the page's language."""

import re

import pytest
from flask_babel import force_locale

from campaign.signatures.regions import region_choices, region_name, subdivision_codes

NORTH_CAUCASUS = ["RU-CE", "RU-DA", "RU-IN", "RU-KB", "RU-KC", "RU-SE", "RU-STA"]


def test_every_russian_region_has_a_russian_name(app):
    codes = subdivision_codes("RU")
    assert len(codes) == 83
    with app.test_request_context():
        for code in codes:
            name = region_name(code, "ru")
            assert re.search("[А-Яа-яЁё]", name) and not re.search("[A-Za-z]", name), (code, name)


def test_names_follow_the_language(app):
    with app.test_request_context():
        assert region_name("RU-KB", "ru") == "Кабардино-Балкарская Республика"
        assert region_name("RU-KB", "en") == "Kabardino-Balkarian Republic"
        with force_locale("ru"):  # the page language does not leak into another language's name
            assert region_name("RU-STA", "en") == "Stavropol Krai"


def test_every_russian_region_has_an_english_name(app):
    # ISO 3166-2 names Russia's subjects in transliterated Russian ("Stavropol'skiy kray"),
    # which is not what an English reader calls them.
    transliterated = re.compile(r"'|Respublika|oblast|kray|avtonomn|okrug\b")
    with app.test_request_context():
        names = {code: region_name(code, "en") for code in subdivision_codes("RU")}
    assert {code: name for code, name in names.items() if transliterated.search(name)} == {}
    assert names["RU-CE"] == "Chechen Republic" and names["RU-MOW"] == "Moscow"
    assert len(set(names.values())) == 83


def test_a_subset_is_offered_in_order_of_name(app):
    with app.test_request_context():
        choices = region_choices("RU", "ru", [*NORTH_CAUCASUS, "RU-XX"])
    assert [code for code, _name in choices] == [
        "RU-KB",
        "RU-KC",
        "RU-DA",
        "RU-IN",
        "RU-SE",
        "RU-STA",
        "RU-CE",
    ]


@pytest.mark.parametrize("country", ["RU", "FR", "IQ"])
def test_every_country_has_its_subdivisions(country):
    assert subdivision_codes(country)
