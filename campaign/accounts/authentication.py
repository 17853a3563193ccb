"""Who is logged in: the session cookie checked against its row on every request, a session
begun at login (after the second step, for an account that has one), and ended at logout."""

import logging
import time
from datetime import timedelta
from typing import Any

from flask import current_app, g, redirect, request, session, url_for
from flask_login import current_user, login_user, logout_user
from werkzeug.wrappers import Response

from campaign.accounts.blueprint import bp
from campaign.accounts.mailed_links import credential_fingerprint
from campaign.accounts.models import LoginSession, User
from campaign.accounts.sessions import (
    Lifetimes,
    begin_session,
    end_session_by_token,
    live_session,
    purge_sessions,
    touch_session,
)
from campaign.extensions import db, login_manager
from campaign.security_log import log_security_event

# The token of this browser's row in login_session, kept in the signed session cookie.
SESSION_KEY = "login_session"
# Who gave the right password and has yet to give the second step, and since when.
PENDING_KEY = "second_step"
SECOND_STEP_LIFETIME = timedelta(minutes=10)

login_manager.login_view = "accounts.login"
login_manager.login_message = None
login_manager.session_protection = "strong"


def lifetimes() -> Lifetimes:
    """Return the configured idle and absolute lifetimes of a session."""
    return Lifetimes(
        idle=current_app.config["PERMANENT_SESSION_LIFETIME"],
        absolute=current_app.config["SESSION_ABSOLUTE_LIFETIME"],
    )


@login_manager.user_loader
def load_user(user_id: str) -> User | None:
    """Return the logged-in user if this browser's session is still live on the server.

    A session ends when its row goes (logout, "log out" on the account page), after its
    lifetimes, and when the password changes (its credential fingerprint no longer matches):
    a new password, say after a laptop was lost, logs out every other browser.
    """
    token = session.get(SESSION_KEY)
    if not user_id.isdigit() or not isinstance(token, str):
        return None
    user = db.session.get(User, int(user_id))
    if user is None:
        return None
    found = live_session(token, user.id, credential_fingerprint(user), lifetimes())
    if found is None:
        return None
    g.login_session = found
    return user


@bp.before_app_request
def _check_login_session() -> None:
    # Before the view, with nothing else in the transaction: a session that ended is
    # forgotten by this cookie too, and a live one notes its use (committed at once).
    if "_user_id" not in session or request.endpoint == "static":
        return
    if not current_user.is_authenticated:
        logout_user()
        session.pop(SESSION_KEY, None)
        return
    live = g.get("login_session")
    if live is not None and touch_session(live):
        db.session.commit()


def current_login_session() -> LoginSession | None:
    """Return this browser's session row, when logged in."""
    return g.get("login_session") if current_user.is_authenticated else None


def _clear_session() -> None:
    # Only the messages for the next page are kept: they were written for her.
    flashes = session.get("_flashes")
    session.clear()
    if flashes:
        session["_flashes"] = flashes


def start_session(user: User) -> None:
    """Log the user in this browser in a fresh session recorded on the server (committed).

    Nothing from before survives (a planted id, an old CSRF token, a previous session's row).
    """
    previous = session.get(SESSION_KEY)
    if isinstance(previous, str):
        end_session_by_token(previous)
    purge_sessions(lifetimes())
    token = begin_session(
        user,
        credential_fingerprint(user),
        user_agent=request.user_agent.string,
        address=request.remote_addr,
    )
    db.session.commit()
    _clear_session()
    login_user(user)
    session[SESSION_KEY] = token
    session.permanent = True


def end_current_session() -> None:
    """Log this browser out, and end its session on the server (committed)."""
    token = session.get(SESSION_KEY)
    if isinstance(token, str):
        end_session_by_token(token)
        db.session.commit()
    logout_user()
    session.clear()


def log_in(user: User, target: str, *, via: str = "password") -> Response:
    """Log in the user, whose password was just given, and go to target; ask for her second
    step first if her account has one."""
    if user.two_factor_enabled:
        _clear_session()
        session[PENDING_KEY] = {
            "user": user.id,
            "credential": credential_fingerprint(user),
            "since": int(time.time()),
            "next": target,
        }
        return redirect(url_for("accounts.second_step"))
    start_session(user)
    log_security_event("login.success", level=logging.INFO, user=user.id, via=via)
    return redirect(target)


def pending_second_step() -> tuple[User, str] | None:
    """Return who gave her password in this browser lately and where she was going, if her
    second step is still awaited."""
    pending: Any = session.get(PENDING_KEY)
    if not isinstance(pending, dict) or not isinstance(pending.get("user"), int):
        return None
    if time.time() - pending.get("since", 0) > SECOND_STEP_LIFETIME.total_seconds():
        return None
    user = db.session.get(User, pending["user"])
    if user is None or not user.two_factor_enabled:
        return None
    if pending.get("credential") != credential_fingerprint(user):
        return None
    return user, str(pending.get("next") or url_for("appeals.index"))
