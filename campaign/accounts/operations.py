"""Sign up, authenticate, and change an account: its name, password and address (a move of
address can be undone). Who belongs to an appeal is in memberships."""

import secrets
from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import Any

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import ColumnElement, delete, select, update

from campaign.accounts.models import AddressChange, Invitation, User
from campaign.accounts.two_factor import disable_two_factor
from campaign.clock import utcnow
from campaign.database import lock_row
from campaign.email_addresses import normalise_email
from campaign.extensions import db
from campaign.link_tokens import new_token, token_hash
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


class WrongPassword(Exception):
    """The password given as the current one is not the user's."""


class UndoInvalid(Exception):
    """The link to undo an address change is unknown, used, or too old."""


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


# A login to an unconfirmed account mails its link again at most this often: whoever signed
# up with someone else's address must not be able to flood it by logging in.
RESEND_INTERVAL = timedelta(minutes=15)


def restart_confirmation(user_id: int) -> bool:
    """Count an unconfirmed account's days from now, as a link is mailed to it again; False
    (nothing changed, nothing to mail) if one was mailed within RESEND_INTERVAL."""
    now = utcnow()
    restarted = db.session.execute(
        update(User)
        .where(
            User.id == user_id,
            User.email_confirmed_at.is_(None),
            User.created_at <= now - RESEND_INTERVAL,
        )
        .values(created_at=now)
    )
    return restarted.rowcount == 1


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


def hold_account(user: User, password: str) -> None:
    """Check the user's password, then hold the account's row (read afresh) to the end of the
    transaction; raise WrongPassword if it is not the password, or no longer is.

    The slow check runs before the lock; the lock then makes sure that what follows builds on
    the account as it is, not as a request that started before, say, an undone move, saw it.
    """
    check_password(user, password)
    seen = user.password_hash
    lock_row(user)
    if user.password_hash != seen:
        raise WrongPassword


def change_password(user: User, current: str, new: str) -> None:
    """Replace the password of a logged-in user who knows the current one.

    Raise WrongPassword otherwise. The new hash changes the user's credential fingerprint, so
    every session ends (see accounts.authentication.load_user).
    """
    new_hash = hash_password(new)
    hold_account(user, current)
    user.password_hash = new_hash
    db.session.flush()


def ask_email_change(user: User, email: str, password: str) -> None:
    """Remember the address the user, who gave her password, asked to move to (mail it the
    link once committed); raise WrongPassword if she did not give it."""
    hold_account(user, password)
    user.pending_email = normalise_email(email)
    db.session.flush()


def move_to_pending_email(user: User) -> AddressChange:
    """Make the address the user asked for (and proved to read) the account's; record the move.

    Hold the account first (mailed_links.user_for_link(..., hold=True)). Raise EmailTaken when
    a confirmed account has the address by now. An unconfirmed account holding it goes:
    whoever signed up with it never showed they read it, and this user just did. The links
    that would bring the account back to this address stop working: it is there.
    """
    if user.pending_email is None:
        raise ValueError("no address asked for")
    new = user.pending_email
    _free_address_for(user, new)
    _close_undo_links(AddressChange.user_id == user.id, AddressChange.old_email == new)
    change = AddressChange(user=user, old_email=user.email)
    user.email, user.pending_email = new, None
    db.session.add(change)
    db.session.flush()
    return change


def _free_address_for(user: User, email: str) -> None:
    # Raise EmailTaken if a confirmed account has the address; delete an unconfirmed one.
    holder = db.session.scalar(select(User).where(User.email == email))
    if holder is not None and holder.id != user.id:
        if holder.email_confirmed_at is not None:
            raise EmailTaken(holder.id)
        db.session.delete(holder)
        db.session.flush()


def _close_undo_links(*conditions: Any, **values: Any) -> int:
    # Close the still open undo links of the changes that meet the conditions; return how many.
    return db.session.execute(
        update(AddressChange)
        .where(*conditions, AddressChange.closed_at.is_(None))
        .values(closed_at=utcnow(), **values)
        .execution_options(synchronize_session=False)
    ).rowcount


def issue_undo_token(change: AddressChange) -> str:
    """Return a new token for the link that undoes the change (stored hashed; earlier ones die).

    A random token kept in the database, not a signed one tied to the password like the other
    mailed links: it must outlive a new password chosen by whoever moved the account.
    """
    token, change.undo_token_hash = new_token()
    db.session.flush()
    return token


def find_address_change(token: str, lifetime: timedelta) -> AddressChange:
    """Return the change this undo token is for, or raise UndoInvalid."""
    change = db.session.scalar(
        select(AddressChange).where(AddressChange.undo_token_hash == token_hash(token))
    )
    if change is None or change.closed_at is not None or change.changed_at <= utcnow() - lifetime:
        raise UndoInvalid
    return change


def undo_address_change(change: AddressChange, password: str) -> None:
    """Bring the account back to the address it left, with a new password.

    The new password ends every session and every mailed link (see
    accounts.authentication.load_user). Later moves of the account are undone too, so their
    links (mailed to addresses whoever moved it may read) stop working, the invitations the
    account made since the move are revoked, and two-step login set up since the move is
    turned off. Raise UndoInvalid if the link was closed meanwhile, EmailTaken when a
    confirmed account has the old address by now.
    """
    new_hash = hash_password(password)
    user = change.user
    lock_row(user)  # a move or a new password under way waits, then finds its link stale
    # Close the link in the statement that checks it is open: two tabs cannot both use it.
    if not _close_undo_links(AddressChange.id == change.id, undone_from_email=user.email):
        raise UndoInvalid
    _free_address_for(user, change.old_email)
    user.email, user.pending_email = change.old_email, None
    user.password_hash = new_hash
    if user.two_factor_enabled_at is not None and user.two_factor_enabled_at >= change.changed_at:
        # Set up by whoever moved the account, on their phone: it would keep her out.
        disable_two_factor(user)
    _close_undo_links(AddressChange.user_id == user.id, AddressChange.id > change.id)
    revoke_invitations(
        Invitation.created_by_id == user.id, Invitation.created_at >= change.changed_at
    )
    db.session.flush()
    db.session.expire(change)


def purge_address_changes(lifetime: timedelta, now: datetime | None = None) -> int:
    """Forget address changes whose undo link has expired (they name a former address)."""
    cutoff = (now or utcnow()) - lifetime
    statement = delete(AddressChange).where(AddressChange.changed_at <= cutoff)
    return db.session.execute(statement).rowcount


def purge_expired(config: Mapping[str, Any]) -> tuple[int, int]:
    """Delete accounts never confirmed and address changes past their undo link, each after
    its link's lifetime in config; return how many of each."""
    return (
        purge_unconfirmed(config["SIGNUP_LINK_LIFETIME"]),
        purge_address_changes(config["EMAIL_UNDO_LINK_LIFETIME"]),
    )


def revoke_invitations(*conditions: ColumnElement[bool]) -> list[tuple[int, int]]:
    """Make the pending invitations that meet the conditions unusable; return the (id,
    appeal_id) of each."""
    revoked = db.session.execute(
        update(Invitation)
        .where(Invitation.used_at.is_(None), Invitation.revoked_at.is_(None), *conditions)
        .values(revoked_at=utcnow())
        .returning(Invitation.id, Invitation.appeal_id)
        .execution_options(synchronize_session=False)
    )
    return [(row.id, row.appeal_id) for row in revoked]
