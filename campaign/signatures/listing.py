"""The desk's list of an appeal's signatures: search by name in any script, filters, sorting,
and keyset pagination (a page after or before a signature, never an OFFSET).

Each choice filter is one line of FILTERS: its name, its label, the column it compares and
where its choices come from. The form (signatures.list_forms) and the query are built from it.
"""

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

from flask_babel import LazyString
from flask_babel import lazy_gettext as _l
from sqlalchemy import ColumnElement, Select, and_, or_, select, tuple_
from sqlalchemy.orm import InstrumentedAttribute, defer

from campaign.appeals.models import Appeal, AppealVersion
from campaign.extensions import db
from campaign.signatures.duplicates import in_candidate_pair
from campaign.signatures.models import Signature, SignatureSource, SignatureStatus
from campaign.signatures.name_words import few_with_words
from campaign.signatures.names import fold_words
from campaign.signatures.paper import stored_scans
from campaign.signatures.regions import OTHER, region_choices
from campaign.signatures.settings import sign_form_settings
from campaign.time_zones import end_of_day

PAGE_SIZE = 50
_ONE_DAY = timedelta(days=1)
# Words of a search beyond these are ignored: a name has a few.
MAX_SEARCH_WORDS = 6

STATUS_LABELS: dict[SignatureStatus, LazyString] = {
    SignatureStatus.valid: _l("counted"),
    SignatureStatus.pending: _l("waiting for confirmation"),
    SignatureStatus.flagged: _l("flagged for review"),
    SignatureStatus.rejected: _l("rejected"),
    SignatureStatus.withdrawn: _l("withdrawn"),
}


def _status_choices(_appeal: Appeal, _language: str) -> list[tuple[str, str]]:
    return [(status.value, str(label)) for status, label in STATUS_LABELS.items()]


# The region filter's value for "no region given" (an empty choice means "any").
NOT_GIVEN = "-"


def _region_code(value: str) -> str:
    return "" if value == NOT_GIVEN else value


def _region_choices(appeal: Appeal, language: str) -> list[tuple[str, str]]:
    # Every subdivision of the country (a region narrowed away later still has signatures).
    return [
        *region_choices(appeal.country, language, None),
        (OTHER, str(_l("elsewhere"))),
        (NOT_GIVEN, str(_l("region not given"))),
    ]


def _relationship_choices(appeal: Appeal, _language: str) -> list[tuple[str, str]]:
    return [(value, value) for value in sign_form_settings(appeal).relationships]


SOURCE_LABELS: dict[SignatureSource, LazyString] = {
    SignatureSource.online: _l("online"),
    SignatureSource.paper: _l("on paper"),
}


def _source_choices(_appeal: Appeal, _language: str) -> list[tuple[str, str]]:
    return [(source.value, str(label)) for source, label in SOURCE_LABELS.items()]


def _version_choices(appeal: Appeal, _language: str) -> list[tuple[str, str]]:
    versions = db.session.execute(
        select(AppealVersion.id, AppealVersion.number)
        .where(AppealVersion.appeal_id == appeal.id)
        .order_by(AppealVersion.number)
    )
    return [(str(id_), str(_l("version %(number)d", number=number))) for id_, number in versions]


@dataclass(frozen=True)
class ChoiceFilter:
    """A filter of the list: one of `choices` compared with `column`."""

    name: str
    label: LazyString
    column: Callable[[], InstrumentedAttribute[Any]]
    choices: Callable[[Appeal, str], list[tuple[str, str]]]
    # How the chosen string becomes the column's value.
    convert: Callable[[str], Any] = str


FILTERS: tuple[ChoiceFilter, ...] = (
    ChoiceFilter(
        "status", _l("Status"), lambda: Signature.status, _status_choices, SignatureStatus
    ),
    ChoiceFilter("region", _l("Region"), lambda: Signature.region, _region_choices, _region_code),
    ChoiceFilter(
        "relationship", _l("Relationship"), lambda: Signature.relationship_, _relationship_choices
    ),
    ChoiceFilter(
        "version", _l("Letter version"), lambda: Signature.version_id, _version_choices, int
    ),
    ChoiceFilter(
        "source", _l("Source"), lambda: Signature.source, _source_choices, SignatureSource
    ),
)


@dataclass(frozen=True)
class Sort:
    """An order of the list: the columns compared, the first one shown first."""

    label: LazyString
    columns: Callable[[], tuple[InstrumentedAttribute[Any], ...]]
    descending: bool


SORTS: dict[str, Sort] = {
    "newest": Sort(_l("Newest first"), lambda: (Signature.created_at, Signature.id), True),
    "oldest": Sort(_l("Oldest first"), lambda: (Signature.created_at, Signature.id), False),
    "surname": Sort(_l("Surname, A to Z"), lambda: (Signature.surname, Signature.id), False),
}


