"""What organisers decide about a candidate pair: keep one and reject the other as its
duplicate, or mark the two distinct people (never shown again). Audited, never committed here.

Each decision is taken over the revisions of both signatures that the page showed: a change
made to either meanwhile (a moderation, a withdrawal, the other decision on the same pair in
another tab) refuses it, and nothing is stored.
"""

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError

from campaign.audit.operations import record_event
from campaign.database import savepoint
from campaign.extensions import db
from campaign.signatures.duplicates import CANDIDATES
from campaign.signatures.models import DistinctPair, Signature
from campaign.signatures.moderation import NotModeratable, SignatureChanged, reject_signature


class AlreadyDistinct(Exception):
    """The pair was marked distinct before."""


class NotAPair(ValueError):
    """Two different signatures of one appeal are needed."""


def keep_one(
    kept: Signature,
    duplicate: Signature,
    *,
    seen_kept: int,
    seen_duplicate: int,
    actor_id: int | None,
    reason: str,
) -> None:
    """Keep one signature of a pair and reject the other as its duplicate (the reason names
    the one kept); over both revisions the page showed."""
    _check_pair(kept, duplicate)
    # Rows are held in the order of their ids, whatever the decision: two organisers deciding
    # the opposite at once then wait for each other instead of deadlocking.
    steps = [
        (kept.id, lambda: _hold(kept, seen_kept)),
        (
            duplicate.id,
            lambda: reject_signature(
                duplicate,
                seen_revision=seen_duplicate,
                actor_id=actor_id,
                reason=reason,
                duplicate_of=kept,
            ),
        ),
    ]
    for _id, step in sorted(steps, key=lambda item: item[0]):
        step()


def mark_distinct(
    one: Signature,
    other: Signature,
    *,
    seen_one: int,
    seen_other: int,
    actor_id: int | None,
) -> DistinctPair:
    """Record that two signatures are different people: the pair is never offered again.

    Raise AlreadyDistinct if it was marked before (a second tab, a second organiser).
    """
    _check_pair(one, other)
    (first, seen_first), (second, seen_second) = sorted(
        [(one, seen_one), (other, seen_other)], key=lambda item: item[0].id
    )
    _hold(first, seen_first)
    _hold(second, seen_second)
    marked = db.session.scalar(
        select(DistinctPair.id).where(
            DistinctPair.first_id == first.id, DistinctPair.second_id == second.id
        )
    )
    if marked is not None:
        raise AlreadyDistinct
    pair = DistinctPair(
        appeal_id=first.appeal_id, first_id=first.id, second_id=second.id, marked_by_id=actor_id
    )
    try:
        with savepoint():
            db.session.add(pair)
            db.session.flush()
    except IntegrityError:
        raise AlreadyDistinct from None
    record_event(
        first.appeal_id,
        "duplicates.marked_distinct",
        subject=("signature", first.id),
        actor_id=actor_id,
        other=second.id,
    )
    db.session.flush()
    return pair


def _check_pair(one: Signature, other: Signature) -> None:
    if one.id == other.id or one.appeal_id != other.appeal_id:
        raise NotAPair


def _hold(signature: Signature, seen_revision: int) -> None:
    """Hold a signature's row as the page showed it (its revision), unchanged; it must still
    be a candidate (counted or flagged)."""
    held = db.session.execute(
        update(Signature)
        .where(Signature.id == signature.id, Signature.revision == seen_revision)
        .values(revision=Signature.revision)
        .execution_options(synchronize_session=False)
    )
    if held.rowcount != 1:
        raise SignatureChanged
    db.session.refresh(signature)
    if signature.status not in CANDIDATES:
        raise NotModeratable(signature.status)
