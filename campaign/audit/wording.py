"""Words for what an audit event is about: its subject and its details, in the reader's language.

Events store ids, counts, flags and codes; the owner reads labels and words. A key or code
this module does not know still shows, with its underscores as spaces, rather than failing.
"""

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from flask_babel import LazyString, format_decimal
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from campaign.appeals.forms import ROLE_LABELS
from campaign.audit.models import AuditEvent

# What each kind of subject is called, with its number. The appeal itself is left out: the log
# is the appeal's own.
_SUBJECTS: dict[str, LazyString] = {
    "signature": _l("signature No. %(number)d"),
    "submission": _l("submission No. %(number)d"),
    "scan": _l("scan No. %(number)d"),
    "mailing": _l("mailing No. %(number)d"),
    "person_concerned": _l("family No. %(number)d"),
    "invitation": _l("invitation No. %(number)d"),
    "user": _l("member No. %(number)d"),
}

_KEYS: dict[str, LazyString] = {
    "channel": _l("channel"),
    "dossier": _l("dossier"),
    "dossiers": _l("dossiers"),
    "duplicate_of": _l("duplicate of signature"),
    "edition": _l("edition"),
    "extension_days": _l("term extended by, days"),
    "families": _l("families"),
    "first": _l("first sheet"),
    "format": _l("format"),
    "image": _l("with a scan"),
    "invitation": _l("invitation"),
    "kind": _l("kind"),
    "mails": _l("messages"),
    "merged": _l("families merged into it"),
    "messages": _l("messages"),
    "moved": _l("signers moved"),
    "new": _l("new family"),
    "next_hop": _l("forwarded, new submission"),
    "other": _l("other signature"),
    "previous": _l("previous role"),
    "private": _l("with private details"),
    "public": _l("shown on the public page"),
    "questions": _l("own questions"),
    "reason": _l("why"),
    "recipients": _l("recipients"),
    "registered": _l("registration date given"),
    "role": _l("role"),
    "rows": _l("rows"),
    "scans": _l("scans"),
    "sheet": _l("sheet"),
    "sheets": _l("sheets"),
    "signatures": _l("signatures"),
    "signers": _l("signers"),
    "size": _l("size"),
    "submission": _l("submission"),
    "tables": _l("tables"),
    "total": _l("signatures counted"),
    "unsubscribed": _l("left out, unsubscribed"),
    "version": _l("version"),
}

# "kind" means something else in each action that records it.
_KINDS: dict[str, LazyString] = {
    "submission.answered": _l("answer"),
    "submission.scan_added": _l("scan of"),
    "submission.followup_drafted": _l("letter"),
    "sheets.scan_stored": _l("file type"),
}

_REASONS: dict[str, LazyString] = {
    "owner": _l("an owner asked"),
    "retention": _l("the retention time was over"),
    "withdrawal": _l("a signer withdrew"),
    "expired": _l("not imported in time"),
    "maker_not_owner": _l("the owner who made it is no longer one"),
}

_ROLES: dict[str, LazyString] = {role.name: label for role, label in ROLE_LABELS.items()}
Words = Callable[[str], Any]  # a code's words (a str or a LazyString), None if unknown
# The words of coded details, by key; those of "kind", which means something else in each
# action, by action. The parts above the audit log that record codes give their own words
# (register_words), so that the log does not import them.
_CODE_WORDS: dict[str, Words] = {
    "reason": _REASONS.get,
    "role": _ROLES.get,
    "previous": _ROLES.get,
}
_KIND_WORDS: dict[str, Words] = {}


def register_words(key: str, words: Mapping[str, Any] | Words, *, action: str = "") -> None:
    """Give the words of a detail's codes: of `key`, or of "kind" in `action`'s events."""
    lookup = words.get if isinstance(words, Mapping) else words
    if action:
        _KIND_WORDS[action] = lookup
    else:
        _CODE_WORDS[key] = lookup


# Details that are the number of a row elsewhere (a signature, a submission...), not a count.
_NUMBERS = {
    "duplicate_of",
    "first",
    "invitation",
    "merged",
    "new",
    "next_hop",
    "other",
    "sheet",
    "submission",
}


@dataclass
class About:
    """The words of an event's "About" cell: its subject, then its details as label and value."""

    subject: str | None
    details: list[tuple[str, str]] = field(default_factory=list)


def describe(event: AuditEvent, names: Mapping[int, str] | None = None) -> About:
    """Put an event's subject and details into words; `names` of members by user id."""
    details = []
    for key, value in event.details.items():
        words = _value(event.action, key, value)
        if words is not None:
            details.append((_label(event.action, key), words))
    return About(_subject(event, names or {}), details)


def _subject(event: AuditEvent, names: Mapping[int, str]) -> str | None:
    number = event.subject_id
    if number is None or event.subject_type in ("", "appeal"):
        return None
    if event.subject_type == "user" and number in names:
        return names[number]
    if event.subject_type in _SUBJECTS:
        return str(_SUBJECTS[event.subject_type] % {"number": number})
    return f"{_plain(event.subject_type)} {_number(number)}"


def _label(action: str, key: str) -> str:
    if key == "kind" and action in _KINDS:
        return str(_KINDS[action])
    return str(_KEYS[key]) if key in _KEYS else _plain(key)


def _value(action: str, key: str, value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, bool):
        return _("yes") if value else _("no")
    if isinstance(value, list | tuple):
        return ", ".join(_number(item) for item in value)
    if isinstance(value, int | float):
        if key in _NUMBERS:
            return _number(value)
        return _size(value) if key == "size" else format_decimal(value)
    return _code(action, key, str(value))


def _code(action: str, key: str, code: str) -> str:
    lookup = _KIND_WORDS.get(action) if key == "kind" else _CODE_WORDS.get(key)
    words = lookup(code) if lookup is not None else None
    if words is not None:
        return str(words)
    if key == "format" or (key, action) == ("kind", "sheets.scan_stored"):
        return code.upper()  # a file's format: csv, xlsx, pdf, jpg...
    return code if key == "dossier" else _plain(code)


def _number(value: Any) -> str:
    return _("No. %(number)s", number=value)


def _size(size: float) -> str:
    return _("%(size)s KB", size=format_decimal(max(round(size / 1024), 1)))


def _plain(code: str) -> str:
    return code.replace("_", " ").replace(".", " ")
