"""Sign up, authenticate, and manage who belongs to an appeal."""

import hashlib
import secrets
from datetime import datetime, timedelta

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from email_validator import EmailNotValidError, validate_email
from sqlalchemy import delete, func, select, update

from campaign.accounts.models import Invitation, Membership, Role, User
from campaign.appeals.models import Appeal
from campaign.clock import utcnow
from campaign.extensions import db
from campaign.text import normalise_text

PASSWORD_MIN_LENGTH = 10
_hasher = PasswordHasher()
# Verified against when the email is unknown, so that both failures take the same time.
_DUMMY_HASH = _hasher.hash(secrets.token_urlsafe(16))


class EmailTaken(Exception):
    """A confirmed account has this email."""

    def __init__(self, user_id: int) -> None:
        super().__init__(user_id)
        self.user_id = user_id


class InvitationInvalid(Exception):
    """The invitation link is unknown, used, revoked or expired."""


class LastOwner(Exception):
    """An appeal must keep at least one owner."""


class AlreadyMember(Exception):
    """The user already belongs to the appeal."""


class WrongPassword(Exception):
    """The password given as the current one is not the user's."""


def normalise_email(email: str) -> str:
    """Return the email as stored: syntax-normalised and lower-cased; raise ValueError if bad."""
    try:
        result = validate_email(email.strip(), check_deliverability=False)
    except EmailNotValidError as exc:
        raise ValueError(str(exc)) from exc
    return result.normalized.lower()


def hash_password(password: str) -> str:
    """Hash a password with Argon2id."""
    return _hasher.hash(password)


def sign_up(
    *, name: str, email: str, password: str, language: str | None = None, confirmed: bool = False
) -> User:
    """Create an organiser account, unconfirmed until its address answers the mailed link.

    The address of a confirmed account raises EmailTaken. An unconfirmed one is taken over by
    the latest sign-up, whose name and password replace the earlier ones (and whose link
    replaces theirs): whoever registered someone else's address first gains nothing.
    """
    email = normalise_email(email)
    password_hash = hash_password(password)  # in every case, so that all take the same time
    user = db.session.scalar(select(User).where(User.email == email))
    if user is not None and user.email_confirmed_at is not None:
        raise EmailTaken(user.id)
    if user is None:
        user = User(email=email)
        db.session.add(user)
    user.created_at = utcnow()  # an unconfirmed account taken over starts again
    user.name = normalise_text(name)
    user.password_hash = password_hash
    user.language = language
    user.email_confirmed_at = utcnow() if confirmed else None
    db.session.flush()
    return user


def purge_unconfirmed(lifetime: timedelta, now: datetime | None = None) -> int:
    """Delete accounts never confirmed within their link's lifetime; return how many."""
    cutoff = (now or utcnow()) - lifetime
    statement = delete(User).where(User.email_confirmed_at.is_(None), User.created_at < cutoff)
    return db.session.execute(statement).rowcount


def confirm_email(user: User) -> None:
    """Record that the owner of the user's address answered (the link was followed)."""
    if user.email_confirmed_at is None:
        user.email_confirmed_at = utcnow()
        db.session.flush()


def authenticate(email: str, password: str) -> User | None:
    """Return the user whose email and password these are, else None (in the same time)."""
    try:
        email = normalise_email(email)
    except ValueError:
        email = ""
    user = db.session.scalar(select(User).where(User.email == email)) if email else None
    try:
        _hasher.verify(user.password_hash if user else _DUMMY_HASH, password)
    except (VerificationError, InvalidHashError):
        return None
    if user is None:
        return None
    if _hasher.check_needs_rehash(user.password_hash):
        user.password_hash = hash_password(password)
    user.last_login_at = utcnow()
    db.session.flush()
    return user


def rename_user(user: User, name: str) -> None:
    """Change the name other members see."""
    user.name = normalise_text(name)
    db.session.flush()


def check_password(user: User, password: str) -> None:
    """Raise WrongPassword unless password is the user's."""
    try:
        _hasher.verify(user.password_hash, password)
    except (VerificationError, InvalidHashError):
        raise WrongPassword from None


