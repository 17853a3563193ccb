"""What goes into a dossier, as plain data: the rows of each edition and the summary's counts.

dossiers.annex_families groups the rows into the annex's families; dossiers.signature_list
writes them as the attached CSV.
"""

import gc
import threading
from collections import Counter
from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import NamedTuple

from flask import current_app
from flask_babel import force_locale
from flask_babel import gettext as _
from sqlalchemy import select

from campaign.appeals.models import Appeal, AppealVersion
from campaign.dossiers.aggregates import PUBLIC_PLACE_FEWEST, PlaceCount, families_by_place
from campaign.dossiers.models import Edition
from campaign.dossiers.signature_images import SignatureImages
from campaign.extensions import db
from campaign.signatures.audience import full_name, public_view
from campaign.signatures.families import family_labels
from campaign.signatures.models import (
    CustomQuestion,
    Display,
    Signature,
    SignatureAnswer,
    SignatureImage,
    SignatureSource,
    SignatureStatus,
)
from campaign.signatures.presenting import region_label
from campaign.signatures.settings import sign_form_settings
from campaign.time_zones import LocalDays


@dataclass(frozen=True, slots=True)
class Row:
    """One signatory as an edition shows her; private values are empty where left out."""

    number: int
    name: str
    region: str
    relationship: str
    relative: str
    relative_location: str
    children: int | None
    signed_on: str  # ISO date, formatted by the template
    version: int
    image_sha256: str  # of the drawn signature; "" when none or left out
    typed_signature: str
    town: str
    postal_address: str
    helper: str
    answers: tuple[str, ...]
    withheld: bool
    # Signed in ink on a collection sheet (entered or imported on the desk): marked in the
    # table, with the sheet and line where the ink is.
    paper: bool = False
    sheet: int | None = None
    line: int | None = None


@dataclass
class DossierContent:
    """Everything a dossier shows, independent of how it is laid out."""

    appeal: Appeal
    edition: Edition
    versions: list[AppealVersion]
    questions: list[str]  # labels of the custom questions this edition shows
    rows: list[Row]
    # image_sha256 -> PNG: a SignatureImages once collected (load_images reads the PNGs).
    images: Mapping[str, bytes] = field(default_factory=dict)
    # The family (person concerned) of each row, in order; None for no relative named.
    family_labels: list[int | str | None] = field(default_factory=list)
    # Families and persons concerned per place where held, counted over every signer (what
    # the public may know of the families of signers who did not agree to show them).
    places: list[PlaceCount] = field(default_factory=list)
    # Signatories per region and per relationship, counted over every signer: the summary
    # counts those the public edition does not name too ("" for not given).
    by_region: list[tuple[str, int]] = field(default_factory=list)
    by_relationship: list[tuple[str, int]] = field(default_factory=list)

    @property
    def language(self) -> str:
        """The dossier speaks the appeal's language."""
        return self.appeal.language

    @property
    def title(self) -> str:
        """The title as published in the latest version signed, not the draft's."""
        return self.versions[-1].title

    def load_images(self, rows: Iterable[Row]) -> None:
        """Have the drawings of these rows at hand: read from the database those not yet read.

        (In the thread that collected the content; the images were only noted by SHA-256.)
        """
        if isinstance(self.images, SignatureImages):
            self.images.load(row.image_sha256 for row in rows)

    @property
    def private(self) -> bool:
        """Whether the edition carries fields an authority needs but the public must not see."""
        return self.edition is not Edition.public


class _Signed(NamedTuple):
    """What a dossier reads of each signature: plain rows, not ORM objects (building 20,000 of
    those, and their images, took most of the time a dossier spent in the database).

    A named tuple, not the database's row: reading a field of SQLAlchemy's Row by its name
    took 0.75 us, 1.7 s for the fields of 101,000 signatures; of this tuple, 0.1 s in all.
    """

    id: int
    surname: str
    given_name: str
    patronymic: str
    display: Display
    region: str
    region_other: str
    relationship_: str
    relative_name: str
    relative_location: str
    children: int | None
    created_at: datetime
    version_id: int
    typed_signature: str
    town: str
    postal_address: str | None
    helper_name: str | None
    person_concerned_id: int | None
    relative_public: bool
    source: SignatureSource
    sheet: int | None
    line: int | None


