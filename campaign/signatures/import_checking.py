"""Check the rows of a paper signatures' table before anything is stored.

Each row is checked by the appeal's own sign form (the same rules as signing online), plus
what only a table can get wrong: a region by name, formulas, dates, a row given twice, a
signer who signed already. The file is streamed: valid rows may wait in a temporary file
(pickled), not in memory; errors are counted, the first ones listed with their line and field.
"""

import hashlib
import pickle
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import date, datetime
from types import SimpleNamespace
from typing import IO, Any

from flask_babel import lazy_gettext as _l
from sqlalchemy import or_, select
from werkzeug.datastructures import MultiDict

from campaign.appeals.models import Appeal
from campaign.email_addresses import normalise_email
from campaign.extensions import db
from campaign.i18n import current_language
from campaign.signatures.contacts import (
    contact_hash,
    email_identity,
    name_identity,
    normalise_phone,
)
from campaign.signatures.fields import BUILT_IN_FIELDS, DEFAULT_RELATIONSHIPS
from campaign.signatures.forms import sign_form_class
from campaign.signatures.import_columns import ImportRefused
from campaign.signatures.models import FieldMode, Signature, SignatureSource
from campaign.signatures.regions import OTHER, region_choices, subdivision_codes
from campaign.signatures.settings import field_mode, sign_form_settings
from campaign.signatures.spreadsheets import FormulaCell, read_rows, unneutralise
from campaign.time_zones import today_in

REQUIRED = ("surname", "given_name")
_SOURCES = frozenset(source.value for source in SignatureSource)
# Errors listed on the preview (all are counted).
MAX_LISTED = 200
# Rows looked up per statement for signers who signed already.
_BATCH = 1000
# The form's own fields that a table never fills: the import sets or skips them.
_NOT_FROM_TABLE = {"signature", "typed_signature", "consent", "display", "leave_empty",
                   "started", "submit", "on_behalf", "helper_name", "csrf_token",
                   "region_other"}  # fmt: skip


@dataclass(frozen=True)
class RowError:
    """What is wrong in one row: its line in the file (the header is line 1) and field."""

    line: int
    field: str
    message: str


@dataclass
class ImportReport:
    """What reading the table found, and what was stored (nothing unless every row is valid)."""

    rows: int = 0
    invalid_rows: int = 0
    error_count: int = 0
    errors: list[RowError] = field(default_factory=list)
    preview: list[dict[str, str]] = field(default_factory=list)
    stored: int = 0

    @property
    def valid(self) -> int:
        """Rows without an error."""
        return self.rows - self.invalid_rows


def _relationship_spellings(offered: list[str]) -> dict[str, str]:
    """Read a relationship in any case, and a default one in either language ("mother" for
    "мать" when the form offers "мать")."""
    spellings = {value.casefold(): value for value in offered}
    lists = list(DEFAULT_RELATIONSHIPS.values())
    for defaults in lists:
        for position, value in enumerate(defaults):
            for other in lists:
                if other[position] in offered:
                    spellings.setdefault(value.casefold(), other[position])
    return spellings


