"""Families: the signers around one person concerned (a relative held), across spellings.

A family is a person concerned, not a string. Signers name their relative as they write it
("Ислам Налоев", "Islam Naloyev"); the name is folded to one key (names.fold_name), and a
signer joins a family only when her relative's key is the family's and something else agrees:
her region is one of its signers' regions, or where he is held matches where they say he is.
A given name alone never groups: five mothers from five regions whose sons are all "Султан",
held in five places, are five families. When her answers fit several families equally, or none,
she starts a family of her own, for an organiser to merge if they are one.

Families are stored (PersonConcerned, and each signature's person_concerned_id), placed when a
signature comes in and recomputed on demand. An organiser's merge or split fixes the signers
it moves (person_concerned_fixed): a recompute places everyone else again around them. Two
signers of one relative signing at the very same moment may each start a family (neither sees
the other's yet); a recompute makes them one.
"""

from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any, NamedTuple

from rapidfuzz import fuzz
from sqlalchemy import (
    ColumnElement,
    Row,
    bindparam,
    delete,
    exists,
    func,
    insert,
    select,
    update,
)
from sqlalchemy.orm.attributes import set_committed_value

from campaign.clock import utcnow
from campaign.extensions import db
from campaign.signatures.models import PersonConcerned, Signature, SignatureStatus
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
# The statuses that belong to a family: all but withdrawn (whose details are erased).
_PLACED = (
    SignatureStatus.pending,
    SignatureStatus.valid,
    SignatureStatus.flagged,
    SignatureStatus.rejected,
)


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


class _Placement:
    """Families being built: signers join the one family that fits them best, or start one."""

    def __init__(self) -> None:
        self.families: list[_Family] = []
        # Where to look for a signer's family: by her relative's key and region, and among
        # the families of that key that no region places yet.
        self._by_key: dict[str, list[_Family]] = {}
        self._by_region: dict[tuple[str, str], list[_Family]] = {}
        self._unplaced: dict[str, list[_Family]] = {}

    def seed(self, family_id: int | None, members: Iterable[Signer]) -> _Family:
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


def _signer(row: Row[Any], *, refold: bool = False) -> Signer:
    # refold: the key from the name as the code folds it now, not as it was stored.
    key = _fold(row.relative_name) if refold or not row.relative_key else row.relative_key
    return Signer(
        id=row.id,
        key=key,
        region=region_key(row.region, row.region_other),
        place=place_key(row.relative_location),
        family_id=row.person_concerned_id,
        fixed=row.person_concerned_fixed,
    )


_COLUMNS = (
    Signature.id,
    Signature.relative_key,
    Signature.relative_name,
    Signature.region,
    Signature.region_other,
    Signature.relative_location,
    Signature.person_concerned_id,
    Signature.person_concerned_fixed,
)
_ORDER = (Signature.created_at, Signature.id)


def _placed(appeal_id: int) -> tuple[ColumnElement[bool], ...]:
    return (
        Signature.appeal_id == appeal_id,
        Signature.status.in_(_PLACED),
        Signature.relative_name != "",
    )


def _new_families(appeal_id: int, count: int) -> list[int]:
    """Store `count` new families at once; return their ids."""
    if not count:
        return []
    now = utcnow()
    # The rows are alike, so their ids may come back in any order: batched, not one by one.
    return list(
        db.session.scalars(
            insert(PersonConcerned).returning(PersonConcerned.id),
            [{"appeal_id": appeal_id, "created_at": now}] * count,
        )
    )


def place_in_family(signature: Signature) -> None:
    """Put a new signature in her relative's family, or start one (at signing; flushed).

    Signatures of the same relative not yet in a family (made before families were kept) are
    placed first, in signing order, as a recompute would place them.
    """
    signature.relative_key = fold_name(signature.relative_name)
    if not signature.relative_key:
        return
    db.session.flush()
    placed = place_unlinked(signature.appeal_id, {signature.relative_key})
    if signature.id in placed:
        # What the UPDATE wrote, without reading her row back.
        set_committed_value(signature, "person_concerned_id", placed[signature.id])


