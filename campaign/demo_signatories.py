"""Fictional signatories for the demo appeal: families of the North Caucasus, drawn signatures.

Everything comes from `random.Random(count)`, so the same count always gives the same people
in the same order; only the timestamps move with the clock. Nobody here is a real person, and
no contact data is invented: demo rows have no email, phone or postal address.
"""

import random
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from functools import lru_cache
from itertools import accumulate, islice
from typing import Any, TypeVar

from sqlalchemy import delete, insert

from campaign.appeals.models import Appeal, SignatureTally
from campaign.bulk_rows import insert_numbered_rows, insert_rows
from campaign.clock import utcnow
from campaign.demo_drawing import IMAGE_HEIGHT, IMAGE_WIDTH, distinct_images
from campaign.demo_people import (
    CHILDREN,
    DISPLAYS,
    LOCATIONS,
    MEN_RELATIONSHIPS,
    PEOPLE,
    REGION_WEIGHTS,
    REGIONS,
    RELATIVES,
    STAVROPOL_PEOPLE,
    WOMEN_RELATIONSHIPS,
)
from campaign.extensions import db
from campaign.signatures.family_matching import Signer, folded, place_key, place_signers, region_key
from campaign.signatures.models import (
    Display,
    PersonConcerned,
    Signature,
    SignatureImage,
    SignatureStatus,
    png_fingerprint,
)
from campaign.signatures.name_words import index_names
from campaign.signatures.names import fold_name
from campaign.signatures.settings import consent_text, sign_form_settings

# Signatures are spread over this many days before the command runs.
WINDOW = timedelta(days=30)
CHUNK = 2000

T = TypeVar("T")
# _pick's tables by their id (each kept here with its values and running totals): demo_people's
# module constants only, which live as long as this.
_TABLES: dict[int, tuple[object, tuple[Any, ...], list[int]]] = {}


@dataclass(frozen=True)
class Signatory:
    """A fictional signatory, as the sign form would have recorded them."""

    surname: str
    given_name: str
    patronymic: str
    region: str
    town: str
    relationship: str
    relative_name: str
    relative_location: str
    children: int | None
    display: Display
    image_seed: int
    age: timedelta  # how long before the command they signed
    relative_public: bool = False  # agreed to show her relative's details publicly


def _pick(rng: random.Random, weighted: Sequence[tuple[T, int]]) -> T:
    # The constant tables' values and running totals, summed once (as rng.choices sums the
    # weights it is given: the same draws); drawing 100,000 people made them a million times.
    table = _TABLES.get(id(weighted))
    if table is None:
        values, weights = zip(*weighted, strict=True)
        table = _TABLES[id(weighted)] = (weighted, values, list(accumulate(weights)))
    return rng.choices(table[1], cum_weights=table[2])[0]


def feminine(surname: str) -> str:
    """Return the feminine form of a surname ending in -ов, -ев or -ин."""
    return surname + "а"


def patronymic(father: str, *, woman: bool) -> str:
    """Return the patronymic from a father's given name (Руслан: Русланович, Руслановна)."""
    if father.endswith("ь"):
        stem = father[:-1] + "ев"  # Шамиль: Шамилевич
    elif father[-1] in "аеиоуыэюя":
        stem = father + "ев"  # Муса: Мусаевич, Али: Алиевич
    else:
        stem = father + "ов"
    return stem + ("на" if woman else "ич")


def _surname(family: str, woman: bool) -> str:
    return feminine(family) if woman else family