class _RowChecker:
    """Check rows one by one as the appeal's sign form would, and what tables add."""

    def __init__(self, appeal: Appeal, mapping: dict[int, str]) -> None:
        self.appeal = appeal
        self.mapping = mapping
        self.settings = sign_form_settings(appeal)
        # A column the form does not ask for (a phone on a sheet, an export's full list) is
        # read as optional, with the form's checks, rather than dropped unsaid.
        asked = SimpleNamespace(
            fields={
                name: FieldMode.optional.value
                if field_mode(self.settings, name) is FieldMode.off
                else field_mode(self.settings, name).value
                for name in BUILT_IN_FIELDS
            },
            regions=self.settings.regions,
            relationships=self.settings.relationships,
            questions=self.settings.questions,
            confirm_email=False,  # (its effect on the email is in the modes above already)
        )
        form_class = sign_form_class(appeal, asked, current_language())  # type: ignore[arg-type]
        # One form, filled again for each row: binding a form's fields costs more than checking
        # them. Without what a table never fills, nor the region (read here, by code or name).
        removed = dict.fromkeys(_NOT_FROM_TABLE | {"region"})
        self.form = type("ImportRowForm", (form_class,), removed)(
            formdata=None, meta={"csrf": False}
        )
        self.messages = {
            "formula": str(_l("A formula is not imported.")),
            "region": str(_l("Unknown region.")),
            "region_missing": str(_l("Choose your region.")),
            "phone": str(_l("Enter a valid phone number.")),
            "date": str(_l("Write the date as YYYY-MM-DD, not later than today.")),
            "number": str(_l("Enter a whole number from 1.")),
            "source": str(_l("Write “paper” or “online”.")),
        }
        allowed = self.settings.regions or list(subdivision_codes(appeal.country))
        self.region_codes = {code.casefold(): code for code in allowed}
        self.region_names: dict[str, str] = {}
        for language in ("ru", "en"):
            for code, name in region_choices(appeal.country, language, self.settings.regions):
                self.region_names.setdefault(name.casefold(), code)
        self.relationships = _relationship_spellings(self.settings.relationships)
        self.region_required = field_mode(self.settings, "region") is FieldMode.required
        self.questions = {f"q{q.id}": q for q in self.settings.questions}
        self.seen: dict[bytes, int] = {}
        self.today = today_in(appeal.time_zone)

    def check(self, line: int, cells: list[str]) -> tuple[dict[str, Any] | None, list[RowError]]:
        values: dict[str, str] = {}
        errors: list[RowError] = []
        for index, name in self.mapping.items():
            cell = cells[index] if index < len(cells) else ""
            # A formula as such is refused; one written as text ("'=...", as our export writes
            # it) is that text (never run here; every export neutralises it again).
            if isinstance(cell, FormulaCell) or cell.lstrip().startswith(("=", "＝")):
                errors.append(RowError(line, name, self.messages["formula"]))
                continue
            values[name] = unneutralise(cell).strip()
        formdata = MultiDict({name: value for name, value in values.items() if name != "region"})
        if values.get("relationship"):
            relationship = values["relationship"]
            formdata["relationship"] = self.relationships.get(relationship.casefold(), relationship)
        region, region_other = self._region(values.get("region", ""))
        if region is None or (not region and self.region_required):
            errors.append(RowError(line, "region", self.messages["region"]))
        form = self.form
        form.process(formdata)
        form.validate()
        for name, messages in form.errors.items():
            if not any(e.field == name for e in errors):
                errors.append(RowError(line, name, str(messages[0])))
        phone = ""
        if "phone" in form and form.phone.data and not form.phone.errors:
            try:
                phone = normalise_phone(form.phone.data, self.appeal.country)
            except ValueError:
                errors.append(RowError(line, "phone", self.messages["phone"]))
        email = ""
        if "email" in form and form.email.data and not form.email.errors:
            email = normalise_email(form.email.data)
        signed_on = self._date(values.get("signed_on", ""))
        if signed_on is None:
            errors.append(RowError(line, "signed_on", self.messages["date"]))
        number = {}
        for name in ("sheet", "line"):
            raw = values.get(name, "")
            if raw and not (raw.isdigit() and 0 < int(raw) < 1_000_000):
                errors.append(RowError(line, name, self.messages["number"]))
            number[name] = int(raw) if raw.isdigit() else None
        source = values.get("source", "") or SignatureSource.paper.value
        if source not in _SOURCES:
            errors.append(RowError(line, "source", self.messages["source"]))
        if errors:
            return None, errors

        def text(name: str) -> str:
            return (form[name].data or "") if name in form else ""

        surname, given_name, patronymic = (
            form.surname.data,
            form.given_name.data,
            text("patronymic"),
        )
        row = {
            "surname": surname,
            "given_name": given_name,
            "patronymic": patronymic,
            "region": region or "",
            "region_other": region_other,
            "town": text("town"),
            "relationship_": text("relationship"),
            "relative_name": text("relative_name"),
            "relative_location": text("relative_location"),
            "children": form.children.data if "children" in form else None,
            "email": email or None,
            "phone": phone or None,
            "postal_address": text("postal_address") or None,
            "source": SignatureSource(source),
            "sheet": number["sheet"],
            "line": number["line"],
            "signed_on": signed_on,
            "answers": {
                int(q[1:]): str(form[q].data)
                for q in self.questions
                if q in form and form[q].data not in (None, "")
            },
        }
        name = name_identity(surname, given_name, patronymic)
        row["email_hash"] = contact_hash("email", email_identity(email), name) if email else None
        row["phone_hash"] = contact_hash("phone", phone, name) if phone else None
        twin = self._twin(line, name, row)
        if twin:
            return None, [
                RowError(line, "surname", str(_l("The same signer as line %(line)d.", line=twin)))
            ]
        return row, []

    def _twin(self, line: int, name: str, row: dict[str, Any]) -> int | None:
        """Return the earlier line of the same signer (her name with the same email or phone),
        or of the same row (every value alike, when no contact is given: two women of one name
        in one village are for the duplicate finder and the organiser to tell apart)."""
        contacts = [row["email_hash"], row["phone_hash"]]
        keys = [c.encode() for c in contacts if c]
        if not keys:
            values = [name] + [str(row[key]) for key in sorted(row) if key not in ("answers",)]
            values += [f"{q}={a}" for q, a in sorted(row["answers"].items())]
            digest = hashlib.blake2b("\x1f".join(values).encode(), digest_size=16).digest()
            keys = [digest]
        earlier = next((self.seen[key] for key in keys if key in self.seen), None)
        for key in keys:
            self.seen.setdefault(key, line)
        return earlier

    def _region(self, value: str) -> tuple[str | None, str]:
        if not value:
            return "", ""
        head, _, rest = value.partition(":")
        if head.strip().casefold() == OTHER:
            return OTHER, rest.strip()
        code = self.region_codes.get(value.casefold()) or self.region_names.get(value.casefold())
        return code, ""

    def _date(self, value: str) -> date | None:
        if not value:
            return self.today
        for parse in (date.fromisoformat, lambda v: datetime.strptime(v, "%d.%m.%Y").date()):
            try:
                day = parse(value[:10] if parse is date.fromisoformat else value)
            except ValueError:
                continue
            return day if day <= self.today else None
        return None


