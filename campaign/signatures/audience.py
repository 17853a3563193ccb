"""What each audience sees of a signature: one decision, asked by every surface.

Three audiences read signatures:

- the public: the appeal's page, the public edition of the dossier and its CSV, the
  verification page. It sees exactly what the signer's choice says (public_view): her full name
  and region, her initials and region, or nothing (she is counted only), and her relative's
  details only when she ticked the separate choice that says so (relative_public); families
  otherwise only as counts (dossiers.aggregates);
- the authority, through the submission edition and the signature sheets: every field a dossier
  carries (full name, region, town, relative, postal address, who filled the form in, the drawn
  signature, every answer), as an authority may require; never email or phone;
- the appeal's members, on the desk: every field, behind the role checks of appeals.access.
"""

from dataclasses import dataclass
from typing import Any

from campaign.signatures.models import Display
from campaign.signatures.presenting import region_label


@dataclass(frozen=True, slots=True)
class PublicSigner:
    """A signature as the public may see it; every field the choice leaves out is empty."""

    listed: bool  # False: counted only, never named
    surname: str = ""  # the name's parts, only when she chose her full name
    given_name: str = ""
    patronymic: str = ""
    initials: str = ""  # "M. N.", only when she chose her initials
    region: str = ""  # the region's name, in the language asked for
    # Her relative's details, only when she agreed to show them (relative_public).
    relationship: str = ""
    relative_name: str = ""
    relative_location: str = ""
    children: int | None = None
    # Her answers to the questions the form marked public (not private) go beside her name;
    # the form says so under each of them.
    answers: bool = False

    @property
    def name(self) -> str:
        """Her name as a list reads it: "Madina Naloeva", "M. N.", or "" when not listed."""
        return " ".join(p for p in (self.given_name, self.surname) if p) or self.initials

    @property
    def formal_name(self) -> str:
        """Her name as a dossier's table reads it: surname first, with the patronymic."""
        full = " ".join(p for p in (self.surname, self.given_name, self.patronymic) if p)
        return full or self.initials

    @property
    def line(self) -> str:
        """The public list's line: her name, with her region when she gave one."""
        return f"{self.name}, {self.region}" if self.region and self.name else self.name


def initials(signature: Any) -> str:
    """Return what "my initials" means wherever the public sees it: "M. N." for Madina Naloeva."""
    return " ".join(f"{p[0]}." for p in (signature.given_name, signature.surname) if p)


def full_name(signature: Any) -> str:
    """Return the full name as a dossier for the authority gives it: surname first."""
    return " ".join(p for p in (signature.surname, signature.given_name, signature.patronymic) if p)


def public_view(signature: Any, language: str) -> PublicSigner:
    """Decide what the public sees of a signature (a Signature, or a row with its columns).

    Public = exactly what the words of her choice say: "My full name and region", "My initials
    and region", "Do not show me" (counted only); with "Also show publicly how I am related to
    the person concerned, their name, where they are held and the number of children with them"
    ticked, those too; beside a listed name, her answers to the questions the form said were
    public. Town, contacts, postal address, helper, signature image and private answers are
    never public.
    """
    display = signature.display
    if display is Display.hidden or display not in (Display.full, Display.initials):
        return PublicSigner(listed=False)
    region = (
        region_label(signature.region, signature.region_other, language) if signature.region else ""
    )
    if display is Display.full:
        named: dict[str, str] = {
            "surname": signature.surname,
            "given_name": signature.given_name,
            "patronymic": signature.patronymic,
        }
    else:
        named = {"initials": initials(signature)}
    relative: dict[str, Any] = {}
    if signature.relative_public:
        relative = {
            "relationship": signature.relationship_,
            "relative_name": signature.relative_name,
            "relative_location": signature.relative_location,
            "children": signature.children,
        }
    return PublicSigner(listed=True, region=region, answers=True, **named, **relative)
