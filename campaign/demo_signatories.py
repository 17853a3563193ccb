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
# _pick's tables by their id (each kept here with its values and running totals): module
# constants only, which live as long as this.
_TABLES: dict[int, tuple[object, tuple[Any, ...], list[int]]] = {}


@dataclass(frozen=True)
class People:
    """Names common in one region: masculine surnames, women's and men's given names."""

    surnames: tuple[str, ...]
    women: tuple[str, ...]
    men: tuple[str, ...]


CHECHEN = People(
    surnames=("Мусаев", "Умаров", "Ахмадов", "Исаев", "Хасанов", "Садулаев", "Эльмурзаев",
              "Батукаев", "Висаитов", "Закриев", "Межидов", "Тимиров", "Хамзатов", "Магомадов",
              "Ибрагимов", "Юсупов", "Абдулаев", "Дениев", "Гайсултанов", "Шахбиев"),
    women=("Мадина", "Айша", "Зарема", "Хава", "Петимат", "Малика", "Луиза", "Марьям", "Седа",
           "Зулихан", "Хеда", "Тамара", "Раиса", "Зура", "Амина", "Элина", "Милана", "Хадижат",
           "Бирлант", "Асет"),
    men=("Руслан", "Ахмед", "Магомед", "Ислам", "Ваха", "Адам", "Хасан", "Муса", "Иса", "Саид",
         "Умар", "Ибрагим", "Сулейман", "Мовсар", "Анзор", "Хусейн", "Ахмат", "Аслан"),
)  # fmt: skip
DAGESTANI = People(
    surnames=("Гаджиев", "Магомедов", "Абдурахманов", "Алиев", "Рамазанов", "Омаров", "Курбанов",
              "Гасанов", "Исмаилов", "Абакаров", "Джабраилов", "Халилов", "Шамилов",
              "Муртазалиев", "Газимагомедов", "Сулейманов", "Нурмагомедов", "Алибеков"),
    women=("Патимат", "Хадижат", "Аминат", "Мадина", "Заира", "Салихат", "Асият", "Разият",
           "Марьям", "Зайнаб", "Айша", "Сапият", "Загидат", "Маржанат", "Джамиля", "Муслимат"),
    men=("Магомед", "Гаджи", "Абдулла", "Рамазан", "Шамиль", "Ахмед", "Али", "Омар", "Ибрагим",
         "Мурад", "Арсен", "Расул", "Камиль", "Гасан", "Исмаил", "Курбан"),
)  # fmt: skip
INGUSH = People(
    surnames=("Кодзоев", "Евлоев", "Мальсагов", "Аушев", "Костоев", "Оздоев", "Цечоев", "Яндиев",
              "Хамхоев", "Точиев", "Ганижев", "Плиев", "Мержоев", "Булгучев"),
    women=("Мадина", "Зарема", "Луиза", "Хава", "Малика", "Фатима", "Лейла", "Марем", "Зейнап",
           "Макка", "Радима", "Амина", "Хадишат"),
    men=("Ахмед", "Магомед", "Руслан", "Ибрагим", "Ильяс", "Адам", "Хасан", "Муса", "Заурбек",
         "Тимур", "Беслан", "Алихан"),
)  # fmt: skip
KABARDINO_BALKAR = People(
    surnames=("Налоев", "Шогенов", "Кушхов", "Тлостанов", "Карданов", "Хажметов", "Бжахов",
              "Эльмесов", "Гуртуев", "Мокаев", "Тхакахов", "Кудаев"),
    women=("Мадина", "Фатима", "Марьяна", "Залина", "Лиана", "Асият", "Зарина", "Жанна",
           "Марина", "Амина", "Аминат"),
    men=("Мурат", "Аслан", "Заур", "Казбек", "Тимур", "Мухамед", "Анзор", "Беслан", "Руслан",
         "Алим", "Хасан"),
)  # fmt: skip
KARACHAY_CHERKESS = People(
    surnames=("Байрамуков", "Узденов", "Лайпанов", "Эркенов", "Батчаев", "Хубиев", "Чомаев",
              "Шебзухов", "Хапаев", "Салпагаров", "Каракетов"),
    women=("Фатима", "Аминат", "Халимат", "Мариям", "Зарема", "Мадина", "Лейла", "Асият",
           "Хаджар"),
    men=("Мурат", "Руслан", "Ахмат", "Азамат", "Ислам", "Рашид", "Тимур", "Алибек", "Магомед"),
)  # fmt: skip
OSSETIAN = People(
    surnames=("Цаголов", "Тедеев", "Кочиев", "Гуриев", "Дзуцев", "Цаллагов", "Басиев", "Бестаев",
              "Мамиев", "Козаев", "Габуев", "Хугаев"),
    women=("Залина", "Фатима", "Мадина", "Зарина", "Тамара", "Алана", "Диана", "Лаура", "Ирина"),
    men=("Алан", "Тимур", "Казбек", "Сослан", "Заур", "Аслан", "Батраз", "Руслан", "Маирбек"),
)  # fmt: skip

