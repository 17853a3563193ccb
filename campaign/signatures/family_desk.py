"""The families on the organiser's desk: listed with each signer's own answers, merged, split.

A family's relative, place and children are what most of its signers gave; a signer whose
answer differs is shown as differing, never overwritten. A merge or a split fixes the signers
it moves (and those it leaves): recomputing the families keeps the organiser's decision.
"""

import math
from collections.abc import Collection, Sequence
from dataclasses import dataclass

from sqlalchemy import ColumnElement, delete, func, select, update

from campaign.audit.operations import record_event
from campaign.database import lock_row
from campaign.extensions import db
from campaign.signatures.family_matching import (
    folded,
    most_given,
    most_given_number,
    place_key,
    places_agree,
)
from campaign.signatures.models import PersonConcerned, Signature, SignatureStatus
from campaign.signatures.names import fold_words

PAGE_SIZE = 40


class FamilyChanged(Exception):
    """A family (or who is in it) changed since the page showed it."""


class NotThisAppeals(LookupError):
    """The family belongs to another appeal (the page answers 404)."""


class SameFamily(ValueError):
    """A family cannot be merged with itself."""


class TooFewFamilies(ValueError):
    """A merge needs two families at least."""


class NobodyChosen(ValueError):
    """A split needs at least one signer to leave."""


class EveryoneChosen(ValueError):
    """A split leaves at least one signer in the family."""


@dataclass(frozen=True)
class Member:
    """A signer of a family, with her own answers, and whether they differ from its."""

    signature: Signature
    place_differs: bool
    children_differ: bool


@dataclass(frozen=True)
class FamilyView:
    """A family as the desk shows it."""

    id: int
    relative: str
    place: str
    children: int | None
    members: tuple[Member, ...]

    @property
    def differs(self) -> bool:
        """Whether a signer's answers differ from her family's."""
        return any(m.place_differs or m.children_differ for m in self.members)


@dataclass(frozen=True)
class FamilyPage:
    """One page of an appeal's families, in the order of their relatives' names."""

    families: list[FamilyView]
    total: int
    page: int
    pages: int


def _counted(appeal_id: int) -> tuple[ColumnElement[bool], ...]:
    return (
        Signature.appeal_id == appeal_id,
        Signature.status == SignatureStatus.valid,
        Signature.person_concerned_id.is_not(None),
    )


def family_page(appeal_id: int, *, query: str = "", page: int = 1) -> FamilyPage:
    """Return a page of the families that have a counted signer; `query` finds a relative's
    name in any script ("islam" finds "Ислам")."""
    conditions = list(_counted(appeal_id))
    for word in fold_words(query):
        conditions.append(Signature.relative_key.contains(word, autoescape=True))
    grouped = (
        select(
            Signature.person_concerned_id.label("family"),
            func.min(Signature.relative_key).label("key"),
        )
        .where(*conditions)
        .group_by(Signature.person_concerned_id)
        .subquery()
    )
    total = db.session.scalar(select(func.count()).select_from(grouped)) or 0
    pages = max(1, math.ceil(total / PAGE_SIZE))
    page = min(max(page, 1), pages)
    ids = db.session.scalars(
        select(grouped.c.family)
        .order_by(grouped.c.key, grouped.c.family)
        .limit(PAGE_SIZE)
        .offset((page - 1) * PAGE_SIZE)
    ).all()
    return FamilyPage(_views(appeal_id, ids), total, page, pages)


def family_view(appeal_id: int, family_id: int) -> FamilyView:
    """Return one family of the appeal; raise NotThisAppeals (another appeal's) or
    FamilyChanged (gone, or no counted signer left)."""
    _family(appeal_id, family_id)
    views = _views(appeal_id, [family_id])
    if not views:
        raise FamilyChanged
    return views[0]


