"""Fictional signatories for the demo appeal: families of the North Caucasus, drawn signatures.

Everything comes from `random.Random(count)`, so the same count always gives the same people
in the same order; only the timestamps move with the clock. Nobody here is a real person, and
no contact data is invented: demo rows have no email, phone or postal address.
"""

import hashlib
import multiprocessing
import os
import random
from collections import Counter
from collections.abc import Iterator, Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from itertools import islice, pairwise
from typing import TypeVar

from PIL import Image, ImageDraw
from sqlalchemy import delete, insert

from campaign.appeals.models import Appeal, SignatureTally
from campaign.clock import utcnow
from campaign.extensions import db
from campaign.signatures.families import recompute_families
from campaign.signatures.images import encode_png
from campaign.signatures.models import Display, Signature, SignatureImage, SignatureStatus
from campaign.signatures.name_words import index_new_signatures
from campaign.signatures.names import fold_name
from campaign.signatures.settings import consent_text, sign_form_settings
from campaign.upstream_warnings import silence_upstream_warnings

# Signatures are spread over this many days before the command runs.
WINDOW = timedelta(days=30)
IMAGE_WIDTH, IMAGE_HEIGHT = 300, 100
MARGIN = 3  # keeps the widest pen inside the canvas
CHUNK = 2000
# From this many signatories on, other processes draw the signatures (starting them costs
# more than drawing a few hundred here).
PROCESS_AT_LEAST = 2000

T = TypeVar("T")


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
INKS = ((20, 24, 60), (15, 15, 15), (25, 45, 120))  # fmt: skip


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
    values, weights = zip(*weighted, strict=True)
    return rng.choices(values, weights)[0]


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
    region = _pick(rng, [(code, weight) for code, (weight, _) in REGIONS.items()])
    people = PEOPLE.get(region) or _pick(rng, STAVROPOL_PEOPLE)
    woman = rng.random() < 0.8
    family = rng.choice(people.surnames)
    given_name = rng.choice(people.women if woman else people.men)
    relationship = _pick(rng, WOMEN_RELATIONSHIPS if woman else MEN_RELATIONSHIPS)
    relative_name, relative_location, children = "", "", None
    if relationship in RELATIVES:
        genders, same_family = RELATIVES[relationship]
        relative_woman = _pick(rng, ((False, genders[0]), (True, genders[1])))
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


def _curve(anchors: list[tuple[float, float]], samples: int) -> list[tuple[float, float]]:
    """Sample a smooth curve through the anchors: quadratic Béziers joined at midpoints."""
    pieces = len(anchors) - 2
    joins = [anchors[0]]
    joins += [((a[0] + b[0]) / 2, (a[1] + b[1]) / 2) for a, b in pairwise(anchors[1:-1])]
    joins.append(anchors[-1])
    points = []
    for k in range(samples):
        t = k * pieces / (samples - 1)
        i = min(int(t), pieces - 1)
        u = t - i
        (x0, y0), (cx, cy), (x1, y1) = joins[i], anchors[i + 1], joins[i + 1]
        a, b, c = (1 - u) ** 2, 2 * (1 - u) * u, u * u
        points.append((a * x0 + b * cx + c * x1, a * y0 + b * cy + c * y1))
    return points


def draw_signature(seed: int) -> bytes:
    """Draw a handwritten-looking signature, the same for the same seed, as a PNG.

    The ink is on white, as signing stores a drawn signature (signatures.images.clean_png).
    """
    rng = random.Random(seed)  # noqa: S311 - a reproducible drawing, not a secret
    image = Image.new("RGB", (IMAGE_WIDTH, IMAGE_HEIGHT), (255, 255, 255))
    draw = ImageDraw.Draw(image)
    ink, width = rng.choice(INKS), rng.choice((2, 3))
    right, bottom = IMAGE_WIDTH - MARGIN, IMAGE_HEIGHT - MARGIN
    x, baseline = rng.uniform(10, 40), IMAGE_HEIGHT / 2 + rng.uniform(-8, 8)
    strokes = rng.randint(3, 6)
    # Words share the width left, so that the last ones are not crowded against the edge.
    share = (IMAGE_WIDTH - 15 - x) / strokes
    for stroke in range(strokes):
        span = share * rng.uniform(0.9, 1.3)
        n = rng.randint(4, 8)
        if stroke == strokes - 1 and rng.random() < 0.4:
            # An underline flourish under what came before.
            start, span, height = rng.uniform(5, 40), rng.uniform(120, 240), rng.uniform(2, 8)
            y0 = baseline + rng.uniform(18, 30)
        else:
            # A word: humps going up and down along a drifting baseline, a tall first letter.
            start, height = x, rng.uniform(30, 42) if stroke == 0 else rng.uniform(12, 30)
            y0 = baseline
            x += share * rng.uniform(0.9, 1.1)
            baseline += rng.uniform(-6, 6)
        # The curve stays within its anchors' hull, so keeping the anchors on the canvas
        # keeps the whole stroke on it.
        anchors = [
            (
                min(max(start + span * j / (n - 1) + rng.uniform(-6, 6), MARGIN), right),
                min(max(y0 + (-1) ** j * height * rng.uniform(0.3, 1), MARGIN), bottom),
            )
            for j in range(n)
        ]
        draw.line(_curve(anchors, rng.randint(10, 30)), fill=ink, width=width, joint="curve")
    # Level 4: 0.3 ms a signature, 100,000 of them drawn at each load.
    return encode_png(image, level=4)


