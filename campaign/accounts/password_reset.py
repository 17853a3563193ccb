"""Forgotten passwords: a signed link, mailed off the request, that works once and briefly."""

import hashlib
import hmac

from flask import current_app, url_for
from flask_babel import force_locale
from flask_babel import gettext as _
from itsdangerous import BadSignature, URLSafeTimedSerializer
from sqlalchemy import select

from campaign import tasks
from campaign.accounts.models import User
from campaign.accounts.operations import hash_password, normalise_email
from campaign.extensions import db
from campaign.mail import send_mail

_SALT = "campaign.password-reset"


class ResetLinkInvalid(Exception):
    """The link is forged, expired, or was made before the password last changed."""


def credential_fingerprint(user: User) -> str:
    """Return a digest of the user's password hash: it changes whenever the password does.

    Keyed, because it travels in links and session cookies, which are signed but readable.
    """
    key = current_app.config["SECRET_KEY"].encode()
    return hmac.new(key, user.password_hash.encode(), hashlib.sha256).hexdigest()[:32]


def _serializer() -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.config["SECRET_KEY"], salt=_SALT)


def reset_token(user: User) -> str:
    """Return a token that lets its holder choose the user's password, until it changes."""
    return _serializer().dumps([user.id, credential_fingerprint(user)])


def user_for_reset(token: str) -> User:
    """Return the user a reset token is for, or raise ResetLinkInvalid."""
    lifetime = current_app.config["RESET_LINK_LIFETIME"]
    try:
        user_id, fingerprint = _serializer().loads(token, max_age=lifetime.total_seconds())
    except (BadSignature, TypeError, ValueError):
        raise ResetLinkInvalid from None
    user = db.session.get(User, user_id) if isinstance(user_id, int) else None
    if user is None or not hmac.compare_digest(credential_fingerprint(user), str(fingerprint)):
        raise ResetLinkInvalid
    return user


def set_password(user: User, password: str) -> None:
    """Give the user a new password; earlier reset links and other sessions stop working."""
    user.password_hash = hash_password(password)
    db.session.flush()


def request_reset(email: str) -> None:
    """Mail a reset link if an account has this address; say nothing either way.

    A job is queued either way (for no one when there is no account) and the mail leaves from
    it, so that the answer takes the same time whether or not the account exists.
    """
    user_id = db.session.scalar(select(User.id).where(User.email == normalise_email(email)))
    tasks.enqueue("accounts.reset_mail", user_id or 0)


@tasks.job("accounts.reset_mail")
def send_reset_mail(user_id: int) -> None:
    """Mail the user a link to choose a new password, in her language (0: no one)."""
    user = db.session.get(User, user_id) if user_id else None
    if user is None:
        return
    config = current_app.config
    with current_app.test_request_context(base_url=config["PUBLIC_URL"]):
        link = url_for("accounts.reset_password", token=reset_token(user), _external=True)
    minutes = int(config["RESET_LINK_LIFETIME"].total_seconds() // 60)
    with force_locale(user.language or config["BABEL_DEFAULT_LOCALE"]):
        send_mail(
            user.email,
            _("Choose a new password"),
            _(
                "Someone (perhaps you) asked to choose a new password for your Campaign "
                "account. To do so, open this link within %(minutes)d minutes:\n\n%(link)s\n\n"
                "The link works once. If you did not ask, ignore this message: your password "
                "stays as it is.",
                minutes=minutes,
                link=link,
            ),
        )