def _signatory(rng: random.Random) -> Signatory:
    region = _pick(rng, REGION_WEIGHTS)
    people = PEOPLE.get(region) or _pick(rng, STAVROPOL_PEOPLE)
    woman = rng.random() < 0.8
    family = rng.choice(people.surnames)
    given_name = rng.choice(people.women if woman else people.men)
    relationship = _pick(rng, WOMEN_RELATIONSHIPS if woman else MEN_RELATIONSHIPS)
    relative_name, relative_location, children = "", "", None
    if relationship in RELATIVES:
        genders, same_family = RELATIVES[relationship]
        relative_woman = rng.choices((False, True), genders)[0]
        relative_family = family if same_family else rng.choice(people.surnames)
        # Not the signatory's own name: a mother-in-law named like her daughter-in-law reads oddly.
        names = [
            name for name in (people.women if relative_woman else people.men) if name != given_name
        ]
        relative_name = f"{_surname(relative_family, relative_woman)} {rng.choice(names)}"
        if relationship == "отец":
            relative_name += " " + patronymic(given_name, woman=relative_woman)
        relative_location = _pick(rng, LOCATIONS)
        children = None if rng.random() < 0.12 else _pick(rng, CHILDREN)
    return Signatory(
        surname=_surname(family, woman),
        given_name=given_name,
        patronymic=patronymic(rng.choice(people.men), woman=woman) if rng.random() < 0.9 else "",
        region=region,
        town=_pick(rng, REGIONS[region][1]) if rng.random() < 0.88 else "",
        relationship=relationship,
        relative_name=relative_name,
        relative_location=relative_location,
        children=children,
        display=_pick(rng, DISPLAYS),
        image_seed=(seed := rng.getrandbits(63)),
        age=timedelta(0),
        # A third of those naming a relative agree, drawn from the seed: the same people as
        # before this choice existed.
        relative_public=bool(relative_name) and seed % 3 == 0,
    )


def fictional_signatories(count: int) -> list[Signatory]:
    """Return `count` fictional signatories, the same ones for the same count, oldest first."""
    # Reproducible fictional data, not a secret: a seeded PRNG is what is wanted here.
    rng = random.Random(count)  # noqa: S311
    people = [_signatory(rng) for _ in range(count)]
    # Most sign in the first days after publishing, fewer later (skewed towards the oldest).
    seconds = WINDOW.total_seconds()
    ages = sorted((int(seconds * rng.random() ** 0.6) for _ in range(count)), reverse=True)
    return [
        replace(person, age=timedelta(seconds=age))
        for person, age in zip(people, ages, strict=True)
    ]


def replace_demo_signatories(
    appeal: Appeal,
    count: int,
    now: datetime | None = None,
    *,
    pause_at: datetime | None = None,
    pause: Callable[[], None] | None = None,
) -> None:
    """Replace every signature of the demo appeal by `count` fictional valid ones.

    Only for the demo appeal: its signatures, families and tallies are deleted outright, not
    withdrawn. With `pause`, the signatures made before `pause_at` are stored first, counted,
    indexed and in their families, as they were then; `pause` is called (the demo hands in
    its dossier of that moment) and the later ones are stored after it.
    """
    now = (now or utcnow()).replace(microsecond=0)
    # Images, answers and name words go with their signatures (ON DELETE CASCADE).
    for statement in (
        delete(Signature).where(Signature.appeal_id == appeal.id),
        delete(PersonConcerned).where(PersonConcerned.appeal_id == appeal.id),
        delete(SignatureTally).where(SignatureTally.appeal_id == appeal.id),
    ):
        db.session.execute(statement, execution_options={"synchronize_session": False})
    people = fictional_signatories(count)
    # Drawn by other processes meanwhile, while this one stores rows (and renders, at pause).
    images = distinct_images([person.image_seed for person in people])
    store = _Store(appeal, now, people)
    split = count
    if pause is not None and pause_at is not None:
        split = next((n for n, p in enumerate(people) if now - p.age >= pause_at), count)
    for start in range(0, split, CHUNK):
        store.insert(range(start, min(start + CHUNK, split)), images)
    if pause is not None:
        store.count(people[:split])
        pause()
    for start in range(split, count, CHUNK):
        store.insert(range(start, min(start + CHUNK, count)), images)
    store.count(people)


