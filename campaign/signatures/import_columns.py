"""What a table's columns hold: its header, the fields a column can be imported as, and the
mapping from one to the other (given by the header, or by the organiser)."""

from typing import IO

from campaign.appeals.models import Appeal
from campaign.signatures.exporting import BUILT_IN_COLUMNS
from campaign.signatures.settings import sign_form_settings
from campaign.signatures.spreadsheets import read_rows

MAX_BYTES = 50 * 1024 * 1024


class ImportRefused(Exception):
    """The table cannot be imported at all (not a row's fault). `code` names why."""

    def __init__(self, code: str, detail: str = "") -> None:
        super().__init__(code, detail)
        self.code = code
        self.detail = detail


def targets(appeal: Appeal) -> dict[str, str]:
    """Return what a column can be imported as: field name -> the column name of an export
    (built-in fields by name, custom questions as "q<id>" by their label)."""
    names = {name: name for name in BUILT_IN_COLUMNS}
    for question in sign_form_settings(appeal).questions:
        names[f"q{question.id}"] = question.label
    return names


def mapping_from_header(appeal: Appeal, header: list[str]) -> dict[int, str]:
    """Map each column whose header is an export's column name (or a question's label)."""
    by_name = {label.strip().casefold(): name for name, label in targets(appeal).items()}
    mapping = {}
    for index, title in enumerate(header):
        name = by_name.get(title.strip().casefold())
        if name is not None and name not in mapping.values():
            mapping[index] = name
    return mapping


def mapping_from_names(appeal: Appeal, header: list[str], chosen: dict[str, str]) -> dict[int, str]:
    """Turn {"header title": "field"} (the CLI's --mapping) into column positions."""
    known = targets(appeal)
    by_label = {label: name for name, label in known.items()}
    positions = {title.strip(): index for index, title in enumerate(header)}
    mapping = {}
    for title, target in chosen.items():
        if title.strip() not in positions:
            raise ImportRefused("mapping", title)
        name = target if target in known else by_label.get(target)
        if name is None:
            raise ImportRefused("mapping", target)
        mapping[positions[title.strip()]] = name
    return mapping


def read_header(stream: IO[bytes]) -> list[str]:
    """Return the first row of a table (its column names); raise ImportRefused if unreadable."""
    rows = read_rows(stream)
    try:
        header = next(rows, None)
    finally:
        rows.close()  # type: ignore[attr-defined]
        stream.seek(0)
    if not header or not any(cell.strip() for cell in header):
        raise ImportRefused("empty")
    return header


def count_rows(stream: IO[bytes]) -> int:
    """Count the rows below the header (for a progress bar): a quick pass, nothing checked."""
    rows = read_rows(stream)
    try:
        return max(0, sum(1 for _row in rows) - 1)
    finally:
        stream.seek(0)
