"""Limits on guessing passwords at login, such that a flood against one account does not
lock its owner out.

Wrong passwords are counted per account and connection (a flood from one place stops there)
and per account from everywhere (a flood from many places). When the second limit holds an
account, its owner is mailed a link to a login page that only the first limit applies to.
Counters live in the limiter's storage: Redis when several processes serve the site.
"""

import hashlib
import ipaddress
from collections.abc import Callable
from typing import Any, TypeVar

from flask import current_app, g, make_response, request
from flask_babel import gettext as _
from flask_limiter import RequestLimit
from flask_login import current_user
from limits import parse as parse_limit
from sqlalchemy import select
from werkzeug.wrappers import Response

from campaign import tasks
from campaign.accounts.mailed_links import UNLOCK, link_account_id
from campaign.accounts.models import User
from campaign.email_addresses import normalise_email
from campaign.extensions import db, limiter

View = TypeVar("View", bound=Callable[..., Any])
# One counter per account and connection, whichever page (login, unlock link) the password
# was typed on.
PAIR_SCOPE = "login-pair"


def typed_email() -> str:
    """Return the address typed in the form as authenticate() reads it (normalised), or as
    typed when it is not one, so that every spelling of an account shares its counters."""
    typed = request.form.get("email") or ""
    try:
        return normalise_email(typed)
    except ValueError:
        return typed.strip().lower()


def _digest(text: str) -> str:
    # The limiter's storage (possibly Redis) sees a hash, never the typed address.
    return hashlib.sha256(text.encode()).hexdigest()


def _connection() -> str:
    # One IPv6 household or phone holds a whole /64: counted as one connection.
    try:
        address = ipaddress.ip_address(request.remote_addr or "")
    except ValueError:
        return request.remote_addr or ""
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is None:
        return str(ipaddress.ip_network(f"{address}/64", strict=False))
    return str(address)


def account_key() -> str:
    """Return the per-account counter's key for the address typed."""
    return "login-account:" + _digest(typed_email())


def _pair_key_for(email: str) -> str:
    return "login-pair:" + _digest(f"{email}\0{_connection()}")


def _login_failed(response: Response) -> bool:
    return response.status_code != 302


def _unlock_offered(_limit: RequestLimit) -> Response:
    """Mail the account's owner (if it has one) the link that lets her log in despite the
    flood, at most UNLOCK_MAIL_LIMIT; answer the same whether or not the account exists."""
    email = typed_email()
    config = current_app.config
    user_id = db.session.scalar(select(User.id).where(User.email == email)) if email else None
    # Under the limiter's key prefix, as its own counters: installations may share a Redis.
    prefix = config.get("RATELIMIT_KEY_PREFIX") or "campaign"
    mail_limit = parse_limit(config["UNLOCK_MAIL_LIMIT"])
    if limiter.limiter.hit(mail_limit, prefix, "unlock-mail", account_key()):
        tasks.enqueue("accounts.unlock_mail", user_id or 0)
    from campaign.errors import render_error

    return make_response(
        render_error(
            429,
            _(
                "Too many wrong passwords were tried on this account, so logging in to it is "
                "paused for a while. If it is your account, we have mailed you a link to log "
                "in all the same: check your email."
            ),
        )
    )


def login_throttled(view: View) -> View:
    """Limit the login form's POSTs per connection, per account and connection, and per
    account (wrong passwords only, for the last two)."""
    per_account = limiter.limit(
        lambda: current_app.config["LOGIN_LIMIT_PER_ACCOUNT"],
        key_func=account_key,
        methods=["POST"],
        deduct_when=_login_failed,
        on_breach=_unlock_offered,
    )
    per_pair = limiter.shared_limit(
        lambda: current_app.config["LOGIN_LIMIT_PER_ACCOUNT_AND_IP"],
        PAIR_SCOPE,
        key_func=lambda: _pair_key_for(typed_email()),
        methods=["POST"],
        deduct_when=_login_failed,
    )
    per_ip = limiter.limit(lambda: current_app.config["LOGIN_LIMIT_PER_IP"], methods=["POST"])
    return per_ip(per_pair(per_account(view)))


def _unlock_pair_key() -> str:
    account = link_account_id((request.view_args or {}).get("token", ""), UNLOCK)
    user = db.session.get(User, account) if account is not None else None
    return _pair_key_for(user.email) if user is not None else "login-pair:forged"


def unlock_throttled(view: View) -> View:
    """Limit the unlock link's login per connection, and per account and connection (shared
    with the login form): not per account, which is what the link is for."""
    per_pair = limiter.shared_limit(
        lambda: current_app.config["LOGIN_LIMIT_PER_ACCOUNT_AND_IP"],
        PAIR_SCOPE,
        key_func=_unlock_pair_key,
        methods=["POST"],
        deduct_when=_login_failed,
    )
    per_ip = limiter.limit(lambda: current_app.config["LOGIN_LIMIT_PER_IP"], methods=["POST"])
    return per_ip(per_pair(view))


# One counter of wrong current passwords per account, whichever page they were typed on.
GUESS_SCOPE = "wrong-current-passwords"


def password_refused(_response: Response) -> bool:
    """Return True when the view refused the current password it was given."""
    return bool(g.get("password_refused"))


def counts_wrong_passwords(view: View) -> View:
    """Count the wrong current passwords a logged-in page refuses, per account, with those of
    the other such pages (ACCOUNT_CHANGE_LIMIT): a session left open on a shared computer does
    not let anyone try passwords at leisure."""
    return limiter.shared_limit(
        lambda: current_app.config["ACCOUNT_CHANGE_LIMIT"],
        GUESS_SCOPE,
        key_func=lambda: f"password-change:{current_user.get_id()}",
        methods=["POST"],
        deduct_when=password_refused,
    )(view)


def link_password_limited(purpose: str) -> Callable[[View], View]:
    """Count wrong passwords typed on a mailed link's page with those of the account page,
    per account (ACCOUNT_CHANGE_LIMIT), and every try per connection (LOGIN_LIMIT_PER_IP).

    Per account, not per token: the serializer ignores padding, so every spelling of one
    link would otherwise get a counter of its own.
    """

    def link_account_key() -> str:
        account = link_account_id((request.view_args or {}).get("token", ""), purpose)
        return f"password-change:{account}" if account is not None else "link-password:forged"

    def decorate(view: View) -> View:
        per_account = limiter.shared_limit(
            lambda: current_app.config["ACCOUNT_CHANGE_LIMIT"],
            GUESS_SCOPE,
            key_func=link_account_key,
            methods=["POST"],
            deduct_when=password_refused,
        )
        per_ip = limiter.limit(lambda: current_app.config["LOGIN_LIMIT_PER_IP"], methods=["POST"])
        return per_ip(per_account(view))

    return decorate


def second_step_throttled(account: Callable[[], str]) -> Callable[[View], View]:
    """Limit wrong second-step codes per account (TWO_FACTOR_LIMIT, from everywhere: six
    digits must not be guessed from many places at once), and every try per connection."""

    def decorate(view: View) -> View:
        per_account = limiter.limit(
            lambda: current_app.config["TWO_FACTOR_LIMIT"],
            key_func=lambda: f"second-step:{account()}",
            methods=["POST"],
            deduct_when=lambda _response: bool(g.get("code_refused")),
        )
        per_ip = limiter.limit(lambda: current_app.config["LOGIN_LIMIT_PER_IP"], methods=["POST"])
        return per_ip(per_account(view))

    return decorate
