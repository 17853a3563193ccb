"""What a signer's own links do: confirm her signature, or withdraw it and erase her data; and
the purge of signatures whose confirmation link expired unused.

Only hashes of the links' tokens are stored: a stolen database confirms or withdraws nothing.
"""

from datetime import datetime
from functools import partial

from blinker import Namespace
from sqlalchemy import delete, func, select

from campaign.appeals.operations import count_signature
from campaign.clock import utcnow
from campaign.database import after_commit, lock_row
from campaign.extensions import db
from campaign.link_tokens import new_token, token_hash
from campaign.signatures.families import leave_family
from campaign.signatures.models import Display, Signature, SignatureStatus

_signals = Namespace()
# Sent with appeal_id= once the erasure of a signer's data is committed, for whatever else keeps
# copies of it (sent earlier, a render reading the rows meanwhile would copy her data again).
signature_withdrawn = _signals.signal("signature-withdrawn")
# Sent inside the withdrawal's transaction with appeal_id= and signed_at= (when she was
# counted: confirmed, or signed), for the parts built on signatures that keep files with her
# details (the dossiers made since): each changes its rows here, its files once committed.
signature_withdrawing = _signals.signal("signature-withdrawing")


class TokenInvalid(Exception):
    """The confirmation or withdrawal link is unknown, used or expired."""


def tally_region(signature: Signature) -> str:
    """Return the region under which the signature is counted ("" for none)."""
    return signature.region or ""


def find_by_confirm_token(token: str) -> Signature:
    """Return the pending signature this emailed link confirms, or raise TokenInvalid."""
    signature = db.session.scalar(
        select(Signature).where(Signature.confirm_token_hash == token_hash(token))
    )
    if (
        signature is None
        or signature.status is not SignatureStatus.pending
        or signature.confirm_expires_at is None
        or signature.confirm_expires_at < utcnow()
    ):
        raise TokenInvalid
    return signature


def confirm_signature(token: str) -> Signature:
    """Follow the emailed link once: the pending signature becomes valid and is counted.

    The row is held first: of two clicks at once (or a click and a withdrawal), the second
    sees what the first did, and the count moves once.
    """
    signature = find_by_confirm_token(token)
    if not lock_row(signature) or signature.status is not SignatureStatus.pending:
        raise TokenInvalid
    signature.status = SignatureStatus.valid
    signature.confirmed_at = utcnow()
    signature.confirm_token_hash = None
    signature.confirm_expires_at = None
    count_signature(signature.appeal_id, tally_region(signature), +1)
    db.session.flush()
    return signature


def find_by_withdraw_token(token: str) -> Signature:
    """Return the signature this private link can withdraw, or raise TokenInvalid."""
    signature = db.session.scalar(
        select(Signature).where(Signature.withdraw_token_hash == token_hash(token))
    )
    if signature is None or signature.status is SignatureStatus.withdrawn:
        raise TokenInvalid
    return signature


def renew_withdraw_token(signature: Signature) -> str:
    """Give a signature a new withdrawal link to mail her (the earlier link stops working);
    return its token."""
    token, token_hash = new_token()
    signature.withdraw_token_hash = token_hash
    return token


def withdraw_signature(token: str) -> None:
    """Remove a signature from every count and erase the signer's personal data.

    The row stays, emptied, as the record that a signature was withdrawn. It is held first:
    of two withdrawals at once (a double tap), the second finds it withdrawn, and the count
    moves once.
    """
    signature = find_by_withdraw_token(token)
    if not lock_row(signature) or signature.status is SignatureStatus.withdrawn:
        raise TokenInvalid
    if signature.status is SignatureStatus.valid:
        count_signature(signature.appeal_id, tally_region(signature), -1)
    # A signer still unconfirmed was in no dossier; one counted since then may be in any.
    counted = signature.status is not SignatureStatus.pending
    signed_at = signature.confirmed_at or signature.created_at
    for name in ("surname", "given_name", "patronymic", "region", "region_other", "town",
                 "relationship_", "relative_name", "relative_location",
                 "typed_signature", "consent_text", "moderation_reason"):  # fmt: skip
        setattr(signature, name, "")
    for name in ("children", "email", "phone", "postal_address", "helper_name", "email_hash",
                 "phone_hash", "withdraw_token_hash", "confirm_token_hash", "confirm_expires_at",
                 "submission_hash"):  # fmt: skip
        setattr(signature, name, None)
    leave_family(signature)
    signature.image = None
    signature.answers = []
    signature.display = Display.hidden
    signature.relative_public = False
    signature.status = SignatureStatus.withdrawn
    signature.withdrawn_at = utcnow()
    db.session.flush()
    if counted:
        signature_withdrawing.send(
            withdraw_signature, appeal_id=signature.appeal_id, signed_at=signed_at
        )
    after_commit(
        partial(signature_withdrawn.send, withdraw_signature, appeal_id=signature.appeal_id)
    )


def withdrawal_count(appeal_id: int) -> int:
    """Count the withdrawn signatures of an appeal, as committed now.

    Read on a connection of its own, outside the session's transaction and whatever it has
    already read: a change means someone withdrew since the last count.
    """
    query = select(func.count(Signature.id)).where(
        Signature.appeal_id == appeal_id, Signature.status == SignatureStatus.withdrawn
    )
    with db.engine.connect() as connection:
        return connection.scalar(query) or 0


def withdrawn_since(appeal_id: int, made: datetime) -> int:
    """How many signers counted in what was made at `made` (a dossier) have withdrawn since:
    those who signed, and confirmed, before it and withdrew after it."""
    return withdrawn_since_each(appeal_id, [made])[made]


def withdrawn_since_each(appeal_id: int, times: list[datetime]) -> dict[datetime, int]:
    """withdrawn_since for each of several times (an appeal's dossiers), in one query over the
    appeal's withdrawn signatures."""
    rows = db.session.execute(
        select(func.coalesce(Signature.confirmed_at, Signature.created_at), Signature.withdrawn_at)
        .where(Signature.appeal_id == appeal_id, Signature.status == SignatureStatus.withdrawn)
        .where(Signature.withdrawn_at.is_not(None))
    ).all()
    return {made: sum(1 for came, went in rows if came <= made < went) for made in times}


def purge_pending(appeal_id: int | None = None, now: datetime | None = None) -> int:
    """Delete signatures whose confirmation link expired unused; return how many."""
    now = now or utcnow()
    statement = delete(Signature).where(
        Signature.status == SignatureStatus.pending, Signature.confirm_expires_at < now
    )
    if appeal_id is not None:
        statement = statement.where(Signature.appeal_id == appeal_id)
    return db.session.execute(statement, execution_options={"synchronize_session": False}).rowcount
