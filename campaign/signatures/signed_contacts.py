"""Whether her contact, with her name, has signed an appeal already (online or on paper).

The contact hashes come from signatures.contacts; signing (signatures.operations) and entering
a paper signature (signatures.paper) ask here before storing one.
"""

from typing import Any

from sqlalchemy import delete, or_, select

from campaign.clock import utcnow
from campaign.extensions import db
from campaign.signatures.models import Signature, SignatureStatus


def signed_before(appeal_id: int, email_hash: str | None, phone_hash: str | None) -> bool:
    """Whether a signature with her contact is stored, after deleting her own whose confirmation
    expired unused (it must not count as her signing twice).

    Others' expired ones wait for `flask signatures purge-pending`: a purge of the whole appeal
    here took SQLite's write lock first thing in every signing, and signers queued behind each
    other. One read; only an expired one of hers writes.
    """
    contact = _contact_condition(email_hash, phone_hash)
    if contact is None:
        return False
    rows = db.session.execute(
        select(Signature.id, Signature.status, Signature.confirm_expires_at).where(
            Signature.appeal_id == appeal_id, contact
        )
    ).all()
    now = utcnow()
    expired = [
        row.id
        for row in rows
        if row.status is SignatureStatus.pending
        and row.confirm_expires_at is not None
        and row.confirm_expires_at < now
    ]
    if expired:
        db.session.execute(
            delete(Signature).where(Signature.id.in_(expired)),
            execution_options={"synchronize_session": False},
        )
    return len(rows) > len(expired)


def _contact_condition(email_hash: str | None, phone_hash: str | None) -> Any:
    conditions = [
        column == value
        for column, value in (
            (Signature.email_hash, email_hash),
            (Signature.phone_hash, phone_hash),
        )
        if value
    ]
    return or_(*conditions) if conditions else None


def contact_has_signed(appeal_id: int, email_hash: str | None, phone_hash: str | None) -> bool:
    """Whether a signature with her contact is stored, in any state (nothing is deleted)."""
    contact = _contact_condition(email_hash, phone_hash)
    if contact is None:
        return False
    query = select(Signature.id).where(Signature.appeal_id == appeal_id, contact)
    return db.session.scalar(query.limit(1)) is not None
