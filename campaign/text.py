"""Checks and normalisation for text that people type."""

import re
import unicodedata

# Characters that hide or reorder what a reader sees, or that render as nothing: C0/C1
# controls (tab and newline aside), zero-width characters, direction marks and overrides
# (U+061C included), the soft hyphen, the combining grapheme joiner, invisible fillers
# (Hangul, Braille blank, Mongolian vowel separator) and tag characters.
_HIDDEN = re.compile(
    "["
    "\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f"
    "\u00ad\u034f\u061c\u115f\u1160\u180e"
    "\u200b-\u200f\u202a-\u202e\u2060-\u2064\u2066-\u206f"
    "\u2800\u3164\ufeff\uffa0"
    "\U000e0000-\U000e007f"
    "]"
)
# Every way to start a new line: a one-line field (a name, a title, a mail subject) has none.
_LINE_BREAK = re.compile("[\n\r\x85\u2028\u2029]")
# More marks than this on one letter stack up into the lines around it ("Zalgo" text).
MAX_COMBINING_MARKS = 3


def normalise_text(value: str | None) -> str:
    """Return value in NFC with Unix line endings and no surrounding blanks."""
    if not value:
        return ""
    return unicodedata.normalize("NFC", value.replace("\r\n", "\n").replace("\r", "\n")).strip()


def has_hidden_characters(value: str | None) -> bool:
    """Return True when value holds a control, invisible or direction-changing character."""
    return bool(value) and _HIDDEN.search(value) is not None


def has_line_break(value: str | None) -> bool:
    """Return True when value holds a line or paragraph separator of any kind."""
    return bool(value) and _LINE_BREAK.search(value) is not None


def has_stacked_marks(value: str | None, limit: int = MAX_COMBINING_MARKS) -> bool:
    """Return True when some letter carries more than `limit` combining marks (in NFC)."""
    run = 0
    for character in unicodedata.normalize("NFC", value or ""):
        run = run + 1 if unicodedata.combining(character) else 0
        if run > limit:
            return True
    return False
