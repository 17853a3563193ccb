"""A member deletes her own account: given its password, and never while she is the only
owner of an appeal (it would be left with no one to run it).

Her memberships end as if she had left each appeal (invitations she made are revoked), her
sessions, recovery codes and address changes go with the account, and what she did stays in
the appeals' logs as done by "a deleted account" (audit.models marks her events).
"""

from sqlalchemy import func, select
from sqlalchemy.orm import aliased

from campaign.accounts.memberships import remove_member
from campaign.accounts.models import Membership, Role, User
from campaign.accounts.operations import hold_account
from campaign.appeals.models import Appeal
from campaign.extensions import db


def appeals_owned_alone(user: User) -> list[Appeal]:
    """The appeals of which the user is the only owner, by title."""
    others = aliased(Membership)
    other_owners = (
        select(func.count())
        .select_from(others)
        .where(
            others.appeal_id == Membership.appeal_id,
            others.role == Role.owner,
            others.user_id != user.id,
        )
        .scalar_subquery()
    )
    return list(
        db.session.scalars(
            select(Appeal)
            .join(Membership, Membership.appeal_id == Appeal.id)
            .where(Membership.user_id == user.id, Membership.role == Role.owner)
            .where(other_owners == 0)
            .order_by(Appeal.title, Appeal.id)
        )
    )


def delete_account(user: User, password: str) -> None:
    """Delete the logged-in user's account, given its password (WrongPassword otherwise).

    Raise LastOwner, with nothing changed once the caller rolls back, if she is the only owner
    of an appeal: each appeal is checked under its lock, so two owners who delete their
    accounts at the same moment do not leave it with none.
    """
    hold_account(user, password)
    # By appeal, so that two deletions sharing appeals lock them in the same order.
    for membership in sorted(user.memberships, key=lambda membership: membership.appeal_id):
        remove_member(membership)  # LastOwner
    db.session.expire(user, ["memberships"])
    db.session.delete(user)
    db.session.flush()
