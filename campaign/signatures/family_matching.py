"""Matching signers to families, in memory: how a relative's name, a region and where he is
held are folded for comparing, when a signer's answers fit a family, and the placement of
signers, in signing order, in the families that fit them or in new ones; and the answer most
signers of a family gave. Nothing here reads or writes the database (families, which stores
families, does).
"""

from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from typing import NamedTuple

from rapidfuzz import fuzz

from campaign.signatures.names import fold_name

# Where held: "Багдад" and "Багдад, тюрьма Русафа" agree (one holds the other's words), as do
# spellings of one place; "Эрбиль" and "Багдад" do not. rapidfuzz's token_set_ratio, 0-100.
PLACE_AGREEMENT = 75
# Answers that say nothing about the place: as if none was given.
UNKNOWN_PLACES = frozenset(
    fold_name(place)
    for place in ("Неизвестно", "Не известно", "Не знаю", "Нет данных", "Unknown", "Not known")
)


@lru_cache(maxsize=65_536)
def folded(text: str) -> str:
    """Fold a relative's name or a place (names.fold_name), each spelling once: they repeat
    across signers (a fifth of the time of an annex at 100,000 signatures, folded each time)."""
    return fold_name(text)


_fold = folded


def place_key(location: str) -> str:
    """Fold where a relative is held for comparing; "" when it says nothing."""
    key = _fold(location)
    return "" if key in UNKNOWN_PLACES else key


def region_key(region: str, region_other: str) -> str:
    """Return the region a signer gave, for comparing ("other" with its text folded)."""
    if region == "other":
        return f"other:{_fold(region_other)}"
    return region


@lru_cache(maxsize=65_536)
def places_agree(a: str, b: str) -> bool:
    """Whether two folded places can be one place (either unknown, or alike)."""
    return not a or not b or fuzz.token_set_ratio(a, b) >= PLACE_AGREEMENT


class Signer(NamedTuple):
    """What placing a signature in a family reads of it."""

    id: int
    key: str  # her relative's name, folded
    region: str
    place: str
    family_id: int | None
    fixed: bool


@dataclass
class _Family:
    id: int | None
    keys: set[str] = field(default_factory=set)
    regions: set[str] = field(default_factory=set)
    places: set[str] = field(default_factory=set)
    members: list[int] = field(default_factory=list)

    def add(self, signer: Signer) -> bool:
        """Take her in; return whether she brought the family a region it did not have."""
        self.keys.add(signer.key)
        self.members.append(signer.id)
        if signer.place:
            self.places.add(signer.place)
        if signer.region and signer.region not in self.regions:
            self.regions.add(signer.region)
            return True
        return False

    def fit(self, signer: Signer) -> int | None:
        """How many of her answers agree with the family's; None if one disagrees."""
        if signer.key not in self.keys:
            return None
        agreeing = 0
        if signer.region and self.regions:
            if signer.region not in self.regions:
                return None
            agreeing += 1
        if signer.place and self.places:
            if not any(places_agree(signer.place, place) for place in self.places):
                return None
            agreeing += 1
        return agreeing


class Placement:
    """Families being built: signers join the one family that fits them best, or start one."""

    def __init__(self) -> None:
        self.families: list[_Family] = []
        # Where to look for a signer's family: by her relative's key and region, and among
        # the families of that key that no region places yet.
        self._by_key: dict[str, list[_Family]] = {}
        self._by_region: dict[tuple[str, str], list[_Family]] = {}
        self._unplaced: dict[str, list[_Family]] = {}

    def seed(self, family_id: int | None, members: Iterable[Signer]) -> _Family:
        """Start a family (stored: its id; new: None) with these members."""
        family = _Family(family_id)
        for signer in members:
            family.add(signer)
        self.families.append(family)
        for key in family.keys:
            self._by_key.setdefault(key, []).append(family)
            if not family.regions:
                self._unplaced.setdefault(key, []).append(family)
            for region in family.regions:
                self._by_region.setdefault((key, region), []).append(family)
        return family

    def place(self, signer: Signer) -> _Family:
        """Put her in the one family that fits her best, or in one of her own; return it."""
        if signer.region:
            near = self._by_region.get((signer.key, signer.region), [])
            near = near + self._unplaced.get(signer.key, [])
        else:
            near = self._by_key.get(signer.key, [])
        fits = [
            (agreeing, family) for family in near if (agreeing := family.fit(signer)) is not None
        ]
        best = max((agreeing for agreeing, _family in fits), default=0)
        chosen = [family for agreeing, family in fits if agreeing == best]
        # The name and at least one more answer, and one family only: else a family of her own.
        if best > 0 and len(chosen) == 1:
            family = chosen[0]
            if family.add(signer):
                for key in family.keys:
                    self._by_region.setdefault((key, signer.region), []).append(family)
            return family
        return self.seed(None, [signer])


def place_signers(signers: Sequence[Signer]) -> dict[int, int | str]:
    """Place signers, in signing order, among the families some of them are in, or in new ones.

    Return each unplaced signer's family: a stored family's id, or a label ("new-1"...) for a
    family to store. Nothing is read or written: a bulk load stores the result with its rows.
    """
    placement = Placement()
    members: dict[int, list[Signer]] = {}
    for signer in signers:
        if signer.family_id is not None:
            members.setdefault(signer.family_id, []).append(signer)
    for family_id, family_members in members.items():
        placement.seed(family_id, family_members)
    groups: dict[int, int | str] = {}
    new = 0
    for signer in signers:
        if signer.family_id is None and signer.key:
            family = placement.place(signer)
            if family.id is None:
                new += 1
                family.id = -new  # for now: stored families have positive ids
            groups[signer.id] = family.id if family.id > 0 else f"new-{-family.id}"
    return groups


def most_given(values: Sequence[str], fold: Callable[[str], str]) -> str:
    """Return the answer most signers gave (compared folded; ties: the one given first), as
    the first of them wrote it; "" when none gave one."""
    if len(values) == 1:  # one signer: nothing to count (a family of one, often)
        return values[0] if fold(values[0]) else ""
    folded = [fold(value) for value in values]
    counts = Counter(key for key in folded if key)
    if not counts:
        return ""
    best = max(counts.values())
    return next(v for v, key in zip(values, folded, strict=True) if key and counts[key] == best)


def most_given_number(values: Sequence[int | None]) -> int | None:
    """Return the number most signers gave (ties: the one given first); None when none did."""
    if len(values) == 1:
        return values[0]
    counts = Counter(value for value in values if value is not None)
    if not counts:
        return None
    best = max(counts.values())
    return next(value for value in values if value is not None and counts[value] == best)