def _views(appeal_id: int, ids: Sequence[int]) -> list[FamilyView]:
    members: dict[int, list[Signature]] = {family_id: [] for family_id in ids}
    signatures = db.session.scalars(
        select(Signature)
        .where(*_counted(appeal_id), Signature.person_concerned_id.in_(ids))
        .order_by(Signature.created_at, Signature.id)
    )
    for signature in signatures:
        members[signature.person_concerned_id].append(signature)  # type: ignore[index]
    return [_view(family_id, signers) for family_id, signers in members.items() if signers]


def _view(family_id: int, signers: list[Signature]) -> FamilyView:
    place = most_given([s.relative_location for s in signers], place_key)
    children = most_given_number([s.children for s in signers])
    family_place = place_key(place)
    return FamilyView(
        id=family_id,
        relative=most_given([s.relative_name for s in signers], folded),
        place=place,
        children=children,
        members=tuple(
            Member(
                signature=s,
                place_differs=not places_agree(place_key(s.relative_location), family_place),
                children_differ=s.children is not None and s.children != children,
            )
            for s in signers
        ),
    )


def _family(appeal_id: int, family_id: int) -> PersonConcerned:
    family = db.session.get(PersonConcerned, family_id)
    if family is None:
        raise FamilyChanged
    if family.appeal_id != appeal_id:
        raise NotThisAppeals
    return family


def merge_families(appeal_id: int, family_ids: Sequence[int], *, actor_id: int | None) -> int:
    """Make several families one (the oldest keeps its id); return its id.

    Every signer of them is fixed there: recomputing the families does not part them again.
    """
    if len(set(family_ids)) != len(family_ids):
        raise SameFamily
    if len(family_ids) < 2:
        raise TooFewFamilies
    families = sorted((_family(appeal_id, fid) for fid in family_ids), key=lambda f: f.id)
    for family in families:  # held in the order of their ids, as a concurrent merge holds them
        if not lock_row(family):
            raise FamilyChanged
    kept, merged = families[0].id, [family.id for family in families[1:]]
    moved = db.session.execute(
        update(Signature)
        .where(Signature.person_concerned_id.in_([kept, *merged]))
        .values(person_concerned_id=kept, person_concerned_fixed=True)
        .execution_options(synchronize_session=False)
    ).rowcount
    db.session.execute(
        delete(PersonConcerned).where(PersonConcerned.id.in_(merged)),
        execution_options={"synchronize_session": False},
    )
    record_event(
        appeal_id,
        "families.merged",
        subject=("person_concerned", kept),
        actor_id=actor_id,
        merged=merged,
        signers=moved,
    )
    db.session.flush()
    return kept


def split_family(
    appeal_id: int, family_id: int, leaving: Collection[int], *, actor_id: int | None
) -> int:
    """Move the chosen signers of a family to a family of their own; return its id.

    At least one counted signer must leave and one stay; a signer chosen who is no longer in
    the family (the page was stale) refuses it all. Both groups are fixed where they are.
    """
    family = _family(appeal_id, family_id)
    if not lock_row(family):
        raise FamilyChanged
    chosen = set(leaving)
    if not chosen:
        raise NobodyChosen
    counted = set(
        db.session.scalars(
            select(Signature.id).where(
                *_counted(appeal_id), Signature.person_concerned_id == family_id
            )
        )
    )
    if not chosen <= counted:
        raise FamilyChanged
    if chosen == counted:
        raise EveryoneChosen
    new = PersonConcerned(appeal_id=appeal_id)
    db.session.add(new)
    db.session.flush()
    db.session.execute(
        update(Signature)
        .where(Signature.person_concerned_id == family_id)
        .values(person_concerned_fixed=True)
        .execution_options(synchronize_session=False)
    )
    db.session.execute(
        update(Signature)
        .where(Signature.id.in_(sorted(chosen)))
        .values(person_concerned_id=new.id)
        .execution_options(synchronize_session=False)
    )
    record_event(
        appeal_id,
        "families.split",
        subject=("person_concerned", family_id),
        actor_id=actor_id,
        new=new.id,
        signers=len(chosen),
    )
    db.session.flush()
    return new.id
