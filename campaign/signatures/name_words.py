"""The words of signers' names in an index (signature_name_word), for the desk's search.

`name_key LIKE 'nal%' OR name_key LIKE '% nal%'` can use no index: the list walks its own
index in order and tests each name until a page is full, which is quick when many names
match and reads all 100,000 when few do ("madina nal": 64). A search word whose names are
few is looked up here by its start instead, and the list sorts those few.
"""

from collections.abc import Iterable

from sqlalchemy import ColumnElement, CompoundSelect, Select, func, intersect, select

from campaign.bulk_rows import insert_rows
from campaign.extensions import db
from campaign.signatures.models import Signature, SignatureNameWord, name_words

# Names found through the word index up to this many; beyond, walking the list in order finds
# a page sooner (at 100,000 names, a page of 50 lies within the first 2,500 names walked).
MAX_LOOKED_UP = 2000
_ALPHABET = "0123456789abcdefghijklmnopqrstuvwxyz"  # of folded words (names.fold_words)
_BATCH = 5000


def _after_prefix(prefix: str) -> str | None:
    """The first word past every word starting with `prefix` (None: no such bound)."""
    stem = prefix.rstrip("z")
    if not stem or stem[-1] not in _ALPHABET:
        return None
    return stem[:-1] + _ALPHABET[_ALPHABET.index(stem[-1]) + 1]


def _starting_with(appeal_id: int, prefix: str) -> list[ColumnElement[bool]]:
    # A range the index answers, then the prefix itself (exact whatever the collation).
    conditions = [
        SignatureNameWord.appeal_id == appeal_id,
        SignatureNameWord.word >= prefix,
        SignatureNameWord.word.startswith(prefix, autoescape=True),
    ]
    bound = _after_prefix(prefix)
    if bound is not None:
        conditions.append(SignatureNameWord.word < bound)
    return conditions


def signatures_with_word(appeal_id: int, prefix: str) -> Select[tuple[int]]:
    """The ids of the appeal's signatures with a name word starting with `prefix`."""
    return select(SignatureNameWord.signature_id).where(*_starting_with(appeal_id, prefix))


def _count(ids: Select[tuple[int]] | CompoundSelect) -> int:
    return db.session.scalar(select(func.count()).select_from(ids.subquery())) or 0


def few_with_words(
    appeal_id: int, prefixes: list[str]
) -> Select[tuple[int]] | CompoundSelect | None:
    """The ids of the signatures with a word starting with each prefix, if at most
    MAX_LOOKED_UP of them are found so (the rarest word's, or the words' together); else None,
    and walking the list finds a page sooner."""
    if not prefixes:
        return None
    each = {prefix: signatures_with_word(appeal_id, prefix) for prefix in prefixes}
    counts = {prefix: _count(ids) for prefix, ids in each.items()}
    rarest = min(counts, key=counts.__getitem__)
    if counts[rarest] <= MAX_LOOKED_UP:
        return each[rarest]
    if len(each) == 1:
        return None
    # Common words, perhaps rare together ("madina aisha"): the index intersects them.
    together = intersect(*each.values())
    return together if _count(together) <= MAX_LOOKED_UP else None


def index_new_signatures(appeal_id: int, after_id: int) -> int:
    """Index the name words of the appeal's signatures with an id above `after_id` that have
    none yet (rows inserted in bulk, with no ORM events); return how many words. Flushes."""
    indexed = select(SignatureNameWord.signature_id).where(
        SignatureNameWord.signature_id == Signature.id
    )
    missing = (
        select(Signature.id, Signature.name_key)
        .where(Signature.appeal_id == appeal_id, Signature.id > after_id, ~indexed.exists())
        .order_by(Signature.id)
    )
    added = index_names(appeal_id, db.session.execute(missing).all())
    db.session.flush()
    return added


def index_names(appeal_id: int, keys: Iterable[tuple[int, str]]) -> int:
    """Index the name words of signatures given as (id, name_key) that have none yet (rows
    inserted in bulk, whose ids the caller knows); return how many words."""
    added = 0
    batch: list[dict[str, object]] = []
    for signature_id, key in keys:
        batch += [
            {"appeal_id": appeal_id, "word": word, "signature_id": signature_id}
            for word in name_words(key)
        ]
        if len(batch) >= _BATCH:
            insert_rows(SignatureNameWord.__table__, batch)
            added, batch = added + len(batch), []
    if batch:
        insert_rows(SignatureNameWord.__table__, batch)
        added += len(batch)
    return added


def last_signature_id() -> int:
    """The highest signature id so far (0: none): what index_new_signatures starts after."""
    return db.session.scalar(select(func.max(Signature.id))) or 0
