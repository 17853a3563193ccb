"""Login sessions kept on the server: begun at login, checked on every request, and ended by
logging out, from the account page, by their idle or absolute lifetime, or by a new password.

The session cookie is signed but readable, and a copy of it would otherwise work until it
expired: it carries a random token whose hash names a row here, and a request whose row is
gone is logged out, in every process that shares the database.

Why a table checked by Flask-Login's user loader rather than Flask-Session's server-side
sessions: Flask-Session stores every visitor's session, and each public page gives a signer
one (its CSRF token), so every page view would write to the store; it keeps no index of a
user's sessions to list or end; and Redis is optional here. This table holds only the
organisers' logins, and works wherever the database does.
"""

from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import lru_cache

from sqlalchemy import delete, or_, select, update
from ua_parser import parse as parse_user_agent

from campaign.accounts.models import LoginSession, User
from campaign.clock import utcnow
from campaign.extensions import db
from campaign.link_tokens import new_token, token_hash
from campaign.security_log import network_of

# last_seen_at is written at most this often: a write per request would cost more than the
# precision of an idle lifetime of hours is worth.
TOUCH_INTERVAL = timedelta(minutes=1)


@dataclass(frozen=True)
class Lifetimes:
    """How long a session lasts unused (idle) and at most (absolute)."""

    idle: timedelta
    absolute: timedelta

    def cutoffs(self, now: datetime) -> tuple[datetime, datetime]:
        """Return the oldest last use and the oldest start a live session may have."""
        return now - self.idle, now - self.absolute


@lru_cache(maxsize=256)
def device_of(user_agent: str) -> tuple[str, str]:
    """Return the browser and the system a user agent names ("" for what it does not)."""
    parsed = parse_user_agent(user_agent[:1000])
    browser = parsed.user_agent.family if parsed.user_agent else ""
    system = parsed.os.family if parsed.os else ""
    return (
        "" if browser == "Other" else browser[:50],
        "" if system == "Other" else system[:50],
    )


def begin_session(user: User, credential: str, *, user_agent: str, address: str | None) -> str:
    """Record a new session of the user's and return its token (for the cookie only)."""
    token, stored = new_token()
    browser, system = device_of(user_agent)
    db.session.add(
        LoginSession(
            user_id=user.id,
            token_hash=stored,
            credential=credential,
            browser=browser,
            system=system,
            network=network_of(address),
        )
    )
    db.session.flush()
    return token


def live_session(
    token: str, user_id: int, credential: str, lifetimes: Lifetimes
) -> LoginSession | None:
    """Return the user's session this token names if it is still live, else None."""
    found = db.session.scalar(
        select(LoginSession).where(
            LoginSession.token_hash == token_hash(token), LoginSession.user_id == user_id
        )
    )
    if found is None or found.credential != credential:
        return None
    idle_cutoff, absolute_cutoff = lifetimes.cutoffs(utcnow())
    if found.last_seen_at <= idle_cutoff or found.created_at <= absolute_cutoff:
        return None
    return found


def touch_session(login_session: LoginSession) -> bool:
    """Note that the session is in use now, if it was not lately; return True if written."""
    now = utcnow()
    if now - login_session.last_seen_at < TOUCH_INTERVAL:
        return False
    db.session.execute(
        update(LoginSession)
        .where(LoginSession.id == login_session.id)
        .values(last_seen_at=now)
        .execution_options(synchronize_session=False)
    )
    return True


def live_sessions(user_id: int, credential: str, lifetimes: Lifetimes) -> list[LoginSession]:
    """Return the user's live sessions, the most recently used first."""
    idle_cutoff, absolute_cutoff = lifetimes.cutoffs(utcnow())
    return list(
        db.session.scalars(
            select(LoginSession)
            .where(
                LoginSession.user_id == user_id,
                LoginSession.credential == credential,
                LoginSession.last_seen_at > idle_cutoff,
                LoginSession.created_at > absolute_cutoff,
            )
            .order_by(LoginSession.last_seen_at.desc(), LoginSession.id.desc())
        )
    )


def end_session_by_token(token: str) -> None:
    """End the session this token names, if any."""
    db.session.execute(delete(LoginSession).where(LoginSession.token_hash == token_hash(token)))


def end_session(user_id: int, session_id: int) -> bool:
    """End one of the user's sessions; False if she has no such session."""
    ended = db.session.execute(
        delete(LoginSession).where(LoginSession.id == session_id, LoginSession.user_id == user_id)
    )
    return ended.rowcount == 1


def end_sessions(user_id: int, *, keep: int | None = None) -> int:
    """End every session of the user's (but `keep`); return how many ended."""
    statement = delete(LoginSession).where(LoginSession.user_id == user_id)
    if keep is not None:
        statement = statement.where(LoginSession.id != keep)
    return db.session.execute(statement).rowcount


def purge_sessions(lifetimes: Lifetimes) -> int:
    """Delete the sessions past either lifetime; return how many.

    Sessions a new password ended go within the absolute lifetime, as no request accepts them.
    """
    idle_cutoff, absolute_cutoff = lifetimes.cutoffs(utcnow())
    return db.session.execute(
        delete(LoginSession).where(
            or_(
                LoginSession.last_seen_at <= idle_cutoff,
                LoginSession.created_at <= absolute_cutoff,
            )
        )
    ).rowcount
