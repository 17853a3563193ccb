"""Find signatures that may be one person signing twice, across scripts and spellings.

Each name is folded to one Latin key (names.py). Pairs are never all compared: signatures
meet only in blocks that share a folded word of the name and the consonants of the rest
("madina" + "nlv" holds Налоева, Naloyeva and Nalieva), and a pair is scored with rapidfuzz on
the two keys. Then what else the signers gave raises or lowers the score: the same patronymic,
region, relative concerned, town, email or phone raise it; a different one lowers it (a
different patronymic rules the pair out: a granddaughter named after her grandmother is not
her), and one given by only one of them changes nothing. Emails and phones are compared
normalised, in memory: they are never shown, printed or logged.

Only signatures that count or are flagged are candidates; a pair an organiser marked distinct
(DistinctPair) is never offered again.
"""

from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from functools import cache
from typing import NamedTuple, overload

import numpy as np
import numpy.typing as npt
from flask import current_app
from rapidfuzz import fuzz, process
from sqlalchemy import ColumnElement, bindparam, select

from campaign.extensions import db
from campaign.signatures.contacts import email_identity
from campaign.signatures.models import DistinctPair, Signature, SignatureStatus
from campaign.signatures.names import fold_name, fold_words

CANDIDATES = (SignatureStatus.valid, SignatureStatus.flagged)
# Pairs whose names score below this are not looked at further: no other answer brings them
# to any sensible threshold.
NAME_CUTOFF = 75.0
# Two spellings of one patronymic, town or relative: rapidfuzz ratio of the folded keys, and
# the same first two letters (see _alike).
ALIKE = 85.0
# What agreeing (first) or disagreeing (second) answers add to the name's score (0-100). Two
# patronymics that differ are two people, whatever else agrees: a granddaughter named after
# her grandmother, on one phone, naming one grandson (the sign form's rule too).
WEIGHTS = {
    "patronymic": (5, -100),
    "region": (10, -30),
    "relative": (10, -15),
    "town": (5, -5),
    "email": (15, -5),
    "phone": (15, -5),
}
# The order the agreeing fields are listed in.
FIELDS = ("name", *WEIGHTS)
_VOWELS = str.maketrans("", "", "aeiou ")
# Up to this many distinct values, a field's every couple is scored at once (a table of
# bytes, 4 MB at most); beyond, only the couples that occur.
_TABLE_MAX = 2000


class Pair(NamedTuple):
    """Two signatures that may be one signer; `first_id` signed first."""

    first_id: int
    second_id: int
    score: int
    agree: tuple[str, ...]  # of FIELDS


@dataclass
class _Signers:
    """The candidates, column by column, in signing order."""

    ids: list[int] = field(default_factory=list)
    keys: list[str] = field(default_factory=list)  # surname and given name, folded, sorted
    words: dict[str, tuple[str, ...]] = field(default_factory=dict)  # of each key
    # One column per field of WEIGHTS, in its order; "" when not given.
    answers: tuple[list[str], ...] = field(default_factory=lambda: tuple([] for _ in WEIGHTS))


def threshold() -> int:
    """The desk's threshold: pairs scoring at least this are shown (DUPLICATE_THRESHOLD)."""
    return int(current_app.config["DUPLICATE_THRESHOLD"])


class Pairs(Sequence[Pair]):
    """Pairs found, highest score first, kept as arrays: a Pair is made when it is read (a
    page shows 25 of what may be hundreds of thousands at 100,000 signatures)."""

    def __init__(
        self,
        first_ids: npt.NDArray[np.int64],
        second_ids: npt.NDArray[np.int64],
        scores: npt.NDArray[np.int64],
        agreeing: npt.NDArray[np.int64],
    ) -> None:
        self.first_ids, self.second_ids = first_ids, second_ids
        self.scores, self.agreeing = scores, agreeing

    def __len__(self) -> int:
        return len(self.scores)

    @overload
    def __getitem__(self, index: int) -> Pair: ...

    @overload
    def __getitem__(self, index: slice) -> list[Pair]: ...

    def __getitem__(self, index: int | slice) -> Pair | list[Pair]:
        if isinstance(index, slice):
            return [self[i] for i in range(*index.indices(len(self)))]
        if index < 0:
            index += len(self)
        if not 0 <= index < len(self):
            raise IndexError(index)
        return Pair(
            int(self.first_ids[index]),
            int(self.second_ids[index]),
            int(self.scores[index]),
            _AGREEING[int(self.agreeing[index])],
        )

    def __eq__(self, other: object) -> bool:
        return list(self) == other if isinstance(other, list) else NotImplemented

    __hash__ = None  # type: ignore[assignment]

    def ids(self) -> set[int]:
        """The signatures in any of the pairs."""
        return set(np.union1d(self.first_ids, self.second_ids).tolist())