# (weight, towns with weights); Chechnya and Dagestan weigh most, as they lead the
# letter's list of regions.
REGIONS: dict[str, tuple[int, tuple[tuple[str, int], ...]]] = {
    "RU-CE": (34, (("Грозный", 6), ("Гудермес", 2), ("Аргун", 2), ("Урус-Мартан", 2),
                   ("Шали", 2), ("Курчалой", 1), ("Ачхой-Мартан", 1))),
    "RU-DA": (28, (("Махачкала", 6), ("Хасавюрт", 3), ("Дербент", 2), ("Буйнакск", 2),
                   ("Кизляр", 1), ("Каспийск", 2), ("Кизилюрт", 1))),
    "RU-IN": (11, (("Назрань", 4), ("Магас", 1), ("Карабулак", 2), ("Малгобек", 2),
                   ("Сунжа", 2))),
    "RU-KB": (9, (("Нальчик", 5), ("Баксан", 2), ("Прохладный", 1), ("Тырныауз", 1))),
    "RU-KC": (7, (("Черкесск", 4), ("Карачаевск", 2), ("Усть-Джегута", 1))),
    "RU-SE": (5, (("Владикавказ", 5), ("Беслан", 1), ("Моздок", 1))),
    "RU-STA": (6, (("Ставрополь", 3), ("Пятигорск", 2), ("Будённовск", 1), ("Кисловодск", 1),
                   ("Нефтекумск", 1))),
}  # fmt: skip
REGION_WEIGHTS = tuple((code, weight) for code, (weight, _) in REGIONS.items())
PEOPLE = {
    "RU-CE": CHECHEN,
    "RU-DA": DAGESTANI,
    "RU-IN": INGUSH,
    "RU-KB": KABARDINO_BALKAR,
    "RU-KC": KARACHAY_CHERKESS,
    "RU-SE": OSSETIAN,
}
# Stavropol Krai has no people of its own here: its families come from its neighbours.
STAVROPOL_PEOPLE = ((DAGESTANI, 3), (CHECHEN, 2), (KARACHAY_CHERKESS, 1), (OSSETIAN, 1))

# Relationships from DEFAULT_RELATIONSHIPS["ru"] by the signatory's gender; mostly women sign,
# as the letter is the mothers' and wives'.
WOMEN_RELATIONSHIPS = (("мать", 44), ("жена", 18), ("сестра", 14), ("бабушка", 7), ("дочь", 6),
                       ("свекровь", 4), ("другой родственник", 3), ("сторонник", 4))  # fmt: skip
MEN_RELATIONSHIPS = (("отец", 34), ("брат", 24), ("муж", 10), ("сын", 8), ("дедушка", 8),
                     ("свёкор", 5), ("другой родственник", 5), ("сторонник", 6))  # fmt: skip
# Who the relative held in Iraq is: (weights of a man, of a woman), and whether they share the
# signatory's family name. A supporter has no relative there.
RELATIVES: dict[str, tuple[tuple[int, int], bool]] = {
    "мать": ((85, 15), True),  # a son, sometimes a daughter
    "отец": ((85, 15), True),
    "бабушка": ((75, 25), True),  # a grandchild
    "дедушка": ((75, 25), True),
    "жена": ((1, 0), True),  # her husband
    "муж": ((0, 1), True),  # his wife
    "сестра": ((80, 20), True),
    "брат": ((80, 20), True),
    "дочь": ((75, 25), True),  # a parent
    "сын": ((75, 25), True),
    "свекровь": ((0, 1), True),  # a daughter-in-law, who took the family's name
    "свёкор": ((0, 1), True),
    "другой родственник": ((75, 25), False),
}
LOCATIONS = (
    ("Багдад, тюрьма Русафа", 35),
    ("Тюрьма Эль-Кадхимия", 22),
    ("Эрбиль", 10),
    ("Багдад", 10),
    ("Насирия, центральная тюрьма", 5),
    ("Неизвестно", 10),
    ("", 8),
)
CHILDREN = ((0, 46), (1, 20), (2, 17), (3, 10), (4, 7))
DISPLAYS = ((Display.initials, 70), (Display.full, 20), (Display.hidden, 10))


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
