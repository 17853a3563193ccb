"""Regions: the ISO 3166-2 subdivisions of a country, named in the page's language."""

import gettext
from functools import cache

import pycountry
from flask import has_app_context
from flask_babel import force_locale

from campaign.signatures.region_names import SUPPLEMENT

OTHER = "other"


@cache
def _translation(language: str) -> gettext.NullTranslations:
    return gettext.translation(
        "iso3166-2", pycountry.LOCALES_DIR, languages=[language], fallback=True
    )


@cache
def subdivision_codes(country: str) -> tuple[str, ...]:
    """Return every ISO 3166-2 code of the country (top-level subdivisions only)."""
    subdivisions = pycountry.subdivisions.get(country_code=country) or []
    return tuple(sorted(s.code for s in subdivisions if not s.parent_code))


def region_name(code: str, language: str) -> str:
    """Name a subdivision in the language: ours where we have it, else iso-codes' translation
    (or its ISO name)."""
    # Once per name: a dossier names the region of every one of its thousands of rows, and a
    # name in our catalogue costs a locale switch (30 us).
    if not has_app_context():  # our catalogue is unreachable: do not cache untranslated names
        return _region_name.__wrapped__(code, language)
    return _region_name(code, language)


@cache
def _region_name(code: str, language: str) -> str:
    subdivision = pycountry.subdivisions.get(code=code)
    if subdivision is None:
        return code
    if subdivision.name in SUPPLEMENT:
        with force_locale(language):
            return str(SUPPLEMENT[subdivision.name])
    return _translation(language).gettext(subdivision.name)


def region_choices(country: str, language: str, subset: list[str] | None) -> list[tuple[str, str]]:
    """Return (code, name) for the offered regions, sorted by name in the language."""
    if not has_app_context():  # our catalogue is unreachable: do not cache untranslated names
        return list(_region_choices.__wrapped__(country, language, tuple(subset or ())))
    return list(_region_choices(country, language, tuple(subset or ())))


@cache
def _region_choices(
    country: str, language: str, subset: tuple[str, ...]
) -> tuple[tuple[str, str], ...]:
    # Built on every view of a public page and every signature: named and sorted once.
    allowed = subdivision_codes(country)
    codes = [code for code in subset if code in allowed] if subset else list(allowed)
    choices = [(code, region_name(code, language)) for code in codes]
    return tuple(sorted(choices, key=lambda choice: choice[1].casefold()))
