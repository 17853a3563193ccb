"""Tables in and out of the desk: read a CSV or XLSX row by row, write CSV, JSON or XLSX.

Reading streams (one row in memory at a time), so that 100,000 rows cost no more memory than
ten. Every cell written is one a spreadsheet will show, never run.
"""

import codecs
import csv
import io
import json
import zipfile
from collections.abc import Iterable, Iterator
from typing import IO, Any

from charset_normalizer import from_bytes

# A spreadsheet runs a cell starting with one of these as a formula (CSV injection); the
# full-width forms count too: some spreadsheets read them as their ASCII twins.
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r", "＝", "＋", "－", "＠")
# What the detector may answer; anything else is refused with a clear message.
_ENCODINGS = {"utf_8": "utf-8", "ascii": "utf-8", "cp1251": "cp1251"}
_SAMPLE = 64 * 1024
XLSX_MAGIC = b"PK\x03\x04"


class UnreadableTable(ValueError):
    """The file is not a CSV in a known encoding, nor an XLSX workbook.

    `code` names the reason for the audit log and the message: "encoding", "format", "empty".
    """

    def __init__(self, code: str) -> None:
        super().__init__(code)
        self.code = code


class FormulaCell(str):
    """A cell holding a formula (XLSX): refused by the import, never run."""

    __slots__ = ()


def neutralise(value: str) -> str:
    """Keep a spreadsheet from running a cell: a leading apostrophe makes it text."""
    return "'" + value if value.startswith(FORMULA_STARTS) else value


def unneutralise(value: str) -> str:
    """Undo neutralise: a cell our export wrote reads back as it was stored."""
    if value.startswith("'") and value[1:].startswith(FORMULA_STARTS):
        return value[1:]
    return value


def detect_encoding(sample: bytes) -> str:
    """Return "utf-8-sig", "utf-8" or "cp1251" for the start of a CSV, or raise
    UnreadableTable("encoding")."""
    if sample.startswith(codecs.BOM_UTF8):
        return "utf-8-sig"
    try:
        # A sample may end inside a character: only the last three bytes may be cut.
        codecs.getincrementaldecoder("utf-8")().decode(sample, final=False)
    except UnicodeDecodeError:
        pass
    else:
        return "utf-8"
    best = from_bytes(sample, cp_isolation=["cp1251", "utf_8"]).best()
    if best is None or best.encoding not in _ENCODINGS:
        raise UnreadableTable("encoding")
    return _ENCODINGS[best.encoding]


def read_rows(stream: IO[bytes]) -> Iterator[list[str]]:
    """Yield the rows of a CSV or XLSX file (the header first) as lists of text cells.

    The stream must be seekable. Cells of an XLSX that hold a formula come as FormulaCell.
    """
    start = stream.read(_SAMPLE)
    stream.seek(0)
    if not start.strip():
        raise UnreadableTable("empty")
    if start.startswith(XLSX_MAGIC):
        return _xlsx_rows(stream)
    return _csv_rows(stream, detect_encoding(start))


def _csv_rows(stream: IO[bytes], encoding: str) -> Iterator[list[str]]:
    text = io.TextIOWrapper(stream, encoding=encoding, newline="")
    try:
        sample = text.read(_SAMPLE)
        text.seek(0)
        try:
            dialect: Any = csv.Sniffer().sniff(sample, delimiters=",;\t")
        except csv.Error:
            dialect = csv.excel
        yield from csv.reader(text, dialect)
    except UnicodeDecodeError:
        # Past the sample, a byte the detected encoding cannot read.
        raise UnreadableTable("encoding") from None
    finally:
        text.detach()


def _xlsx_rows(stream: IO[bytes]) -> Iterator[list[str]]:
    # Imported here: openpyxl takes a quarter of a second to import, and most requests never
    # read a workbook.
    from openpyxl import load_workbook

    from campaign import openpyxl_hooks

    openpyxl_hooks.install()  # a sheet without <dimension> is not parsed whole to open it
    try:
        workbook = load_workbook(stream, read_only=True, data_only=False)
    except (zipfile.BadZipFile, KeyError, OSError, ValueError):
        raise UnreadableTable("format") from None
    try:
        sheet = workbook.worksheets[0]
        for row in sheet.iter_rows():
            yield [_xlsx_cell(cell) for cell in row]
    finally:
        workbook.close()


def _xlsx_cell(cell: Any) -> str:
    value = cell.value
    if value is None:
        return ""
    if getattr(cell, "data_type", None) == "f":
        return FormulaCell(str(value))
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if hasattr(value, "date") and callable(value.date):  # a date cell
        return value.date().isoformat()
    return str(value)


def write_csv(header: list[str], rows: Iterable[list[str]], *, bom: bool = False) -> bytes:
    """Serialise a table as UTF-8 CSV (optionally with a BOM, for Excel), cells neutralised."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow([neutralise(cell) for cell in header])
    for row in rows:
        writer.writerow([neutralise(cell) for cell in row])
    return (codecs.BOM_UTF8 if bom else b"") + buffer.getvalue().encode("utf-8")


def write_json(header: list[str], rows: Iterable[list[str]]) -> bytes:
    """Serialise a table as a JSON list of objects keyed by column (no formulas to fear)."""
    listed = [dict(zip(header, row, strict=True)) for row in rows]
    return json.dumps(listed, ensure_ascii=False, indent=1).encode("utf-8")


def write_xlsx(header: list[str], rows: Iterable[list[str]]) -> bytes:
    """Serialise a table as an XLSX workbook, every cell a text cell, neutralised."""
    from openpyxl import Workbook

    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet()
    sheet.append([neutralise(cell) for cell in header])
    for row in rows:
        sheet.append([neutralise(cell) for cell in row])
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()