def _valid_signatures(
    appeal: Appeal, images: SignatureImages | None
) -> Iterator[tuple[_Signed, dict[int, str], str]]:
    """Yield each valid signature, its answers and its drawing's SHA-256.

    The SHA-256s are noted in images ("" for none, or when images is None); the drawings
    themselves are read only when the layout asks for them (SignatureImages.load).
    """
    valid = (Signature.appeal_id == appeal.id, Signature.status == SignatureStatus.valid)
    columns = [getattr(Signature, name) for name in _Signed._fields]
    query = select(*columns).where(*valid).order_by(Signature.created_at, Signature.id)
    signatures = [_Signed._make(row) for row in db.session.execute(query)]
    # Read after the signatures: a signature made in between is not in the list anyway.
    answers: dict[int, dict[int, str]] = {}
    query = (
        select(SignatureAnswer.signature_id, SignatureAnswer.question_id, SignatureAnswer.value)
        .join(Signature, Signature.id == SignatureAnswer.signature_id)
        .where(*valid)
    )
    for signature_id, question_id, value in db.session.execute(query):
        answers.setdefault(signature_id, {})[question_id] = value
    shas: dict[int, str] = {}
    if images is not None:
        query = (
            select(SignatureImage.signature_id, SignatureImage.png_sha256)
            .join(Signature, Signature.id == SignatureImage.signature_id)
            .where(*valid)
        )
        shas = {signature_id: sha for signature_id, sha in db.session.execute(query)}
    for signature in signatures:
        sha = shas.get(signature.id, "")
        if sha and images is not None:
            images.expect(sha, signature.id)
        yield signature, answers.get(signature.id, {}), sha


def _read_drawings(ids: Sequence[int]) -> list[tuple[int, bytes]]:
    """The drawn signatures of these signatures (those that have one)."""
    query = select(SignatureImage.signature_id, SignatureImage.png).where(
        SignatureImage.signature_id.in_(ids)
    )
    return [(signature_id, png) for signature_id, png in db.session.execute(query)]


def _questions(appeal: Appeal, edition: Edition) -> list[CustomQuestion]:
    questions = sign_form_settings(appeal).questions
    if edition is Edition.public:
        return [q for q in questions if not q.private]
    if edition is Edition.sheets:
        return []
    return list(questions)


def collect_content(appeal: Appeal, edition: Edition) -> DossierContent:
    """Gather the valid signatures of an appeal as the edition shows them, in signing order."""
    # Tens of thousands of objects that all stay: the cyclic garbage collector would walk
    # them again and again while they are made (a third of the time, at 20,000).
    with _collector_paused():
        return _collect_content(appeal, edition)


_pause_lock = threading.Lock()
_pausing = 0  # threads inside _collector_paused
_was_enabled = False


@contextmanager
def _collector_paused() -> Iterator[None]:
    """Pause the garbage collector; the last thread out leaves it as the first one found it."""
    global _pausing, _was_enabled
    with _pause_lock:
        if _pausing == 0:
            _was_enabled = gc.isenabled()
            gc.disable()
        _pausing += 1
    try:
        yield
    finally:
        with _pause_lock:
            _pausing -= 1
            if _pausing == 0 and _was_enabled:
                gc.enable()


