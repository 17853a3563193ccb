"""The letter of an appeal as plain data: the draft's and a version's fields, what publishing
still needs, the canonical serialisation and fingerprint of a version, and a line-by-line
comparison of two letters."""

import difflib
import hashlib
import json
from dataclasses import dataclass
from typing import Any

from campaign.appeals.models import Appeal, AppealVersion
from campaign.text import normalise_text

LETTER_FIELDS = ("title", "addressees", "body", "closing", "language")


@dataclass(frozen=True)
class DiffLine:
    """One line of a comparison between two versions: kind is ' ', '+' or '-'."""

    kind: str
    text: str


def draft_letter(appeal: Appeal) -> dict[str, Any]:
    """Return the draft's letter fields in the shape a version stores them."""
    return {
        "title": appeal.title,
        "addressees": [{"name": a.name, "office": a.office} for a in appeal.addressees],
        "body": appeal.body,
        "closing": appeal.closing,
        "language": appeal.language,
    }


def version_letter(version: AppealVersion) -> dict[str, Any]:
    """Return a version's letter fields."""
    return {field: getattr(version, field) for field in LETTER_FIELDS}


def canonical_letter(number: int, letter: dict[str, Any]) -> bytes:
    """Serialise a letter version canonically: sorted keys, NFC text, compact UTF-8 JSON."""
    document = {
        "number": number,
        "title": normalise_text(letter["title"]),
        "addressees": [
            {"name": normalise_text(a["name"]), "office": normalise_text(a["office"])}
            for a in letter["addressees"]
        ],
        "body": normalise_text(letter["body"]),
        "closing": normalise_text(letter["closing"]),
        "language": letter["language"],
    }
    return json.dumps(document, ensure_ascii=False, sort_keys=True, separators=(",", ":")).encode()


def letter_fingerprint(number: int, letter: dict[str, Any]) -> str:
    """Return the SHA-256 (hex) of the canonical serialisation of a letter version."""
    return hashlib.sha256(canonical_letter(number, letter)).hexdigest()


def has_unpublished_changes(appeal: Appeal) -> bool:
    """Return True when the draft differs from the latest published version."""
    latest = appeal.latest_version
    return latest is None or version_letter(latest) != draft_letter(appeal)


def missing_for_publishing(appeal: Appeal) -> list[str]:
    """Return the names of the letter parts a published version needs and the draft lacks."""
    missing = []
    if not appeal.title:
        missing.append("title")
    if not appeal.addressees:
        missing.append("addressees")
    if not appeal.body:
        missing.append("body")
    return missing


def _letter_lines(letter: dict[str, Any]) -> list[str]:
    lines = [f"# {letter['title']}", ""]
    lines += [
        f"{a['name']}, {a['office']}" if a["office"] else a["name"] for a in letter["addressees"]
    ]
    lines += ["", *letter["body"].split("\n"), "", *letter["closing"].split("\n")]
    return lines


def diff_letters(old: dict[str, Any], new: dict[str, Any]) -> list[DiffLine]:
    """Compare two letters line by line."""
    lines = difflib.ndiff(_letter_lines(old), _letter_lines(new))
    return [DiffLine(line[0], line[2:]) for line in lines if line[0] in " +-"]