def place_unlinked(appeal_id: int, keys: set[str]) -> dict[int, int]:
    """Put the appeal's signatures of these relatives' keys that have no family yet (just
    stored, or imported: signatures.importing) in their families, or start them; flushed.

    Return the family each signature placed is now in, by signature id.
    """
    if not keys:
        return {}
    groups = _place_unlinked(appeal_id, keys)
    labels = sorted({label for label in groups.values() if isinstance(label, str)})
    new_ids = dict(zip(labels, _new_families(appeal_id, len(labels)), strict=True))
    families: dict[int, int] = {
        signature_id: new_ids[label] if isinstance(label, str) else label
        for signature_id, label in groups.items()
    }
    _link([{"row_id": row_id, "family": family} for row_id, family in families.items()])
    return families


def _place_unlinked(appeal_id: int, keys: set[str]) -> dict[int, int | str]:
    """Place the appeal's unlinked signers of these relatives among the stored families.

    Return each one's family: a stored family's id, or a label ("new-1"...) for a family that
    does not exist yet. Nothing is written.
    """
    rows = db.session.execute(
        select(*_COLUMNS, Signature.created_at)
        .where(*_placed(appeal_id), Signature.relative_key.in_(sorted(keys)))
        .order_by(*_ORDER)
    ).all()
    signers = [_signer(row) for row in rows]
    # A family of one of these relatives may hold signers of other names (merged): all of it.
    linked_ids = {s.family_id for s in signers if s.family_id is not None}
    if not linked_ids:
        return place_signers(signers)
    others = db.session.execute(
        select(*_COLUMNS)
        .where(
            Signature.person_concerned_id.in_(sorted(linked_ids)),
            Signature.status.in_(_PLACED),
            Signature.relative_key.not_in(sorted(keys)),
        )
        .order_by(*_ORDER)
    ).all()
    return place_signers(signers + [_signer(row) for row in others])


def place_signers(signers: Sequence[Signer]) -> dict[int, int | str]:
    """Place signers, in signing order, among the families some of them are in, or in new ones.

    Return each unplaced signer's family: a stored family's id, or a label ("new-1"...) for a
    family to store. Nothing is read or written: a bulk load stores the result with its rows.
    """
    placement = _Placement()
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


def _link(changes: list[dict[str, object]]) -> None:
    if changes:
        db.session.execute(
            update(Signature.__table__)
            .where(Signature.__table__.c.id == bindparam("row_id"))
            .values(person_concerned_id=bindparam("family")),
            changes,
        )


def leave_family(signature: Signature) -> None:
    """Take a withdrawn signature out of her family (her relative's name is erased with her)."""
    signature.person_concerned_id = None
    signature.person_concerned_fixed = False
    signature.relative_key = ""


@dataclass(frozen=True)
class Recomputed:
    """What recomputing an appeal's families did."""

    families: int  # families with a signer, after
    moved: int  # signatures whose family changed


