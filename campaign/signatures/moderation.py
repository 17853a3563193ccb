"""Organisers set signatures aside: flag for review, reject with a reason, restore."""

from sqlalchemy import select, update

from campaign.appeals.operations import count_signature
from campaign.audit.operations import record_event
from campaign.clock import utcnow
from campaign.extensions import db
from campaign.signatures.models import Signature, SignatureStatus


class SignatureChanged(Exception):
    """Someone changed the signature (or its signer withdrew it) after the page showed it."""


class NotModeratable(Exception):
    """The signature cannot take this step from where it stands (`status`)."""

    def __init__(self, status: SignatureStatus) -> None:
        super().__init__(status.value)
        self.status = status


class ReasonRequired(ValueError):
    """A rejection needs a reason."""


# Where each step may start from. Pending signatures wait for their signer's confirmation and
# withdrawn ones are erased: neither is the organisers' to move.
_FROM = {
    "flag": {SignatureStatus.valid, SignatureStatus.rejected},
    "reject": {SignatureStatus.valid, SignatureStatus.flagged},
    "restore": {SignatureStatus.flagged, SignatureStatus.rejected},
}
_TO = {
    "flag": SignatureStatus.flagged,
    "reject": SignatureStatus.rejected,
    "restore": SignatureStatus.valid,
}
_ACTIONS = {
    "flag": "signature.flagged",
    "reject": "signature.rejected",
    "restore": "signature.restored",
}


def flag_signature(
    signature: Signature, *, seen_revision: int, actor_id: int | None, reason: str = ""
) -> None:
    """Set a signature aside for review: it stops counting until it is restored."""
    _move(signature, "flag", seen_revision=seen_revision, actor_id=actor_id, reason=reason)


def reject_signature(
    signature: Signature,
    *,
    seen_revision: int,
    actor_id: int | None,
    reason: str,
    duplicate_of: Signature | None = None,
) -> None:
    """Refuse a signature, saying why (a duplicate names the one kept); it stops counting."""
    if not reason.strip():
        raise ReasonRequired
    if duplicate_of is not None and (
        duplicate_of.appeal_id != signature.appeal_id or duplicate_of.id == signature.id
    ):
        raise ValueError("A duplicate is of another signature of the same appeal.")
    _move(
        signature,
        "reject",
        seen_revision=seen_revision,
        actor_id=actor_id,
        reason=reason,
        duplicate_of=duplicate_of,
    )


def restore_signature(signature: Signature, *, seen_revision: int, actor_id: int | None) -> None:
    """Count a flagged or rejected signature again."""
    _move(signature, "restore", seen_revision=seen_revision, actor_id=actor_id, reason="")


def _move(
    signature: Signature,
    step: str,
    *,
    seen_revision: int,
    actor_id: int | None,
    reason: str,
    duplicate_of: Signature | None = None,
) -> None:
    # One conditional UPDATE holds the row: of two organisers acting at once, the second
    # waits, then finds the revision moved and is told, instead of undoing the first unseen.
    held = db.session.execute(
        update(Signature)
        .where(Signature.id == signature.id, Signature.revision == seen_revision)
        .values(revision=Signature.revision + 1)
        .execution_options(synchronize_session=False)
    )
    if held.rowcount != 1:
        raise SignatureChanged
    db.session.refresh(signature)
    if signature.status not in _FROM[step]:
        raise NotModeratable(signature.status)
    was_counted = signature.status is SignatureStatus.valid
    signature.status = _TO[step]
    signature.moderation_reason = reason.strip()
    signature.moderated_at = utcnow()
    signature.moderated_by_id = actor_id
    signature.duplicate_of_id = duplicate_of.id if duplicate_of is not None else None
    counted = signature.status is SignatureStatus.valid
    if was_counted != counted:
        count_signature(signature.appeal_id, signature.region or "", +1 if counted else -1)
    details = {"duplicate_of": duplicate_of.id} if duplicate_of is not None else {}
    record_event(
        signature.appeal_id,
        _ACTIONS[step],
        subject=("signature", signature.id),
        actor_id=actor_id,
        **details,
    )
    db.session.flush()


class BulkRefused(Exception):
    """Some of the signatures cannot take the step (`unable`, by status) or changed since the
    page showed them (`changed`): none is moved."""

    def __init__(self, unable: list[int], changed: list[int]) -> None:
        super().__init__(f"unable={unable} changed={changed}")
        self.unable, self.changed = unable, changed


STEPS = tuple(_FROM)


def can_take(signature: Signature, step: str) -> bool:
    """Whether the signature may take the step (flag, reject, restore) where it stands."""
    return signature.status in _FROM[step]


def moderate_signatures(
    appeal_id: int, seen: dict[int, int], step: str, *, actor_id: int | None, reason: str = ""
) -> list[Signature]:
    """Take one step (flag, reject, restore) for each signature, seen at its revision: all of
    them or none.

    An id that is not the appeal's raises LookupError; one that cannot take the step, or moved
    since it was shown, raises BulkRefused before anything changes. Each change is audited.
    """
    if step not in _FROM:
        raise ValueError(step)
    if step == "reject" and not reason.strip():
        raise ReasonRequired
    signatures = list(
        db.session.scalars(
            select(Signature)
            .where(Signature.id.in_(sorted(seen)), Signature.appeal_id == appeal_id)
            .order_by(Signature.id)
        )
    )
    if len(signatures) != len(seen):
        raise LookupError("not the appeal's signatures")
    unable = [s.id for s in signatures if not can_take(s, step)]
    changed = [s.id for s in signatures if s.revision != seen[s.id] and s.id not in unable]
    if unable or changed:
        raise BulkRefused(unable, changed)
    for signature in signatures:
        # A change between the check and here (another editor) raises SignatureChanged.
        _move(signature, step, seen_revision=seen[signature.id], actor_id=actor_id, reason=reason)
    return signatures
