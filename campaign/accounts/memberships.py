"""Who belongs to an appeal: invitations to join it, their use and revocation, the members'
roles, and taking members off (an appeal keeps at least one owner)."""

from datetime import timedelta

from sqlalchemy import func, select

from campaign.accounts.models import Invitation, Membership, Role, User
from campaign.accounts.operations import revoke_invitations
from campaign.appeals.models import Appeal
from campaign.audit.operations import record_event
from campaign.clock import utcnow
from campaign.database import lock_row
from campaign.extensions import db
from campaign.link_tokens import new_token, token_hash


class InvitationInvalid(Exception):
    """The invitation link is unknown, used, revoked or expired."""


class LastOwner(Exception):
    """An appeal must keep at least one owner."""


class NoLongerOwner(Exception):
    """Whoever manages the members was demoted or removed meanwhile."""


class AlreadyMember(Exception):
    """The user already belongs to the appeal."""


def membership_of(user_id: int, appeal_id: int) -> Membership | None:
    """Return the user's membership of the appeal, if any."""
    return db.session.scalar(
        select(Membership).where(Membership.user_id == user_id, Membership.appeal_id == appeal_id)
    )


def invite_member(appeal_id: int, role: Role, inviter: User, lifetime: timedelta) -> str:
    """Create a single-use invitation and return its token (shown once, stored hashed)."""
    token, stored = new_token()
    invitation = Invitation(
        appeal_id=appeal_id,
        role=role,
        token_hash=stored,
        created_by_id=inviter.id,
        expires_at=utcnow() + lifetime,
    )
    db.session.add(invitation)
    db.session.flush()
    record_event(
        appeal_id,
        "invitation.created",
        subject=("invitation", invitation.id),
        actor_id=inviter.id,
        role=role.name,
    )
    return token


def find_invitation(token: str) -> Invitation:
    """Return the pending invitation for this token, or raise InvitationInvalid."""
    invitation = db.session.scalar(
        select(Invitation).where(Invitation.token_hash == token_hash(token))
    )
    if invitation is None or not invitation.is_pending or not _made_by_an_owner(invitation):
        raise InvitationInvalid
    return invitation


def _made_by_an_owner(invitation: Invitation) -> bool:
    # Its maker is still an owner of the appeal: a link made in the moment she was demoted
    # (after her links were revoked), or before this rule, does not outlive her role.
    if invitation.created_by_id is None:
        return False
    maker = membership_of(invitation.created_by_id, invitation.appeal_id)
    return maker is not None and maker.role is Role.owner


def accept_invitation(token: str, user: User) -> Membership:
    """Use the invitation: make the user a member with its role, once."""
    invitation = find_invitation(token)
    if membership_of(user.id, invitation.appeal_id) is not None:
        raise AlreadyMember
    # Mark it used in the same statement that checks it is still pending: two tabs cannot both
    # use it, nor can it be used once revoked meanwhile.
    now = utcnow()
    used = db.session.execute(
        Invitation.__table__.update()
        .where(
            Invitation.id == invitation.id,
            Invitation.used_at.is_(None),
            Invitation.revoked_at.is_(None),
            Invitation.expires_at > now,
        )
        .values(used_at=now, used_by_id=user.id)
    )
    if used.rowcount != 1:
        raise InvitationInvalid
    db.session.expire(invitation)
    membership = Membership(appeal_id=invitation.appeal_id, user=user, role=invitation.role)
    db.session.add(membership)
    db.session.flush()
    record_event(
        membership.appeal_id,
        "member.joined",
        subject=("user", user.id),
        actor_id=user.id,
        role=membership.role.name,
        invitation=invitation.id,
    )
    return membership


def revoke_invitation(invitation: Invitation) -> None:
    """Make a pending invitation unusable."""
    invitation.revoked_at = utcnow()
    record_event(invitation.appeal_id, "invitation.revoked", subject=("invitation", invitation.id))
    db.session.flush()


def _revoke_invitations_made_by(membership: Membership) -> None:
    # Only an owner makes invitations, and only she saw their links: once she is no longer an
    # owner of the appeal, a link she kept must not bring her (or anyone) back as one.
    revoked = revoke_invitations(
        Invitation.created_by_id == membership.user_id,
        Invitation.appeal_id == membership.appeal_id,
    )
    for invitation_id, appeal_id in revoked:
        record_event(
            appeal_id,
            "invitation.revoked",
            subject=("invitation", invitation_id),
            reason="maker_not_owner",
        )


def owner_count(appeal_id: int) -> int:
    """Return how many owners the appeal has."""
    return db.session.scalar(
        select(func.count())
        .select_from(Membership)
        .where(Membership.appeal_id == appeal_id, Membership.role == Role.owner)
    )


def _role_under_lock(membership: Membership) -> Role | None:
    """Lock the appeal's row to the end of the transaction; return the member's role now.

    Two owners demoted or removed at the same moment would otherwise each count the other
    and leave the appeal with none; under the lock the second one counts after the first
    committed. None when the membership is gone meanwhile.
    """
    lock_row(db.session.get(Appeal, membership.appeal_id))
    return db.session.scalar(select(Membership.role).where(Membership.id == membership.id))


def _still_owner(by: Membership | None) -> None:
    """Under the appeal's lock: raise NoLongerOwner unless `by` is still an owner."""
    if by is None:
        return
    if db.session.scalar(select(Membership.role).where(Membership.id == by.id)) is not Role.owner:
        raise NoLongerOwner


def change_role(membership: Membership, role: Role, *, by: Membership | None = None) -> None:
    """Give a member another role; the last owner stays owner.

    `by`, the owner doing it, is checked again under the appeal's lock: an owner demoted at
    the same moment does not get one more change through.
    """
    current = _role_under_lock(membership)
    _still_owner(by)
    if current is None:
        return
    if current is Role.owner and role is not Role.owner and owner_count(membership.appeal_id) <= 1:
        raise LastOwner
    if current is Role.owner and role is not Role.owner:
        _revoke_invitations_made_by(membership)
    membership.role = role
    if role is not current:
        record_event(
            membership.appeal_id,
            "member.role_changed",
            subject=("user", membership.user_id),
            role=role.name,
            previous=current.name,
        )
    db.session.flush()


def remove_member(membership: Membership, *, by: Membership | None = None) -> None:
    """Take a member off the appeal; never the last owner. `by`: as for change_role.

    Without `by` (or `by` herself) the member leaves: from her page, or deleting her account.
    """
    current = _role_under_lock(membership)
    _still_owner(by)
    if current is None:
        return
    if current is Role.owner and owner_count(membership.appeal_id) <= 1:
        raise LastOwner
    _revoke_invitations_made_by(membership)
    left = by is None or by.id == membership.id
    record_event(
        membership.appeal_id,
        "member.left" if left else "member.removed",
        subject=("user", membership.user_id),
        role=current.name,
    )
    db.session.delete(membership)
    db.session.flush()