def _distinct_images(seeds: list[int]) -> Iterator[bytes]:
    """Yield a signature per seed, in order; a repeated drawing is drawn again from seed + 1.

    Many are drawn in other processes (drawing holds the GIL, and this one meanwhile writes
    the rows), started afresh ("spawn"): a fork of this process, which may have threads, could
    inherit a lock held by one of them, and the fork server is the dossier's (pdf.py preloads
    its modules into it).
    """
    seen: set[bytes] = set()
    pool = None
    if len(seeds) >= PROCESS_AT_LEAST:
        workers = os.cpu_count() or 1
        pool = ProcessPoolExecutor(
            workers,
            mp_context=multiprocessing.get_context("spawn"),
            initializer=silence_upstream_warnings,  # as the app does: they import its modules
        )
        pngs = pool.map(draw_signature, seeds, chunksize=max(1, min(500, len(seeds) // workers)))
    else:
        pngs = map(draw_signature, seeds)
    try:
        for seed, png in zip(seeds, pngs, strict=True):
            while (digest := hashlib.sha256(png).digest()) in seen:
                seed += 1
                png = draw_signature(seed)
            seen.add(digest)
            yield png
    finally:
        if pool is not None:
            pool.shutdown(cancel_futures=True)  # on an error, draw nothing more


def _chunks(items: Iterator[T] | list[T], size: int) -> Iterator[list[T]]:
    iterator = iter(items)
    while chunk := list(islice(iterator, size)):
        yield chunk


def replace_demo_signatories(appeal: Appeal, count: int, now: datetime | None = None) -> None:
    """Replace every signature of the demo appeal by `count` fictional valid ones.

    Only for the demo appeal: its signatures and tallies are deleted outright, not withdrawn.
    """
    now = (now or utcnow()).replace(microsecond=0)
    # Images and answers go with their signatures (ON DELETE CASCADE).
    for statement in (
        delete(Signature).where(Signature.appeal_id == appeal.id),
        delete(SignatureTally).where(SignatureTally.appeal_id == appeal.id),
    ):
        db.session.execute(statement, execution_options={"synchronize_session": False})
    people = fictional_signatories(count)
    consent = consent_text(sign_form_settings(appeal), appeal.language)
    version_id = appeal.latest_version.id
    images = _distinct_images([person.image_seed for person in people])
    for chunk in _chunks(people, CHUNK):
        rows = []
        for person in chunk:
            signed_at = now - person.age
            rows.append(
                {
                    "appeal_id": appeal.id,
                    "version_id": version_id,
                    "status": SignatureStatus.valid,
                    "created_at": signed_at,
                    "confirmed_at": signed_at,
                    "surname": person.surname,
                    "given_name": person.given_name,
                    "patronymic": person.patronymic,
                    # The list's search key and words: a Core insert runs no ORM event.
                    "name_key": fold_name(person.surname, person.given_name, person.patronymic),
                    "region": person.region,
                    "town": person.town,
                    "relationship": person.relationship,
                    "relative_name": person.relative_name,
                    "relative_location": person.relative_location,
                    "children": person.children,
                    "display": person.display,
                    "relative_public": person.relative_public,
                    "consent_text": consent,
                    "consent_at": signed_at,
                }
            )
        # Core, not ORM, inserts: the ORM splits rows into one statement per run of rows with
        # the same None columns (children), which made 20,000 rows take 20,000 statements.
        table = Signature.__table__
        ids = db.session.scalars(
            insert(table).returning(table.c.id, sort_by_parameter_order=True), rows
        ).all()
        db.session.execute(
            insert(SignatureImage.__table__),
            [
                {"signature_id": id_, "png": png, "width": IMAGE_WIDTH, "height": IMAGE_HEIGHT}
                for id_, png in zip(ids, islice(images, len(ids)), strict=True)
            ],
        )
    index_new_signatures(appeal.id, after_id=0)
    # Their families, as signing would have placed them (the replaced ones' go with them).
    recompute_families(appeal.id)
    # One shard per region holds the whole count; signing later spreads over the other shards.
    regions = Counter(person.region for person in people)
    if regions:
        db.session.execute(
            insert(SignatureTally),
            [
                {"appeal_id": appeal.id, "region": region, "shard": 0, "count": n}
                for region, n in sorted(regions.items())
            ],
        )