# The fields a bit mask of agreeing fields names, for every mask.
_AGREEING = [
    tuple(f for bit, f in enumerate(FIELDS) if mask & (1 << bit))
    for mask in range(1 << len(FIELDS))
]


def find_pairs(appeal_id: int, minimum: int | None = None) -> Pairs:
    """Return the candidate pairs scoring at least `minimum` (the desk's threshold), highest
    first, leaving out pairs marked distinct."""
    minimum = threshold() if minimum is None else minimum
    signers = _signers(appeal_id)
    first, second, names = _name_pairs(signers)
    first, second, scores, agreeing = _scores(signers, first, second, names, minimum)
    ids = np.array(signers.ids, dtype=np.int64)
    first_ids, second_ids = ids[first], ids[second]
    distinct = db.session.execute(
        select(DistinctPair.first_id, DistinctPair.second_id).where(
            DistinctPair.appeal_id == appeal_id
        )
    ).all()
    if distinct:
        width = int(ids.max()) + 1
        marked = np.array([a * width + b for a, b in distinct], dtype=np.int64)
        lower, upper = np.minimum(first_ids, second_ids), np.maximum(first_ids, second_ids)
        kept = ~np.isin(lower * width + upper, marked)
        first_ids, second_ids = first_ids[kept], second_ids[kept]
        scores, agreeing = scores[kept], agreeing[kept]
    order = np.lexsort((second_ids, first_ids, -scores))
    return Pairs(first_ids[order], second_ids[order], scores[order], agreeing[order])


def candidate_ids(appeal_id: int) -> set[int]:
    """Return the ids of the signatures in a pair at or above the desk's threshold."""
    return find_pairs(appeal_id).ids()


def in_candidate_pair(appeal_id: int) -> ColumnElement[bool]:
    """A filter for the appeal's signature list: "in a candidate pair" (see find_pairs)."""
    # The ids are written into the statement (they are integers): tens of thousands of them
    # would exceed SQLite's limit of bound parameters.
    ids = bindparam("candidate_ids", sorted(candidate_ids(appeal_id)), literal_execute=True)
    return Signature.id.in_(ids)


def _signers(appeal_id: int) -> _Signers:
    rows = db.session.execute(
        select(
            Signature.id,
            Signature.surname,
            Signature.given_name,
            Signature.patronymic,
            Signature.region,
            Signature.region_other,
            Signature.town,
            Signature.relative_name,
            Signature.relative_key,
            Signature.email,
            Signature.phone,
        )
        .where(Signature.appeal_id == appeal_id, Signature.status.in_(CANDIDATES))
        .order_by(Signature.created_at, Signature.id)
    )
    # Names, towns and regions repeat: each spelling is folded once.
    fold, words_of = cache(fold_name), cache(fold_words)
    signers = _Signers()
    patronymics, regions, relatives, towns, emails, phones = signers.answers
    for row in rows:
        (id_, surname, given_name, patronymic, region, region_other, town) = row[:7]
        relative_name, relative_key, email, phone = row[7:]
        words = tuple(sorted(words_of(surname) + words_of(given_name)))
        if not words:
            continue
        key = " ".join(words)
        signers.ids.append(id_)
        signers.keys.append(key)
        signers.words[key] = words
        patronymics.append(fold(patronymic))
        regions.append(f"other:{fold(region_other)}" if region == "other" else region)
        relatives.append(relative_key or fold(relative_name))
        towns.append(fold(town))
        emails.append(email_identity(email) if email else "")
        phones.append(phone or "")
    return signers


def _blocks(words: tuple[str, ...]) -> Iterator[str]:
    """The blocks a name is compared in: each of its words with the consonants of the others,
    so that one misspelt word still meets its pair in the block of another."""
    if len(words) == 1:
        yield words[0]
        return
    for index, word in enumerate(words):
        rest = words[:index] + words[index + 1 :]
        yield f"{word}|{''.join(rest).translate(_VOWELS)}"


@cache
def _upper_triangle(size: int) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.int64]]:
    rows, columns = np.triu_indices(size, 1)
    return rows.astype(np.int64), columns.astype(np.int64)


Positions = npt.NDArray[np.int64]