class _Store:
    """Stores the demo's signatories in bulk: their rows, drawings, name words and families."""

    def __init__(self, appeal: Appeal, now: datetime, people: list[Signatory]) -> None:
        self.appeal, self.now, self.people = appeal, now, people
        self.consent = consent_text(sign_form_settings(appeal), appeal.language)
        self.version_id = appeal.latest_version.id
        # Their families as signing would have placed them, one after another: the order a
        # recompute follows too (signing time, then id, which grows with it here).
        self.signers = [
            Signer(
                id=n,
                key=folded(person.relative_name),
                region=region_key(person.region, ""),
                place=place_key(person.relative_location),
                family_id=None,
                fixed=False,
            )
            for n, person in enumerate(people)
        ]
        self.family_of = place_signers(self.signers)
        self.family_ids: dict[int | str, int] = {}
        # Names repeat (30,000 distinct among 100,000): fold each once.
        self.fold = lru_cache(maxsize=None)(fold_name)

    def insert(self, positions: range, images: Iterator[bytes]) -> None:
        """Store the people at these positions, with the next drawings."""
        self._store_families(positions)
        rows = [self._row(n) for n in positions]
        # Core, not ORM, inserts: the ORM splits rows into one statement per run of rows with
        # the same None columns (children), which made 20,000 rows take 20,000 statements.
        ids = insert_numbered_rows(Signature.__table__, rows)
        insert_rows(
            SignatureImage.__table__,
            [
                {
                    "signature_id": id_,
                    "png": png,
                    "png_sha256": png_fingerprint(png),
                    "width": IMAGE_WIDTH,
                    "height": IMAGE_HEIGHT,
                }
                for id_, png in zip(ids, islice(images, len(ids)), strict=True)
            ],
        )
        # The list's search words: a Core insert runs no ORM event.
        index_names(self.appeal.id, zip(ids, (row["name_key"] for row in rows), strict=True))

    def _store_families(self, positions: range) -> None:
        """Store the families first joined by someone at these positions."""
        new: dict[int | str, datetime] = {}
        for n in positions:
            label = self.family_of.get(n)
            if label is not None and label not in self.family_ids and label not in new:
                new[label] = self.now - self.people[n].age
        if new:
            ids = insert_numbered_rows(
                PersonConcerned.__table__,
                [{"appeal_id": self.appeal.id, "created_at": at} for at in new.values()],
            )
            self.family_ids.update(zip(new, ids, strict=True))

    def _row(self, n: int) -> dict[str, object]:
        person, signer = self.people[n], self.signers[n]
        signed_at = self.now - person.age
        label = self.family_of.get(n)
        return {
            "appeal_id": self.appeal.id,
            "version_id": self.version_id,
            "status": SignatureStatus.valid,
            "created_at": signed_at,
            "confirmed_at": signed_at,
            "surname": person.surname,
            "given_name": person.given_name,
            "patronymic": person.patronymic,
            # The list's search key: a Core insert runs no ORM event.
            "name_key": self.fold(person.surname, person.given_name, person.patronymic),
            "region": person.region,
            "town": person.town,
            "relationship": person.relationship,
            "relative_name": person.relative_name,
            "relative_location": person.relative_location,
            "relative_key": signer.key,
            "person_concerned_id": None if label is None else self.family_ids[label],
            "children": person.children,
            "display": person.display,
            "relative_public": person.relative_public,
            "consent_text": self.consent,
            "consent_at": signed_at,
        }

    def count(self, people: Sequence[Signatory]) -> None:
        """Set the tallies to these people: one shard per region holds the whole count
        (signing later spreads over the other shards)."""
        appeal_id = self.appeal.id
        db.session.execute(
            delete(SignatureTally).where(SignatureTally.appeal_id == appeal_id),
            execution_options={"synchronize_session": False},
        )
        regions = Counter(person.region for person in people)
        if regions:
            db.session.execute(
                insert(SignatureTally),
                [
                    {"appeal_id": appeal_id, "region": region, "shard": 0, "count": n}
                    for region, n in sorted(regions.items())
                ],
            )
