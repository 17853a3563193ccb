"""Create, edit, publish and close appeals; count their signatures. The letter as data (its
fingerprint, comparing versions) is in letters."""

import re
import secrets
from dataclasses import dataclass
from datetime import date
from typing import Any

from slugify import slugify
from sqlalchemy import func, select, update
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from campaign.accounts.models import Membership, Role, User
from campaign.appeals.letters import (
    draft_letter,
    has_unpublished_changes,
    letter_fingerprint,
    missing_for_publishing,
)
from campaign.appeals.models import (
    Addressee,
    Appeal,
    AppealStatus,
    AppealVersion,
    FormerAddress,
    SignatureTally,
)
from campaign.audit.operations import record_event
from campaign.clock import utcnow
from campaign.extensions import db
from campaign.markup import loses_text_to_nesting
from campaign.text import normalise_text
from campaign.time_zones import default_zone

SLUG_PATTERN = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")
SLUG_MIN, SLUG_MAX = 3, 80


class SlugTaken(Exception):
    """Another appeal has this address, or had it."""


class NothingToPublish(Exception):
    """The draft is the same as the latest published version."""


class NestedTooDeeply(Exception):
    """The letter nests quotes or lists past what the Markdown renderer shows."""


class NotReadyToPublish(Exception):
    """The draft lacks something a published letter needs."""

    def __init__(self, missing: list[str]) -> None:
        super().__init__(", ".join(missing))
        self.missing = missing


class DraftChanged(Exception):
    """Someone saved the draft after the page the request came from showed it."""


class InvalidTransition(Exception):
    """The appeal's status does not allow this change."""


class AlreadyPublished(Exception):
    """A published appeal stays: its versions are what people signed."""


@dataclass(frozen=True)
class AddresseeData:
    """An addressee as typed: name and office."""

    name: str
    office: str = ""


@dataclass
class AppealData:
    """Everything an organiser writes about an appeal."""

    title: str
    language: str
    slug: str = ""
    country: str = "RU"
    # Empty: the country's default (campaign.time_zones.default_zone).
    time_zone: str = ""
    addressees: tuple[AddresseeData, ...] = ()
    body: str = ""
    closing: str = ""
    representative_name: str = ""
    representative_address: str = ""
    goal: int | None = None
    deadline: date | None = None


def make_slug(title: str) -> str:
    """Turn a title (Cyrillic transliterated) into an address part, or 'appeal' if empty."""
    slug = slugify(title, max_length=60, word_boundary=True, save_order=True)
    return slug if len(slug) >= SLUG_MIN else (slug + "-appeal").strip("-")


def slug_is_valid(slug: str) -> bool:
    """Return True when slug has the allowed shape: lower-case latin, digits, single hyphens."""
    return SLUG_MIN <= len(slug) <= SLUG_MAX and SLUG_PATTERN.match(slug) is not None


def slug_in_use(slug: str, *, except_id: int | None = None) -> bool:
    """Return True when another appeal has this slug, now or before (see FormerAddress)."""
    current = select(Appeal.id).where(Appeal.slug == slug)
    former = select(FormerAddress.appeal_id).where(FormerAddress.slug == slug)
    if except_id is not None:
        current = current.where(Appeal.id != except_id)
        former = former.where(FormerAddress.appeal_id != except_id)
    return db.session.scalar(current.union_all(former).limit(1)) is not None


def appeal_at(slug: str) -> Appeal | None:
    """Return the appeal whose address this is now."""
    return db.session.scalar(select(Appeal).where(Appeal.slug == slug))


def appeal_formerly_at(slug: str) -> Appeal | None:
    """Return the appeal that had this address before it moved, if any."""
    return db.session.scalar(select(Appeal).join(FormerAddress).where(FormerAddress.slug == slug))


def _move(appeal: Appeal, slug: str) -> None:
    former = {address.slug: address for address in appeal.former_addresses}
    if slug in former:  # back to an address it had
        appeal.former_addresses.remove(former.pop(slug))
    # A draft's address has not been given out yet: it is simply replaced.
    if appeal.latest_version is not None and appeal.slug not in former:
        appeal.former_addresses.append(FormerAddress(slug=appeal.slug))
    appeal.slug = slug