def recompute_families(appeal_id: int) -> Recomputed:
    """Place every signature again, except those an organiser placed; flush, never commit.

    Families keep their ids where most of their signers stay; families left without a signer
    are deleted. The caller audits.
    """
    rows = db.session.execute(select(*_COLUMNS).where(*_placed(appeal_id)).order_by(*_ORDER)).all()
    signers = [_signer(row, refold=True) for row in rows]
    stored_keys = {row.id: row.relative_key for row in rows}
    placement = _Placement()
    fixed: dict[int, list[Signer]] = {}
    for signer in signers:
        if signer.fixed and signer.family_id is not None:
            fixed.setdefault(signer.family_id, []).append(signer)
    for family_id, members in fixed.items():
        placement.seed(family_id, members)
    before = {signer.id: signer.family_id for signer in signers}
    for signer in signers:
        if not (signer.fixed and signer.family_id is not None) and signer.key:
            placement.place(signer)
    # A new family takes the id most of its signers had, if no other family kept it.
    taken = set(fixed)
    unstored = []
    for family in placement.families:
        if family.id is None:
            votes = Counter(before[m] for m in family.members if before[m] is not None)
            family.id = next((fid for fid, _n in votes.most_common() if fid not in taken), None)
            if family.id is None:
                unstored.append(family)
            else:
                taken.add(family.id)
    for family, new_id in zip(unstored, _new_families(appeal_id, len(unstored)), strict=True):
        family.id = new_id
    after = {m: family.id for family in placement.families for m in family.members}
    changes = [
        {"row_id": signer.id, "family": after.get(signer.id), "key": signer.key}
        for signer in signers
        if before[signer.id] != after.get(signer.id) or stored_keys[signer.id] != signer.key
    ]
    moved = sum(1 for signer in signers if before[signer.id] != after.get(signer.id))
    if changes:
        db.session.execute(
            update(Signature.__table__)
            .where(Signature.__table__.c.id == bindparam("row_id"))
            .values(person_concerned_id=bindparam("family"), relative_key=bindparam("key")),
            changes,
        )
    _delete_empty_families(appeal_id)
    db.session.flush()
    return Recomputed(families=len(placement.families), moved=moved)


def _delete_empty_families(appeal_id: int) -> None:
    has_signer = exists().where(Signature.person_concerned_id == PersonConcerned.id)
    db.session.execute(
        delete(PersonConcerned).where(PersonConcerned.appeal_id == appeal_id, ~has_signer),
        execution_options={"synchronize_session": False},
    )


def unplaced_count(appeal_id: int) -> int:
    """Count the signatures that name a relative but are in no family yet (made before
    families were kept, until their relative's next signer or a recompute places them)."""
    query = select(func.count(Signature.id)).where(
        *_placed(appeal_id),
        Signature.status == SignatureStatus.valid,
        Signature.person_concerned_id.is_(None),
    )
    return db.session.scalar(query) or 0


def family_labels(
    appeal_id: int, signature_ids: Sequence[int], stored: Sequence[int | None]
) -> list[int | str | None]:
    """Return the family of each signature (its stored family; for one not yet placed, the one
    a recompute would give it, without storing it); None for those naming no relative."""
    unlinked = [sid for sid, family in zip(signature_ids, stored, strict=True) if family is None]
    labels: dict[int, int | str] = {}
    if unlinked:
        keys: set[str] = set()
        for chunk in _chunks(unlinked, 500):
            rows = db.session.execute(
                select(Signature.relative_key, Signature.relative_name).where(
                    Signature.id.in_(chunk), Signature.relative_name != ""
                )
            ).all()
            keys.update(row.relative_key or fold_name(row.relative_name) for row in rows)
        keys.discard("")
        if keys:
            labels = _place_unlinked(appeal_id, keys)
    return [
        family if family is not None else labels.get(sid)
        for sid, family in zip(signature_ids, stored, strict=True)
    ]


def _chunks(items: Sequence[int], size: int) -> Iterable[Sequence[int]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


def most_given(values: Sequence[str], fold: Callable[[str], str]) -> str:
    """Return the answer most signers gave (compared folded; ties: the one given first), as
    the first of them wrote it; "" when none gave one."""
    folded = [fold(value) for value in values]
    counts = Counter(key for key in folded if key)
    if not counts:
        return ""
    best = max(counts.values())
    return next(v for v, key in zip(values, folded, strict=True) if key and counts[key] == best)


def most_given_number(values: Sequence[int | None]) -> int | None:
    """Return the number most signers gave (ties: the one given first); None when none did."""
    counts = Counter(value for value in values if value is not None)
    if not counts:
        return None
    best = max(counts.values())
    return next(value for value in values if value is not None and counts[value] == best)
