"""What the public may know of the families: how many, and how many persons concerned, per
place where held, counted over every signer, naming no one.

A count of one is no aggregate: "1 family held in Erbil" beside a short list of names can point
at one signer. The public edition names a place only when it holds at least
PUBLIC_PLACE_FEWEST families and counts the others together, unnamed.
"""

from collections.abc import Sequence
from dataclasses import dataclass

from campaign.signatures.family_matching import most_given, most_given_number, place_key

PUBLIC_PLACE_FEWEST = 3


@dataclass(frozen=True)
class PlaceCount:
    """The families whose relative is held in one place, and the persons concerned there (the
    relative held of each family and the children with them)."""

    place: str  # as most of its signers wrote it; "" when none said where (or `grouped`)
    families: int
    children: int
    grouped: int = 0  # when > 0: this many places, each with too few families to be named

    @property
    def persons(self) -> int:
        """The persons concerned: one relative held per family, and the children with them."""
        return self.families + self.children


def families_by_place(
    labels: Sequence[int | str | None],
    held: Sequence[tuple[str, int | None]],
    fewest: int = 1,
) -> list[PlaceCount]:
    """Count the families (signers with one label) per place where held, most families first.

    A family's place and children are what most of its signers gave, as in the annex; places
    that fold alike are one place. Places with fewer than `fewest` families are counted as one
    unnamed group, after the named places and before the place not given.
    """
    members: dict[int | str, list[tuple[str, int | None]]] = {}
    for label, given in zip(labels, held, strict=True):
        if label is not None:
            members.setdefault(label, []).append(given)
    counts: dict[str, list[int]] = {}  # place key -> [families, children]
    written: dict[str, list[str]] = {}  # place key -> each family's spelling
    for family in members.values():
        place = most_given([location for location, _children in family], place_key)
        key = place_key(place)
        counted = counts.setdefault(key, [0, 0])
        counted[0] += 1
        counted[1] += most_given_number([children for _location, children in family]) or 0
        written.setdefault(key, []).append(place if key else "")
    places = [
        PlaceCount(most_given(written[key], place_key) if key else "", families, children)
        for key, (families, children) in counts.items()
    ]
    few = [p for p in places if p.place and p.families < fewest]
    places = [p for p in places if p not in few]
    # The most families first, then by name; the unnamed group, then the place not given, last.
    places.sort(key=lambda p: (not p.place, -p.families, p.place.casefold()))
    if few:
        group = PlaceCount("", sum(p.families for p in few), sum(p.children for p in few), len(few))
        places.insert(len([p for p in places if p.place]), group)
    return places