def _name_pairs(signers: _Signers) -> tuple[Positions, Positions, npt.NDArray[np.float64]]:
    """Return the pairs whose names are alike (positions in signing order, first < second)
    and the names' score.

    Names are compared as distinct keys, never signer by signer: signers of one key pair with
    each other (score 100), and with the signers of each alike key in a shared block.
    """
    groups: dict[str, list[int]] = {}
    for position, key in enumerate(signers.keys):
        groups.setdefault(key, []).append(position)  # ascending: signing order
    keys = list(groups)
    blocks: dict[str, list[int]] = {}
    for index, key in enumerate(keys):
        for block in _blocks(signers.words[key]):
            blocks.setdefault(block, []).append(index)
    couples = {
        (a, b)
        for members in blocks.values()
        for n, a in enumerate(members)
        for b in members[n + 1 :]
    }
    members = [np.array(groups[key], dtype=np.int64) for key in keys]
    firsts, seconds, names = [], [], []
    for group in members:
        if len(group) > 1:
            rows, columns = _upper_triangle(len(group))
            firsts.append(group[rows])
            seconds.append(group[columns])
            names.append(np.full(len(rows), 100.0))
    for a, b in sorted(couples):
        score = fuzz.ratio(keys[a], keys[b], score_cutoff=NAME_CUTOFF)
        if score:
            left, right = np.meshgrid(members[a], members[b], indexing="ij")
            firsts.append(np.minimum(left, right).ravel())
            seconds.append(np.maximum(left, right).ravel())
            names.append(np.full(left.size, score))
    if not firsts:
        return np.zeros(0, np.int64), np.zeros(0, np.int64), np.zeros(0)
    return np.concatenate(firsts), np.concatenate(seconds), np.concatenate(names)


def _scores(
    signers: _Signers,
    first: Positions,
    second: Positions,
    names: npt.NDArray[np.float64],
    minimum: int,
) -> tuple[Positions, Positions, npt.NDArray[np.int64], npt.NDArray[np.int64]]:
    """Score the pairs (0-100), say which fields agree (a bit per field of FIELDS), and keep
    those scoring at least `minimum`.

    Fields are scored from the cheapest: once a pair cannot reach `minimum` even if every
    field still to score agreed, it is dropped (namesakes of another patronymic, mostly).
    """
    score = names.copy()
    agreeing = (names == 100.0).astype(np.int64)  # the same key: only a key scores 100
    bits = {name: bit for bit, name in enumerate(FIELDS)}
    order = ["region", "email", "phone", "patronymic", "town", "relative"]
    for position, name in enumerate(order):
        more, less = WEIGHTS[name]
        codes, values = _codes(signers.answers[bits[name] - 1])
        a, b = codes[first], codes[second]
        both = (a > 0) & (b > 0)
        same = a == b
        if name not in ("region", "email", "phone"):
            same |= _alike(a, b, both & ~same, values)
        agree = both & same
        score += np.where(agree, more, np.where(both, less, 0))
        agreeing |= agree.astype(np.int64) << bits[name]
        best_still = sum(WEIGHTS[later][0] for later in order[position + 1 :])
        reach = np.flatnonzero(np.clip(score + best_still, 0, 100) >= minimum)
        if len(reach) < len(score):
            first, second, score, agreeing = (
                first[reach],
                second[reach],
                score[reach],
                agreeing[reach],
            )
    scores = np.clip(np.rint(score), 0, 100).astype(np.int64)
    shown = np.flatnonzero(scores >= minimum)
    return first[shown], second[shown], scores[shown], agreeing[shown]


def _codes(values: list[str]) -> tuple[npt.NDArray[np.int64], list[str]]:
    """Number each distinct value from 1 (0: not given); return the numbers and the values."""
    numbers: dict[str, int] = {"": 0}
    codes = np.fromiter(
        (numbers.setdefault(value, len(numbers)) for value in values), np.int64, len(values)
    )
    return codes, list(numbers)


def _alike(
    a: npt.NDArray[np.int64],
    b: npt.NDArray[np.int64],
    differ: npt.NDArray[np.bool_],
    values: list[str],
) -> npt.NDArray[np.bool_]:
    """Whether differing values are spellings of one: ratio >= ALIKE, and the same first two
    letters (Мусаевна and Исаевна are a letter apart, and two fathers)."""
    alike = np.zeros(len(a), dtype=bool)
    if not differ.any():
        return alike
    a, b = a[differ], b[differ]
    prefixes = _codes([value[:2] for value in values])[0]
    same_start = prefixes[a] == prefixes[b]
    if len(values) <= _TABLE_MAX:
        # Few values (patronymics, towns): every couple at once, looked up by position.
        table = process.cdist(
            values, values, scorer=fuzz.ratio, score_cutoff=ALIKE, dtype=np.uint8, workers=1
        )
        alike[differ] = same_start & (table[a, b] > 0)
        return alike
    # Many (relatives' names): each couple that occurs, once.
    width = len(values)
    couples, where = np.unique(a * width + b, return_inverse=True)
    verdicts = np.fromiter(
        (
            fuzz.ratio(values[c // width], values[c % width], score_cutoff=ALIKE) > 0
            for c in couples.tolist()
        ),
        bool,
        len(couples),
    )
    alike[differ] = same_start & verdicts[where]
    return alike
