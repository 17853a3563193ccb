"""Fold a name in any script to one Latin key, so that spellings of one name meet.

"Мадина Налоева", "Madina Naloyeva" and "NALOEVA Madina" all fold to "madina naloeva": the
letters are transliterated (anyascii, which covers every script), then the variants that
transliteration systems and people produce are folded (kh/h, gh/g, ts/tz, yo/ye/e, y/i/j,
doubled letters, soft and hard signs, -ova/-eva), and the words are sorted so that the order of
surname and given name does not matter. The key is for finding and grouping, never for showing.

The keyed contact hashes (contacts.name_identity) are made from these keys: a change to the
folding changes who counts as the same signer, and needs a migration that hashes the stored
signatures again (as 0014 does).
"""

import re
import unicodedata

from anyascii import anyascii

# In this order: longer spellings first, so that "shch" is not read as "sh" + "ch".
_VARIANTS = (
    ("shch", "sh"),  # щ: shch, sch, sh
    ("sch", "sh"),
    ("tch", "ch"),
    ("dzh", "z"),  # дж: dzh, dz, zh (Khadidzhat, Khadizhat)
    ("dz", "z"),
    ("zh", "z"),
    ("kh", "h"),  # х: kh, h
    ("gh", "g"),  # غ in Arabic names and places: Baghdad, Bagdad, Багдад
    ("ts", "c"),  # ц: ts, tz (and c in some Latin spellings, but see "c" below)
    ("tz", "c"),
    ("ch", "ch"),  # ч stays, and its "c" is not the "c" of Victor
    ("ck", "k"),
    ("c", "k"),  # Victor, Viktor
    ("yo", "e"),  # ё, е: yo, ye, jo, je, e
    ("ye", "e"),
    ("jo", "e"),
    ("je", "e"),
    ("x", "ks"),
    ("ph", "f"),
    ("w", "v"),
    ("q", "k"),
    ("y", "i"),  # й, и, ы: y, i, j
    ("j", "i"),
)
_VARIANT = re.compile("|".join(spelling for spelling, _ in _VARIANTS))
_FOLDED = dict(_VARIANTS)
_DOUBLED = re.compile(r"(.)\1+")
# -ova, -yova, -eva (Королёва: Koroleva, Korolyova, Korolova) and -ov/-ev.
_ENDING = re.compile(r"(?:o|e)v(a?)\Z")
_SIGNS = re.compile(r"['`ʹʺʼ’]")  # soft and hard signs as transliterated
# Words are runs of letters, and runs of digits apart from them ("Налоева-2", "Ислам 2"): a
# number tells namesakes apart (and is never folded like letters: "11" is not "1").
_WORD = re.compile(r"[a-z]+|[0-9]+")


def fold_word(word: str) -> str:
    """Fold one word (already Latin, lower case, letters only) to its key."""
    # Functions, not r"\1" templates: Python 3.11 parses a template again on every call.
    word = _VARIANT.sub(_folded, word)
    word = _DOUBLED.sub(_first, word)
    return _ENDING.sub(_feminine_or_not, word)


def _folded(match: re.Match[str]) -> str:
    return _FOLDED[match.group(0)]


def _first(match: re.Match[str]) -> str:
    return match.group(1)


def _feminine_or_not(match: re.Match[str]) -> str:
    return "ev" + match.group(1)


def fold_words(text: str) -> list[str]:
    """Transliterate and fold each word of a text, in order; empty words are dropped."""
    latin = anyascii(unicodedata.normalize("NFKC", text)).lower()
    latin = _SIGNS.sub("", latin)
    return [word if word.isdigit() else fold_word(word) for word in _WORD.findall(latin)]


def fold_name(*parts: str) -> str:
    """Return the key of a name given in one or more parts: its folded words, sorted."""
    return " ".join(sorted(word for part in parts for word in fold_words(part)))


def name_key(surname: str, given_name: str) -> str:
    """Return a signer's name key: surname and given name, in either order, in any script.

    The patronymic is left out (signers give it or not); compare it on its own.
    """
    return fold_name(surname, given_name)
