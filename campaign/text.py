"""Checks and normalisation for text that people type."""

import re
import unicodedata

# C0/C1 controls (tab and newline aside), zero-width characters and direction overrides:
# invisible, they let a name look like another one or reorder what a reader sees.
_FORBIDDEN = re.compile(
    "[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\u200b-\u200f\u202a-\u202e\u2060-\u2064\u2066-\u2069\ufeff]"
)


def normalise_text(value: str | None) -> str:
    """Return value in NFC with Unix line endings and no surrounding blanks."""
    if not value:
        return ""
    return unicodedata.normalize("NFC", value.replace("\r\n", "\n").replace("\r", "\n")).strip()


def has_hidden_characters(value: str | None) -> bool:
    """Return True when value holds control, zero-width or direction-override characters."""
    return bool(value) and _FORBIDDEN.search(value) is not None
