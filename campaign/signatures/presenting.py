"""How a signature is named in public: as its signer chose, and never more."""

from flask_babel import gettext as _

from campaign.signatures.models import Display, Signature
from campaign.signatures.regions import OTHER, region_name


def region_label(code: str, other: str, language: str) -> str:
    """Name a signature's region: the subdivision's name, the free text, or 'elsewhere'."""
    if code == OTHER:
        return other or _("elsewhere")
    if not code:
        return _("region not given")
    return region_name(code, language)


def initials(signature: Signature) -> str:
    """Return what "my initials" means wherever the public sees it: "M. N." for Madina Naloeva."""
    return " ".join(f"{p[0]}." for p in (signature.given_name, signature.surname) if p)


def public_name(signature: Signature, language: str) -> str:
    """Return the public line for a signature: full name, or initials, with the region."""
    region = (
        region_label(signature.region, signature.region_other, language) if signature.region else ""
    )
    if signature.display is Display.full:
        name = " ".join(p for p in (signature.given_name, signature.surname) if p)
    elif signature.display is Display.initials:
        name = initials(signature)
    else:
        return ""
    return f"{name}, {region}" if region else name
