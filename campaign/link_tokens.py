"""The random tokens that links and login sessions carry, and how each is stored: its SHA-256,
so that a copy of the database opens nothing."""

import hashlib
import secrets


def new_token() -> tuple[str, str]:
    """Return a new random token and the hash that is stored of it."""
    token = secrets.token_urlsafe(32)
    return token, token_hash(token)


def token_hash(token: str) -> str:
    """Return the hash of a token, as stored."""
    return hashlib.sha256(token.encode()).hexdigest()