@dataclass
class Query:
    """What the organiser asked for, checked (the form's data)."""

    search: str = ""
    choices: dict[str, str] = field(default_factory=dict)  # filter name -> chosen value
    signed_from: date | None = None
    signed_to: date | None = None
    duplicates: bool = False
    without_scan: bool = False  # paper signatures whose sheet has no stored scan
    sort: str = "newest"


@dataclass
class Page:
    """A page of the list and where the pages before and after it start."""

    signatures: Sequence[Signature]
    after: int | None  # the id to ask the next page `after`, or None on the last page
    before: int | None  # the id to ask the previous page `before`, or None on the first


def search_condition(text: str, appeal_id: int) -> ColumnElement[bool] | None:
    """Match names whose folded words start with each folded word of `text`, in any order.

    "naloeva" finds Налоева, "Айша" finds Aisha, "madi nalo" finds Мадина Налоева. When one
    word starts few names' words, they are found by the word index (signatures.name_words).
    """
    return _search(text, appeal_id)[0]


def _search(text: str, appeal_id: int) -> tuple[ColumnElement[bool] | None, bool]:
    """The search's condition, and whether it goes through the word index."""
    words = fold_words(text)[:MAX_SEARCH_WORDS]
    if not words:
        return None, False
    condition = and_(
        *(
            or_(
                Signature.name_key.startswith(word, autoescape=True),
                Signature.name_key.contains(" " + word, autoescape=True),
            )
            for word in words
        )
    )
    few = few_with_words(appeal_id, words)
    if few is None:
        return condition, False
    return and_(Signature.id.in_(few), condition), True


def filtered(appeal: Appeal, query: Query) -> Select[tuple[Signature]]:
    """The appeal's signatures that match the query, in no order yet."""
    found, by_words = _search(query.search, appeal.id)
    of_appeal = Signature.appeal_id == appeal.id
    if by_words:
        # The few ids come from the word index; "+ 0" keeps a planner from walking the list's
        # own index in order instead (SQLite does, without statistics), testing every row.
        of_appeal = (Signature.appeal_id + 0) == appeal.id
    statement = select(Signature).where(of_appeal)
    if found is not None:
        statement = statement.where(found)
    for list_filter in FILTERS:
        value = query.choices.get(list_filter.name)
        if value is not None:
            statement = statement.where(list_filter.column() == list_filter.convert(value))
    if query.signed_from is not None:
        statement = statement.where(
            Signature.created_at >= end_of_day(query.signed_from - _ONE_DAY, appeal.time_zone)
        )
    if query.signed_to is not None:
        statement = statement.where(
            Signature.created_at < end_of_day(query.signed_to, appeal.time_zone)
        )
    if query.duplicates:
        statement = statement.where(in_candidate_pair(appeal.id))
    if query.without_scan:
        statement = statement.where(Signature.source == SignatureSource.paper)
        scanned = sorted(stored_scans(appeal.id))
        if scanned:
            statement = statement.where(
                or_(Signature.sheet.is_(None), Signature.sheet.not_in(scanned))
            )
    return statement


def list_page(
    appeal: Appeal,
    query: Query,
    *,
    after: int | None = None,
    before: int | None = None,
    private: bool = False,
) -> Page:
    """One page of the list, after (or before) the signature with that id in the query's order.

    `private`: load the private columns too (owners and editors); otherwise they are never
    read from the database.
    """
    sort = SORTS[query.sort]
    columns = sort.columns()
    statement = filtered(appeal, query)
    if not private:
        statement = statement.options(
            defer(Signature.email),
            defer(Signature.phone),
            defer(Signature.postal_address),
            defer(Signature.helper_name),
        )
    mark = after if after is not None else before
    backwards = before is not None and after is None
    if mark is not None:
        anchor = db.session.execute(
            select(*columns).where(Signature.id == mark, Signature.appeal_id == appeal.id)
        ).first()
        if anchor is None:
            mark, backwards = None, False
        else:
            further = sort.descending != backwards  # towards smaller values
            key, at = tuple_(*columns), tuple_(*anchor)
            statement = statement.where(key < at if further else key > at)
    descending = sort.descending != backwards
    statement = statement.order_by(*(c.desc() if descending else c.asc() for c in columns))
    rows = list(db.session.scalars(statement.limit(PAGE_SIZE + 1)))
    more = len(rows) > PAGE_SIZE
    rows = rows[:PAGE_SIZE]
    if backwards:
        rows.reverse()
        return Page(rows, after=rows[-1].id if rows else None, before=rows[0].id if more else None)
    return Page(
        rows,
        after=rows[-1].id if more else None,
        before=rows[0].id if rows and mark is not None else None,
    )
