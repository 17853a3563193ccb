"""Links mailed to organisers: confirm the address of a new account, choose a new password,
move an account to a new address, undo such a move from the address it left, and log in
despite a flood of wrong passwords.

Each link works for a limited time; all but the undo link are signed and work only while the
password is the one they were made for, the undo link is a token kept in the database (see
operations.issue_undo_token). The mail leaves from the task queue, so that answers take the
same time whoever asked.
"""

import hashlib
import hmac
from datetime import timedelta

from flask import current_app
from flask_babel import force_locale, ngettext
from flask_babel import gettext as _
from itsdangerous import BadSignature, URLSafeTimedSerializer
from sqlalchemy import select

from campaign import tasks
from campaign.accounts.models import AddressChange, User
from campaign.accounts.operations import confirm_email, hash_password, issue_undo_token
from campaign.database import lock_row
from campaign.email_addresses import normalise_email
from campaign.extensions import db
from campaign.mail_queue import queue_mail
from campaign.urls import public_url_for

CONFIRM = "confirm"
RESET = "reset"
EMAIL = "email"
UNDO = "undo"
UNLOCK = "unlock"
_LIFETIMES = {
    CONFIRM: "SIGNUP_LINK_LIFETIME",
    RESET: "RESET_LINK_LIFETIME",
    EMAIL: "SIGNUP_LINK_LIFETIME",
    UNDO: "EMAIL_UNDO_LINK_LIFETIME",
    UNLOCK: "UNLOCK_LINK_LIFETIME",
}


class LinkInvalid(Exception):
    """The link is forged, expired, or was made before the password last changed."""


def credential_fingerprint(user: User) -> str:
    """Return a digest of the user's password hash: it changes whenever the password does.

    Keyed, because it travels in links and session cookies, which are signed but readable.
    """
    key = current_app.config["SECRET_KEY"].encode()
    return hmac.new(key, user.password_hash.encode(), hashlib.sha256).hexdigest()[:32]


def _serializer(purpose: str) -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.config["SECRET_KEY"], salt=f"campaign.{purpose}")


def _lifetime(purpose: str) -> timedelta:
    return current_app.config[_LIFETIMES[purpose]]


def _link_fingerprint(user: User, purpose: str) -> str:
    # A link to a new address also stops working once another address is asked for; it names
    # the address only through this digest, so the URL does not carry it.
    if purpose != EMAIL:
        return credential_fingerprint(user)
    key = current_app.config["SECRET_KEY"].encode()
    message = f"{user.password_hash}\0{user.pending_email or ''}".encode()
    return hmac.new(key, message, hashlib.sha256).hexdigest()[:32]


def link_token(user: User, purpose: str) -> str:
    """Return a token for one purpose that works until the user's password changes."""
    return _serializer(purpose).dumps([user.id, _link_fingerprint(user, purpose)])


def link_account_id(token: str, purpose: str) -> int | None:
    """Return the account id a token of this purpose names if its signature holds, expired
    or not; None otherwise. For counting guesses per account: the same token spelled with
    padding (which the serializer ignores) names the same account."""
    try:
        user_id, _fingerprint = _serializer(purpose).loads(token)
    except (BadSignature, TypeError, ValueError):
        return None
    return user_id if isinstance(user_id, int) else None


def user_for_link(token: str, purpose: str, *, hold: bool = False) -> User:
    """Return the user a token of this purpose is for, or raise LinkInvalid.

    hold=True first holds the account's row to the end of the transaction (for a request that
    changes the account): a concurrent change, say a move undone, is then either seen, so the
    link no longer works, or waits until this request is done.
    """
    try:
        user_id, fingerprint = _serializer(purpose).loads(
            token, max_age=_lifetime(purpose).total_seconds()
        )
    except (BadSignature, TypeError, ValueError):
        raise LinkInvalid from None
    user = db.session.get(User, user_id) if isinstance(user_id, int) else None
    if user is not None and hold and not lock_row(user):
        user = None  # deleted meanwhile (an unconfirmed account purged)
    if user is None or not hmac.compare_digest(_link_fingerprint(user, purpose), str(fingerprint)):
        raise LinkInvalid
    if purpose == EMAIL and user.pending_email is None:
        raise LinkInvalid  # already used
    return user