def _collect_content(appeal: Appeal, edition: Edition) -> DossierContent:
    version_numbers = {version.id: version.number for version in appeal.versions}
    questions = _questions(appeal, edition)
    rows: list[Row] = []
    # The public edition shows no drawn signature.
    images = None
    if edition is not Edition.public:
        images = SignatureImages(Path(current_app.config["DOSSIER_FOLDER"]), _read_drawings)
    ids: list[int] = []
    stored_families: list[int | None] = []
    held: list[tuple[str, int | None]] = []  # every signer's place and children, for counts
    by_region: Counter[tuple[str, str]] = Counter()
    by_relationship: Counter[str] = Counter()
    public = edition is Edition.public
    language = appeal.language
    # One string object for each value many rows repeat (a day, a region, a place, a
    # relationship): each row read brings a copy of its own (about 10 MB at 100,000).
    shared: dict[str, str] = {}
    one = shared.setdefault
    day_of = LocalDays(appeal.time_zone)
    regions: dict[tuple[str, str], str] = {}  # (region, region_other) -> its label
    with force_locale(language):
        withheld_name = _("name withheld")
        signatures = _valid_signatures(appeal, images)
        number = 0
        for signature, answers, image_sha in signatures:
            if edition is Edition.sheets and signature.source is SignatureSource.paper:
                continue  # her ink is on a collection sheet already: no sheet of her own
            number += 1
            ids.append(signature.id)
            stored_families.append(signature.person_concerned_id)
            held.append((signature.relative_location, signature.children))
            by_region[signature.region, signature.region_other] += 1
            by_relationship[signature.relationship_] += 1
            signed_on = day_of(signature.created_at)
            version = version_numbers[signature.version_id]
            if public:
                rows.append(
                    _public_row(number, signature, answers, questions, signed_on, version, language)
                    or _withheld_row(number, withheld_name, len(questions), signed_on, version)
                )
                continue
            # The authority's editions: every field a dossier carries (signatures.audience).
            region = ""
            if signature.region:
                where = (signature.region, signature.region_other)
                region = regions.get(where, "")
                if not region:
                    region = regions[where] = region_label(*where, language)
            rows.append(
                Row(
                    number=number,
                    name=full_name(signature),
                    region=region,
                    relationship=one(signature.relationship_, signature.relationship_),
                    relative=signature.relative_name,
                    relative_location=one(signature.relative_location, signature.relative_location),
                    children=signature.children,
                    signed_on=signed_on,
                    version=version,
                    image_sha256=image_sha,
                    typed_signature=signature.typed_signature,
                    town=one(signature.town, signature.town),
                    postal_address=signature.postal_address or "",
                    helper=signature.helper_name or "",
                    answers=tuple(answers.get(q.id, "") for q in questions),
                    withheld=False,
                    paper=signature.source is SignatureSource.paper,
                    sheet=signature.sheet,
                    line=signature.line,
                )
            )
    used = sorted({row.version for row in rows}) or [appeal.versions[-1].number]
    labels = family_labels(appeal.id, ids, stored_families)
    return DossierContent(
        appeal=appeal,
        edition=edition,
        versions=[v for v in appeal.versions if v.number in used],
        questions=[q.label for q in questions],
        rows=rows,
        images={} if images is None else images,
        family_labels=labels,
        places=families_by_place(labels, held, PUBLIC_PLACE_FEWEST if public else 1),
        by_region=_sorted_counts(_region_labels(by_region, language)),
        by_relationship=_sorted_counts(by_relationship),
    )


def _region_labels(counts: Counter[tuple[str, str]], language: str) -> Counter[str]:
    labelled: Counter[str] = Counter()
    with force_locale(language):
        for (code, other), n in counts.items():
            labelled[region_label(code, other, language) if code else ""] += n
    return labelled


def _sorted_counts(counter: Counter[str]) -> list[tuple[str, int]]:
    """Most frequent first, then by name."""
    return sorted(counter.items(), key=lambda item: (-item[1], item[0].casefold()))


def _public_row(
    number: int,
    signature: _Signed,
    answers: dict[int, str],
    questions: list[CustomQuestion],
    signed_on: str,
    version: int,
    language: str,
) -> Row | None:
    """Her row as the public sees it (signatures.audience); None when she is counted only."""
    seen = public_view(signature, language)
    if not seen.listed:
        return None
    return Row(
        number=number,
        name=seen.formal_name,
        region=seen.region,
        relationship=seen.relationship,
        relative=seen.relative_name,
        relative_location=seen.relative_location,
        children=seen.children,
        signed_on=signed_on,
        version=version,
        image_sha256="",
        typed_signature="",
        town="",
        postal_address="",
        helper="",
        answers=tuple(answers.get(q.id, "") if seen.answers else "" for q in questions),
        withheld=False,
        paper=signature.source is SignatureSource.paper,
        sheet=signature.sheet,
        line=signature.line,
    )


def _withheld_row(number: int, name: str, questions: int, signed_on: str, version: int) -> Row:
    """The row of a signer counted only: her number, the day and the version, nothing of her."""
    return Row(
        number=number,
        name=name,
        region="",
        relationship="",
        relative="",
        relative_location="",
        children=None,
        signed_on=signed_on,
        version=version,
        image_sha256="",
        typed_signature="",
        town="",
        postal_address="",
        helper="",
        answers=("",) * questions,
        withheld=True,
    )
