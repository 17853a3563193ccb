"""Warnings that our dependencies raise about their own code, silenced by exact message.

Our own warnings stay errors in the tests (`filterwarnings = ["error"]`); a library's
deprecation that we cannot fix is listed here once, with the release that makes it go away.
The app silences them at start-up (so that no `flask` command prints them) and the test run
adds them to pytest's filters (tests/conftest.py).
"""

import importlib
import re
import warnings
from dataclasses import dataclass


@dataclass(frozen=True)
class UpstreamWarning:
    """One third-party warning: its exact message, its category, and when to drop it."""

    message: str
    category: str  # "module.ClassName"
    remove_when: str

    @property
    def pattern(self) -> str:
        """The message as a regular expression matching it exactly."""
        return re.escape(self.message) + r"\Z"


UPSTREAM_WARNINGS = (
    UpstreamWarning(
        message=(
            "DSA is deprecated and support will be removed in a future release. "
            "Use a more modern signature algorithm."
        ),
        category="cryptography.utils.CryptographyDeprecationWarning",
        # pyhanko/sign/signers/pdf_cms.py imports DSAPrivateKey at module level; cryptography
        # 51.0 deprecated the DSA names. Remove when a pyHanko release (after 0.38) stops
        # importing them, or when the lock moves past a cryptography that no longer has DSA.
        remove_when="pyHanko no longer imports cryptography's DSA types (after 0.38)",
    ),
)


def _category(dotted: str) -> type[Warning]:
    module, _, name = dotted.rpartition(".")
    return getattr(importlib.import_module(module), name)


def silence_upstream_warnings() -> None:
    """Ignore each listed warning, by its exact message and category, in this process."""
    for known in UPSTREAM_WARNINGS:
        warnings.filterwarnings("ignore", message=known.pattern, category=_category(known.category))


def filterwarnings_lines() -> list[str]:
    """Return the listed warnings as pytest `filterwarnings` lines ("ignore:...:category")."""
    return [f"ignore:{known.pattern}:{known.category}" for known in UPSTREAM_WARNINGS]