def set_password(user: User, password: str) -> None:
    """Give the user a new password; earlier links and other sessions stop working.

    The link that leads here was read in the user's mailbox: the address is confirmed too.
    """
    user.password_hash = hash_password(password)
    confirm_email(user)
    db.session.flush()


def request_reset(email: str) -> None:
    """Mail a link to choose a new password if an account has this address; say nothing."""
    user_id = db.session.scalar(select(User.id).where(User.email == normalise_email(email)))
    # A job either way (for no one without an account): the answer takes the same time.
    tasks.enqueue("accounts.reset_mail", user_id or 0)


def _minutes(purpose: str) -> int:
    return max(1, int(_lifetime(purpose).total_seconds() // 60))


def _hours(purpose: str) -> int:
    return max(1, _minutes(purpose) // 60)


def _user_language(user: User) -> str:
    return user.language or current_app.config["BABEL_DEFAULT_LOCALE"]


@tasks.job("accounts.reset_mail")
def send_reset_mail(user_id: int) -> None:
    """Mail the user a link to choose a new password, in her language (0: no one)."""
    user = db.session.get(User, user_id) if user_id else None
    if user is None:
        return
    link = public_url_for("accounts.reset_password", token=link_token(user, RESET))
    with force_locale(_user_language(user)):
        queue_mail(
            user.email,
            _("Choose a new password"),
            ngettext(
                "Someone (perhaps you) asked to choose a new password for your Campaign "
                "account. To do so, open this link within %(num)d minute:\n\n%(link)s\n\n"
                "The link works once. If you did not ask, ignore this message: your password "
                "stays as it is.",
                "Someone (perhaps you) asked to choose a new password for your Campaign "
                "account. To do so, open this link within %(num)d minutes:\n\n%(link)s\n\n"
                "The link works once. If you did not ask, ignore this message: your password "
                "stays as it is.",
                _minutes(RESET),
                link=link,
            ),
            purpose="accounts.reset",
        )


@tasks.job("accounts.signup_mail")
def send_signup_mail(user_id: int) -> None:
    """Answer a sign-up: the link that confirms a new account, or a word to an existing one."""
    user = db.session.get(User, user_id)
    if user is None:
        return
    with force_locale(_user_language(user)):
        if user.email_confirmed_at is None:
            subject = _("Confirm your Campaign account")
            body = ngettext(
                "To finish creating your Campaign account, open this link within %(num)d "
                "hour and confirm it with the password you chose:\n\n%(link)s\n\nIf you did "
                "not sign up, ignore this message: without confirmation the account cannot be "
                "used.",
                "To finish creating your Campaign account, open this link within %(num)d "
                "hours and confirm it with the password you chose:\n\n%(link)s\n\nIf you did "
                "not sign up, ignore this message: without confirmation the account cannot be "
                "used.",
                _hours(CONFIRM),
                link=public_url_for("accounts.confirm", token=link_token(user, CONFIRM)),
            )
        else:
            subject = _("You already have a Campaign account")
            body = _(
                "Someone (perhaps you) tried to sign up to Campaign with this address, which "
                "already has an account: nothing was changed. To get in, log in; if you forgot "
                "the password, choose a new one here:\n\n%(link)s",
                link=public_url_for("accounts.forgot_password"),
            )
        queue_mail(user.email, subject, body, purpose="accounts.signup")


@tasks.job("accounts.email_change_mail")
def send_email_change_mail(user_id: int) -> None:
    """Mail the address a user asked to move to: the link, or a word if it has an account."""
    user = db.session.get(User, user_id)
    if user is None or user.pending_email is None:
        return
    holder = db.session.scalar(
        select(User.id).where(
            User.email == user.pending_email, User.email_confirmed_at.is_not(None)
        )
    )
    with force_locale(_user_language(user)):
        if holder is not None and holder != user.id:
            subject = _("This address already has a Campaign account")
            body = _(
                "Someone (perhaps you) asked to move a Campaign account to this address, which "
                "already has an account of its own: nothing was changed."
            )
        else:
            subject = _("Confirm the new address of your Campaign account")
            # Nothing of the account (its name is its holder's text): the address is not
            # verified yet, and may be a stranger's.
            body = ngettext(
                "To log in to your Campaign account with this address from now on, open this "
                "link within %(num)d hour and confirm with the account's password:\n\n"
                "%(link)s\n\nIf you did not ask for this, ignore this message: nothing changes.",
                "To log in to your Campaign account with this address from now on, open this "
                "link within %(num)d hours and confirm with the account's password:\n\n"
                "%(link)s\n\nIf you did not ask for this, ignore this message: nothing changes.",
                _hours(EMAIL),
                link=public_url_for("accounts.confirm_email_change", token=link_token(user, EMAIL)),
            )
        queue_mail(user.pending_email, subject, body, purpose="accounts.email_change")


# The notice a victim needs most: tried again should the database be away (the mail server's
# failures are campaign.mail_queue's to retry).
@tasks.job("accounts.email_changed_mail", retries=3, retry_delay=60)
def send_email_changed_mail(change_id: int) -> None:
    """Tell the address an account left that it did, with the link that undoes the move.

    The token is made here, so that neither it nor the address travels through the queue. The
    address moved to is not named: whoever reads the old one need not learn it.
    """
    change = db.session.get(AddressChange, change_id)
    if change is None or change.closed_at is not None:
        return
    token = issue_undo_token(change)
    old_email, name, language = change.old_email, change.user.name, _user_language(change.user)
    db.session.commit()
    with force_locale(language):
        queue_mail(
            old_email,
            _("The address of your Campaign account was changed"),
            ngettext(
                "Your Campaign account (%(name)s) has moved to another address. If you moved "
                "it, there is nothing to do: log in with the new address from now on.\n\n"
                "If you did not, someone who knows your password has moved the account. Open "
                "this link within %(num)d day to bring it back to this address and choose a "
                "new password; whoever moved it is logged out:\n\n%(link)s",
                "Your Campaign account (%(name)s) has moved to another address. If you moved "
                "it, there is nothing to do: log in with the new address from now on.\n\n"
                "If you did not, someone who knows your password has moved the account. Open "
                "this link within %(num)d days to bring it back to this address and choose a "
                "new password; whoever moved it is logged out:\n\n%(link)s",
                max(1, _lifetime(UNDO).days),
                name=name,
                link=public_url_for("accounts.undo_email_change", token=token),
            ),
            purpose="accounts.email_changed",
        )


@tasks.job("accounts.email_change_undone_mail")
def send_email_change_undone_mail(change_id: int) -> None:
    """Tell the address an account was brought back from that it no longer uses it."""
    change = db.session.get(AddressChange, change_id)
    if change is None or change.undone_from_email is None:
        return
    with force_locale(_user_language(change.user)):
        queue_mail(
            change.undone_from_email,
            _("Your Campaign account is back at its former address"),
            _(
                "Your Campaign account (%(name)s) no longer uses this address: it was brought "
                "back to %(email)s, which it used before, with the link mailed there when it "
                "moved, and given a new password. If you did not expect this, someone who reads "
                "%(email)s holds the account now: ask the other owners of your appeals to remove "
                "it from them.",
                name=change.user.name,
                email=change.old_email,
            ),
            purpose="accounts.email_change_undone",
        )


@tasks.job("accounts.unlock_mail")
def send_unlock_mail(user_id: int) -> None:
    """Tell the user that logins to her account are paused by a flood of wrong passwords,
    with the link that lets her log in all the same (0: no one)."""
    user = db.session.get(User, user_id) if user_id else None
    if user is None or user.email_confirmed_at is None:
        return
    link = public_url_for("accounts.unlock", token=link_token(user, UNLOCK))
    with force_locale(_user_language(user)):
        queue_mail(
            user.email,
            _("Many wrong passwords were tried on your Campaign account"),
            ngettext(
                "Someone has tried many wrong passwords on your Campaign account, from many "
                "places. Those attempts failed, and logging in to the account is paused for "
                "a while.\n\nTo log in all the same, open this link within "
                "%(num)d hour and give your password there:\n\n%(link)s\n\nIf your "
                "password is short or used on other sites, choose a new one once logged in.",
                "Someone has tried many wrong passwords on your Campaign account, from many "
                "places. Those attempts failed, and logging in to the account is paused for "
                "a while.\n\nTo log in all the same, open this link within "
                "%(num)d hours and give your password there:\n\n%(link)s\n\nIf your "
                "password is short or used on other sites, choose a new one once logged in.",
                _hours(UNLOCK),
                link=link,
            ),
            purpose="accounts.unlock",
        )
