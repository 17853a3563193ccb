"""Two-step login: a time-based code from an authenticator app (RFC 6238) after the password,
or one of ten single-use recovery codes when the app is lost."""

import hashlib
import hmac
import secrets
import time

import pyotp
from sqlalchemy import delete, func, or_, select, update

from campaign.accounts.models import RecoveryCode, User
from campaign.clock import utcnow
from campaign.extensions import db

RECOVERY_CODE_COUNT = 10
# Letters and digits that cannot be misread for one another (no 0/o, 1/l/i).
_RECOVERY_ALPHABET = "abcdefghjkmnpqrstuvwxyz23456789"
_RECOVERY_LENGTH = 10
# A code is accepted one step (30 s) early or late: phones' clocks drift.
_STEP_WINDOW = 1
ISSUER = "Campaign"


class CodeRefused(Exception):
    """The code is not one the app shows now, was used already, or is no recovery code."""


def start_setup(user: User) -> str:
    """Give the user a new secret for her app, not in force until a code from it is given;
    return it. Two-step login already on is left as it is (ValueError)."""
    if user.two_factor_enabled:
        raise ValueError("two-step login is on")
    user.totp_secret = pyotp.random_base32()
    db.session.flush()
    return user.totp_secret


def provisioning_uri(user: User, secret: str) -> str:
    """Return the otpauth:// address an app reads from the QR code: the site, and the
    account's address so that she can tell accounts apart in the app."""
    return pyotp.TOTP(secret).provisioning_uri(name=user.email, issuer_name=ISSUER)


def _matching_step(secret: str, code: str) -> int | None:
    """Return the time step whose code this is, within the window, else None."""
    if not (len(code) == 6 and code.isascii() and code.isdigit()):
        return None
    totp = pyotp.TOTP(secret)
    now = int(time.time()) // totp.interval
    for step in range(now - _STEP_WINDOW, now + _STEP_WINDOW + 1):
        if hmac.compare_digest(totp.generate_otp(step), code):
            return step
    return None


def _claim_step(user: User, step: int) -> bool:
    """Record that the step's code was used, unless it or a later one was: a code works once,
    even when two requests bring it at the same moment."""
    claimed = db.session.execute(
        update(User)
        .where(
            User.id == user.id,
            or_(User.totp_last_step.is_(None), User.totp_last_step < step),
        )
        .values(totp_last_step=step)
        .execution_options(synchronize_session=False)
    )
    if claimed.rowcount != 1:
        return False
    user.totp_last_step = step
    return True


def _normalise_recovery(code: str) -> str:
    return "".join(char for char in code.lower() if char.isalnum())


def _recovery_hash(code: str) -> str:
    # Each code carries about 50 random bits: a plain hash keeps it safe, as for other tokens.
    return hashlib.sha256(_normalise_recovery(code).encode()).hexdigest()


def new_recovery_codes(user: User) -> list[str]:
    """Replace the user's recovery codes with new ones; return them (shown once, kept hashed)."""
    db.session.execute(delete(RecoveryCode).where(RecoveryCode.user_id == user.id))
    codes = []
    for _n in range(RECOVERY_CODE_COUNT):
        raw = "".join(secrets.choice(_RECOVERY_ALPHABET) for _i in range(_RECOVERY_LENGTH))
        codes.append(f"{raw[:5]}-{raw[5:]}")
        db.session.add(RecoveryCode(user_id=user.id, code_hash=_recovery_hash(raw)))
    db.session.flush()
    return codes


def recovery_codes_left(user: User) -> int:
    """Return how many of the user's recovery codes are unused."""
    return db.session.scalar(
        select(func.count())
        .select_from(RecoveryCode)
        .where(RecoveryCode.user_id == user.id, RecoveryCode.used_at.is_(None))
    )


def enable_two_factor(user: User, code: str) -> list[str]:
    """Put the secret being set up in force, given a code the app shows from it; return the
    new recovery codes. Raise CodeRefused otherwise."""
    if user.two_factor_enabled or user.totp_secret is None:
        raise CodeRefused
    step = _matching_step(user.totp_secret, code)
    if step is None or not _claim_step(user, step):
        raise CodeRefused
    user.two_factor_enabled_at = utcnow()
    codes = new_recovery_codes(user)
    db.session.flush()
    return codes


def disable_two_factor(user: User) -> None:
    """Turn two-step login off: the secret and the recovery codes go."""
    user.totp_secret = None
    user.two_factor_enabled_at = None
    user.totp_last_step = None
    db.session.execute(delete(RecoveryCode).where(RecoveryCode.user_id == user.id))
    db.session.flush()


def check_second_step(user: User, code: str) -> str:
    """Accept a code from the app or an unused recovery code, once; return which it was
    ("app" or "recovery"). Raise CodeRefused otherwise."""
    if not user.two_factor_enabled or user.totp_secret is None:
        raise CodeRefused
    step = _matching_step(user.totp_secret, code.replace(" ", ""))
    if step is not None:
        if not _claim_step(user, step):
            raise CodeRefused
        return "app"
    used = db.session.execute(
        update(RecoveryCode)
        .where(
            RecoveryCode.user_id == user.id,
            RecoveryCode.code_hash == _recovery_hash(code),
            RecoveryCode.used_at.is_(None),
        )
        .values(used_at=utcnow())
        .execution_options(synchronize_session=False)
    )
    if used.rowcount != 1:
        raise CodeRefused
    return "recovery"