def _free_slug(base: str) -> str:
    candidate, n = base, 2
    while slug_in_use(candidate):
        suffix = f"-{n}"
        candidate = base[: SLUG_MAX - len(suffix)] + suffix
        n += 1
    return candidate


def create_appeal(owner: User, data: AppealData) -> Appeal:
    """Create a draft appeal owned by owner; an empty slug is made from the title."""
    if data.slug:
        if slug_in_use(data.slug):
            raise SlugTaken(data.slug)
        slug = data.slug
    else:
        slug = _free_slug(make_slug(data.title))
    appeal = Appeal(slug=slug, status=AppealStatus.draft)
    _apply(appeal, data)
    appeal.memberships.append(Membership(user=owner, role=Role.owner))
    db.session.add(appeal)
    db.session.flush()
    return appeal


def _hold_draft(appeal: Appeal, seen_revision: int | None, *, change: bool) -> None:
    """Lock the appeal's row for this transaction if its draft is still at seen_revision.

    Raise DraftChanged otherwise (None, a page that showed no revision, never matches). One
    conditional UPDATE: another transaction doing the same waits for this one to end and then
    finds the revision moved (change) or the draft as this one left it. The appeal is then
    read afresh, so what is saved or published is the draft as it stands under the lock.
    """
    held = db.session.execute(
        update(Appeal)
        .where(Appeal.id == appeal.id, Appeal.draft_revision == seen_revision)
        .values(draft_revision=Appeal.draft_revision + (1 if change else 0))
        .execution_options(synchronize_session=False)
    )
    if held.rowcount != 1:
        raise DraftChanged
    db.session.expire(appeal)


def update_appeal(appeal: Appeal, data: AppealData, *, seen_revision: int | None) -> Appeal:
    """Change the draft, if it is still the revision the editor saw; versions stay as they were.

    Raise DraftChanged when someone saved it since (nothing is changed then).
    """
    _hold_draft(appeal, seen_revision, change=True)
    if data.slug and data.slug != appeal.slug:
        if slug_in_use(data.slug, except_id=appeal.id):
            raise SlugTaken(data.slug)
        _move(appeal, data.slug)
    _apply(appeal, data)
    db.session.flush()
    return appeal


def _apply(appeal: Appeal, data: AppealData) -> None:
    appeal.title = normalise_text(data.title)
    appeal.language = data.language
    appeal.country = data.country
    # Left empty, a new appeal takes the country's default and an existing one keeps its own.
    appeal.time_zone = data.time_zone or appeal.time_zone or default_zone(data.country)
    appeal.body = normalise_text(data.body)
    appeal.closing = normalise_text(data.closing)
    appeal.representative_name = normalise_text(data.representative_name)
    appeal.representative_address = normalise_text(data.representative_address)
    appeal.goal = data.goal
    appeal.deadline = data.deadline
    wanted = _typed_addressees(data)
    current = [AddresseeData(a.name, a.office) for a in appeal.addressees]
    if wanted != current:
        # Positions are unique per appeal, so old rows go before new ones take their places.
        appeal.addressees.clear()
        db.session.flush()
        appeal.addressees.extend(
            Addressee(position=i, name=a.name, office=a.office) for i, a in enumerate(wanted, 1)
        )


def _typed_addressees(data: AppealData) -> list[AddresseeData]:
    return [
        AddresseeData(normalise_text(a.name), normalise_text(a.office))
        for a in data.addressees
        if normalise_text(a.name)
    ]


def typed_letter(data: AppealData) -> dict[str, Any]:
    """Return the letter fields of typed input as the draft would hold them once saved."""
    return {
        "title": normalise_text(data.title),
        "addressees": [{"name": a.name, "office": a.office} for a in _typed_addressees(data)],
        "body": normalise_text(data.body),
        "closing": normalise_text(data.closing),
        "language": data.language,
    }


