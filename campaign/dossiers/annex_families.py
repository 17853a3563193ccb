"""The annex's families: the signatories of a dossier grouped around each person concerned."""

from collections.abc import Callable
from dataclasses import dataclass

from campaign.dossiers.aggregates import PlaceCount
from campaign.dossiers.content import DossierContent, Row
from campaign.signatures.family_matching import folded, most_given, most_given_number, place_key


@dataclass(frozen=True, slots=True)
class Family:
    """The signatories around one person concerned (the annex; signatures.families).

    What the family shows is what its signatories in this edition gave: the relative's name as
    most wrote it; every place given, the most given first; the number of children with them
    most given, then any other given (nothing anyone said is dropped).
    """

    relative: str
    location: str  # places, "; "-separated
    children: str  # "2", or "2; 3" when signatories differ
    members: tuple[tuple[int, str, str], ...]  # (number, name, relationship)
    held_children: int | None  # the number most given, for the summary


def families(content: DossierContent) -> list[Family]:
    """Group the signatories by the person concerned, in order of first signing.

    A signatory whose relative this edition leaves out (public, not shown in full) is in none.
    """
    groups: dict[int | str, list[Row]] = {}
    for row, label in zip(content.rows, content.family_labels, strict=True):
        if label is not None and row.relative:
            groups.setdefault(label, []).append(row)
    return [_family(members) for members in groups.values()]


def _family(members: list[Row]) -> Family:
    known = [m.relative_location for m in members if place_key(m.relative_location)]
    places = _distinct([most_given(known, place_key), *known], folded)
    if not places:  # only "unknown", in whatever words: say it as they did
        places = _distinct([m.relative_location for m in members], folded)[:1]
    given = [m.children for m in members]
    held_children = most_given_number(given)
    children = list(dict.fromkeys(n for n in [held_children, *given] if n is not None))
    return Family(
        relative=most_given([m.relative for m in members], folded),
        location="; ".join(places),
        children="; ".join(str(n) for n in children),
        members=tuple((m.number, m.name, m.relationship) for m in members),
        held_children=held_children,
    )


def _distinct(values: list[str], fold: Callable[[str], str]) -> list[str]:
    """The values that differ once folded, in order, as first written; empty ones left out."""
    seen: dict[str, str] = {}
    for value in values:
        key = fold(value)
        if key and key not in seen:
            seen[key] = value
    return list(seen.values())


@dataclass(frozen=True)
class FamilyCounts:
    """What the summary says of the families: a family is the signatories around one person
    concerned (relatives signing about the same person are one family); the persons concerned
    are the relative held of each family and the children with them."""

    families: int
    children: int

    @property
    def persons(self) -> int:
        """The persons concerned: one relative held per family, and the children with them."""
        return self.families + self.children


def family_counts(groups: list[Family]) -> FamilyCounts:
    """Count the families and the children held with their relatives."""
    return FamilyCounts(len(groups), sum(family.held_children or 0 for family in groups))


def family_counts_by_place(places: list[PlaceCount]) -> FamilyCounts:
    """Count the families and the children held with their relatives, from the place counts."""
    return FamilyCounts(sum(p.families for p in places), sum(p.children for p in places))
