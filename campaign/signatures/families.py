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

The matching itself, in memory, is in family_matching; this module reads and stores families.
"""

from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

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
from campaign.signatures.family_matching import (
    Placement,
    Signer,
    folded,
    place_key,
    place_signers,
    region_key,
)
from campaign.signatures.models import PersonConcerned, Signature, SignatureStatus
from campaign.signatures.names import fold_name

# The statuses that belong to a family: all but withdrawn (whose details are erased).
_PLACED = (
    SignatureStatus.pending,
    SignatureStatus.valid,
    SignatureStatus.flagged,
    SignatureStatus.rejected,
)


def _signer(row: Row[Any], *, refold: bool = False) -> Signer:
    # refold: the key from the name as the code folds it now, not as it was stored.
    key = folded(row.relative_name) if refold or not row.relative_key else row.relative_key
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
    placement = Placement()
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