def publish_appeal(appeal: Appeal, user: User, *, seen_revision: int | None) -> AppealVersion:
    """Freeze the draft as the next numbered version with its fingerprint, and open the appeal.

    Only the draft at seen_revision, the one the publisher's page showed: raise DraftChanged
    when someone saved it since.
    """
    _hold_draft(appeal, seen_revision, change=False)
    missing = missing_for_publishing(appeal)
    if missing:
        raise NotReadyToPublish(missing)
    # The fingerprint covers the text as written: a published letter shows every part of it.
    if loses_text_to_nesting(appeal.body):
        raise NestedTooDeeply
    if not has_unpublished_changes(appeal):
        raise NothingToPublish
    latest = appeal.latest_version
    number = latest.number + 1 if latest else 1
    letter = draft_letter(appeal)
    version = AppealVersion(
        number=number,
        fingerprint=letter_fingerprint(number, letter),
        published_at=utcnow(),
        published_by_id=user.id,
        **letter,
    )
    appeal.versions.append(version)
    if appeal.status is AppealStatus.draft:
        appeal.status = AppealStatus.open
    record_event(appeal.id, "appeal.published", actor_id=user.id, version=number)
    db.session.flush()
    return version


def close_appeal(appeal: Appeal) -> None:
    """Stop accepting signatures."""
    if appeal.status is not AppealStatus.open:
        raise InvalidTransition(appeal.status.value)
    appeal.status = AppealStatus.closed
    appeal.closed_at = utcnow()
    record_event(appeal.id, "appeal.closed")
    db.session.flush()


def delete_draft(appeal: Appeal, *, seen_revision: int | None) -> None:
    """Delete an appeal that was never published, as the owner's page showed it.

    Its addressees, members, invitations and sign form go with it. Raise DraftChanged when
    someone saved the draft since the page showed it, AlreadyPublished once it has a version
    (checked under the same lock as publishing takes, so the two cannot cross).
    """
    _hold_draft(appeal, seen_revision, change=False)
    if appeal.versions:
        raise AlreadyPublished
    db.session.delete(appeal)
    db.session.flush()


def reopen_appeal(appeal: Appeal) -> None:
    """Accept signatures again after closing."""
    if appeal.status is not AppealStatus.closed:
        raise InvalidTransition(appeal.status.value)
    appeal.status = AppealStatus.open
    appeal.closed_at = None
    record_event(appeal.id, "appeal.reopened")
    db.session.flush()


TALLY_SHARDS = 8


def count_signature(appeal_id: int, region: str, delta: int) -> None:
    """Add delta to a random shard of the appeal's tally for a region, in this transaction."""
    dialect = db.session.get_bind().dialect.name
    insert = {"postgresql": postgresql_insert, "sqlite": sqlite_insert}[dialect]
    statement = insert(SignatureTally).values(
        appeal_id=appeal_id, region=region, shard=secrets.randbelow(TALLY_SHARDS), count=delta
    )
    db.session.execute(
        statement.on_conflict_do_update(
            index_elements=["appeal_id", "region", "shard"],
            set_={"count": SignatureTally.count + delta},
        )
    )


def region_counts(appeal_id: int) -> list[tuple[str, int]]:
    """Return (region code, counted signatures) for an appeal, largest first."""
    total = func.sum(SignatureTally.count)
    rows = db.session.execute(
        select(SignatureTally.region, total)
        .where(SignatureTally.appeal_id == appeal_id)
        .group_by(SignatureTally.region)
        .having(total > 0)
        .order_by(total.desc(), SignatureTally.region)
    )
    return [(region, int(count)) for region, count in rows]


def has_signatures(appeal_id: int) -> bool:
    """Whether anyone has signed the appeal (counted, waiting or withdrawn)."""
    from campaign.signatures.models import Signature  # signatures build on appeals

    signed = select(Signature.id).where(Signature.appeal_id == appeal_id).limit(1)
    return db.session.scalar(signed) is not None


def signature_counts(appeal_ids: list[int]) -> dict[int, int]:
    """Return the counted signatures of each appeal, summed over its tally shards."""
    if not appeal_ids:
        return {}
    rows = db.session.execute(
        select(SignatureTally.appeal_id, func.sum(SignatureTally.count))
        .where(SignatureTally.appeal_id.in_(appeal_ids))
        .group_by(SignatureTally.appeal_id)
    )
    counts = dict.fromkeys(appeal_ids, 0)
    counts.update({appeal_id: int(total) for appeal_id, total in rows})
    return counts