def check_table(
    appeal: Appeal,
    stream: IO[bytes],
    mapping: dict[int, str],
    *,
    progress: Callable[[int], None] | None = None,
    spool: IO[bytes] | None = None,
    preview_rows: int = 0,
) -> ImportReport:
    """Read every row and check it; valid rows go to `spool` (pickled) when given."""
    rows = read_rows(stream)
    try:
        next(rows, None)  # the header
        return check_rows(
            appeal, rows, mapping, progress=progress, spool=spool, preview_rows=preview_rows
        )
    finally:
        rows.close()  # type: ignore[attr-defined]  (now, not when collected: the file is open)


def check_rows(
    appeal: Appeal,
    rows: Iterable[list[str]],
    mapping: dict[int, str],
    *,
    progress: Callable[[int], None] | None = None,
    spool: IO[bytes] | None = None,
    preview_rows: int = 0,
) -> ImportReport:
    """Check rows below a table's header (the file's line 2 on); see check_table."""
    missing = [name for name in REQUIRED if name not in mapping.values()]
    if missing:
        raise ImportRefused("columns", ",".join(missing))
    checker = _RowChecker(appeal, mapping)
    report = ImportReport()
    pending: list[dict[str, Any]] = []
    for line, cells in enumerate(rows, start=2):
        if not any(str(cell).strip() for cell in cells):
            continue
        report.rows += 1
        row, errors = checker.check(line, cells)
        if report.rows <= preview_rows:
            report.preview.append(
                {name: (cells[i] if i < len(cells) else "") for i, name in mapping.items()}
                | {"_line": str(line)}
            )
        if row is not None:
            pending.append(row | {"_line": line})
            if len(pending) >= _BATCH:
                _signed_already(appeal, pending, report, spool)
                pending = []
        if errors:
            report.invalid_rows += 1
        for error in errors:
            _add_error(report, error)
        if progress is not None:
            progress(1)
    _signed_already(appeal, pending, report, spool)
    return report


def _add_error(report: ImportReport, error: RowError) -> None:
    report.error_count += 1
    if len(report.errors) < MAX_LISTED:
        report.errors.append(error)


def _signed_already(
    appeal: Appeal, rows: list[dict[str, Any]], report: ImportReport, spool: IO[bytes] | None
) -> None:
    """Refuse rows whose signer (name and contact) has signed the appeal already."""
    hashes = {h for row in rows for h in (row["email_hash"], row["phone_hash"]) if h}
    taken: set[str] = set()
    if hashes:
        found = db.session.execute(
            select(Signature.email_hash, Signature.phone_hash).where(
                Signature.appeal_id == appeal.id,
                or_(Signature.email_hash.in_(hashes), Signature.phone_hash.in_(hashes)),
            )
        )
        taken = {h for pair in found for h in pair if h}
    for row in rows:
        if row["email_hash"] in taken or row["phone_hash"] in taken:
            message = str(_l("This signer (name and contact) has signed the appeal already."))
            report.invalid_rows += 1
            _add_error(report, RowError(row["_line"], "surname", message))
        elif spool is not None and not report.error_count:
            pickle.dump(row, spool, protocol=pickle.HIGHEST_PROTOCOL)