def change_password(user: User, current: str, new: str) -> None:
    """Replace the password of a logged-in user who knows the current one.

    Raise WrongPassword otherwise. The new hash changes the user's credential fingerprint, so
    every other session ends (see accounts.views.load_user).
    """
    check_password(user, current)
    user.password_hash = hash_password(new)
    db.session.flush()


def ask_email_change(user: User, email: str) -> None:
    """Remember the address the user asked to move to (mail it the link once committed)."""
    user.pending_email = normalise_email(email)
    db.session.flush()


def move_to_pending_email(user: User) -> str:
    """Make the address the user asked for (and proved to read) the account's; return the old.

    Raise EmailTaken when a confirmed account has it by now. An unconfirmed account holding it
    goes: whoever signed up with it never showed they read it, and this user just did.
    """
    if user.pending_email is None:
        raise ValueError("no address asked for")
    holder = db.session.scalar(select(User).where(User.email == user.pending_email))
    if holder is not None and holder.id != user.id:
        if holder.email_confirmed_at is not None:
            raise EmailTaken(holder.id)
        db.session.delete(holder)
        db.session.flush()
    old, user.email, user.pending_email = user.email, user.pending_email, None
    db.session.flush()
    return old


def membership_of(user_id: int, appeal_id: int) -> Membership | None:
    """Return the user's membership of the appeal, if any."""
    return db.session.scalar(
        select(Membership).where(Membership.user_id == user_id, Membership.appeal_id == appeal_id)
    )


def _token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def invite_member(appeal_id: int, role: Role, inviter: User, lifetime: timedelta) -> str:
    """Create a single-use invitation and return its token (shown once, stored hashed)."""
    token = secrets.token_urlsafe(32)
    db.session.add(
        Invitation(
            appeal_id=appeal_id,
            role=role,
            token_hash=_token_hash(token),
            created_by_id=inviter.id,
            expires_at=utcnow() + lifetime,
        )
    )
    db.session.flush()
    return token


def find_invitation(token: str) -> Invitation:
    """Return the pending invitation for this token, or raise InvitationInvalid."""
    invitation = db.session.scalar(
        select(Invitation).where(Invitation.token_hash == _token_hash(token))
    )
    if invitation is None or not invitation.is_pending:
        raise InvitationInvalid
    return invitation


def accept_invitation(token: str, user: User) -> Membership:
    """Use the invitation: make the user a member with its role, once."""
    invitation = find_invitation(token)
    if membership_of(user.id, invitation.appeal_id) is not None:
        raise AlreadyMember
    # Mark it used in the same statement that checks it is unused: two tabs cannot both use it.
    used = db.session.execute(
        Invitation.__table__.update()
        .where(Invitation.id == invitation.id, Invitation.used_at.is_(None))
        .values(used_at=utcnow(), used_by_id=user.id)
    )
    if used.rowcount != 1:
        raise InvitationInvalid
    db.session.expire(invitation)
    membership = Membership(appeal_id=invitation.appeal_id, user=user, role=invitation.role)
    db.session.add(membership)
    db.session.flush()
    return membership


def revoke_invitation(invitation: Invitation) -> None:
    """Make a pending invitation unusable."""
    invitation.revoked_at = utcnow()
    db.session.flush()


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
    db.session.execute(
        update(Appeal)
        .where(Appeal.id == membership.appeal_id)
        .values(updated_at=Appeal.updated_at)
        .execution_options(synchronize_session=False)
    )
    return db.session.scalar(select(Membership.role).where(Membership.id == membership.id))


def change_role(membership: Membership, role: Role) -> None:
    """Give a member another role; the last owner stays owner."""
    current = _role_under_lock(membership)
    if current is None:
        return
    if current is Role.owner and role is not Role.owner and owner_count(membership.appeal_id) <= 1:
        raise LastOwner
    membership.role = role
    db.session.flush()


def remove_member(membership: Membership) -> None:
    """Take a member off the appeal; never the last owner."""
    current = _role_under_lock(membership)
    if current is None:
        return
    if current is Role.owner and owner_count(membership.appeal_id) <= 1:
        raise LastOwner
    db.session.delete(membership)
    db.session.flush()
