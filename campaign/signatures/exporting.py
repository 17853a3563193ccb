"""Export an appeal's signatures as a table: the columns the import reads back, filtered.

The column names are the sign form's field names, so that an exported CSV imports again
without a mapping (signatures.importing). Private columns (email, phone, postal address,
answers to private questions) only for those who may read them.
"""

from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import select

from campaign.appeals.models import Appeal
from campaign.extensions import db
from campaign.signatures.models import (
    CustomQuestion,
    Signature,
    SignatureAnswer,
    SignatureSource,
    SignatureStatus,
)
from campaign.signatures.regions import OTHER
from campaign.signatures.settings import sign_form_settings
from campaign.signatures.spreadsheets import write_csv, write_json, write_xlsx
from campaign.time_zones import local_date

# In this order; the import knows the same names.
PUBLIC_COLUMNS = (
    "surname", "given_name", "patronymic", "region", "town", "relationship", "relative_name",
    "relative_location", "children",
)  # fmt: skip
PRIVATE_COLUMNS = ("email", "phone", "postal_address")
TRAILING_COLUMNS = ("signed_on", "source", "sheet", "line")
BUILT_IN_COLUMNS = PUBLIC_COLUMNS + PRIVATE_COLUMNS + TRAILING_COLUMNS
FORMATS = ("csv", "json", "xlsx")
MIMETYPES = {
    "csv": "text/csv",
    "json": "application/json",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}
# Read from the database in slices: an appeal's 100,000 answers are not all held at once.
_SLICE = 2000


@dataclass(frozen=True)
class ExportFilter:
    """Which signatures: by default every one that holds a signer (not the withdrawn)."""

    status: SignatureStatus | None = None
    region: str = ""
    relationship: str = ""
    source: SignatureSource | None = None


@dataclass(frozen=True)
class ExportColumns:
    """The columns an export carries, and the custom questions among them."""

    names: list[str]
    questions: list[CustomQuestion] = field(default_factory=list)


def region_cell(code: str, other: str) -> str:
    """Write a region as the import reads it: the ISO code, or "other: <free text>"."""
    if code == OTHER:
        return f"{OTHER}: {other}" if other else OTHER
    return code


def available_columns(appeal: Appeal, *, private: bool) -> ExportColumns:
    """Return every column an export may carry for this reader, in order."""
    questions = [q for q in sign_form_settings(appeal).questions if private or not q.private]
    names = list(PUBLIC_COLUMNS)
    if private:
        names += PRIVATE_COLUMNS
    names += TRAILING_COLUMNS
    return ExportColumns(names + [q.label for q in questions], questions)


def choose_columns(available: ExportColumns, chosen: list[str] | None) -> ExportColumns:
    """Keep the chosen columns (all when none are chosen), in the export's order."""
    if not chosen:
        return available
    wanted = set(chosen)
    return ExportColumns(
        [name for name in available.names if name in wanted],
        [q for q in available.questions if q.label in wanted],
    )


def export_rows(
    appeal: Appeal, columns: ExportColumns, where: ExportFilter = ExportFilter()
) -> Iterator[list[str]]:
    """Yield one row of cells per signature, in signing order, as the columns say."""
    query = select(Signature).where(Signature.appeal_id == appeal.id)
    if where.status is None:
        query = query.where(Signature.status != SignatureStatus.withdrawn)
    else:
        query = query.where(Signature.status == where.status)
    if where.region:
        query = query.where(Signature.region == where.region)
    if where.relationship:
        query = query.where(Signature.relationship_ == where.relationship)
    if where.source is not None:
        query = query.where(Signature.source == where.source)
    query = query.order_by(Signature.created_at, Signature.id)
    after: tuple[datetime, int] | None = None
    question_ids = [q.id for q in columns.questions]
    while True:
        page = query
        if after is not None:
            page = page.where(
                (Signature.created_at > after[0])
                | ((Signature.created_at == after[0]) & (Signature.id > after[1]))
            )
        signatures = list(db.session.scalars(page.limit(_SLICE)))
        if not signatures:
            return
        answers: dict[int, dict[int, str]] = {}
        if question_ids:
            rows = db.session.execute(
                select(
                    SignatureAnswer.signature_id, SignatureAnswer.question_id, SignatureAnswer.value
                ).where(
                    SignatureAnswer.signature_id.in_([s.id for s in signatures]),
                    SignatureAnswer.question_id.in_(question_ids),
                )
            )
            for signature_id, question_id, value in rows:
                answers.setdefault(signature_id, {})[question_id] = value
        for signature in signatures:
            yield _cells(appeal, signature, columns, answers.get(signature.id, {}))
        after = (signatures[-1].created_at, signatures[-1].id)
        for signature in signatures:  # what was yielded is not needed again
            db.session.expunge(signature)


def _cells(
    appeal: Appeal, signature: Signature, columns: ExportColumns, answers: dict[int, str]
) -> list[str]:
    values = {
        "surname": signature.surname,
        "given_name": signature.given_name,
        "patronymic": signature.patronymic,
        "region": region_cell(signature.region, signature.region_other),
        "town": signature.town,
        "relationship": signature.relationship_,
        "relative_name": signature.relative_name,
        "relative_location": signature.relative_location,
        "children": "" if signature.children is None else str(signature.children),
        "email": signature.email or "",
        "phone": signature.phone or "",
        "postal_address": signature.postal_address or "",
        "signed_on": local_date(signature.created_at, appeal.time_zone).isoformat(),
        "source": signature.source.value,
        "sheet": "" if signature.sheet is None else str(signature.sheet),
        "line": "" if signature.line is None else str(signature.line),
    }
    by_label = {q.label: answers.get(q.id, "") for q in columns.questions}
    return [values[name] if name in values else by_label.get(name, "") for name in columns.names]


def export_table(
    appeal: Appeal,
    columns: ExportColumns,
    form: str,
    where: ExportFilter = ExportFilter(),
    *,
    bom: bool = False,
) -> tuple[bytes, int]:
    """Return the file in the format ("csv", "json", "xlsx") and how many rows it holds."""
    counted = 0

    def rows() -> Iterator[list[str]]:
        nonlocal counted
        for row in export_rows(appeal, columns, where):
            counted += 1
            yield row

    if form == "csv":
        data = write_csv(columns.names, rows(), bom=bom)
    elif form == "json":
        data = write_json(columns.names, rows())
    elif form == "xlsx":
        data = write_xlsx(columns.names, rows())
    else:
        raise ValueError(form)
    return data, counted
