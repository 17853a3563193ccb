"""How a signature's region is named (what the public sees of her: signatures.audience)."""

from flask_babel import gettext as _

from campaign.signatures.regions import OTHER, region_name


def region_label(code: str, other: str, language: str) -> str:
    """Name a signature's region: the subdivision's name, the free text, or 'elsewhere'."""
    if code == OTHER:
        return other or _("elsewhere")
    if not code:
        return _("region not given")
    return region_name(code, language)
