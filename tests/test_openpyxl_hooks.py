"""The openpyxl hook finds a sheet's size as openpyxl does, and reads the same rows."""

import io

from openpyxl import Workbook, load_workbook

from campaign import openpyxl_hooks
from campaign.signatures.spreadsheets import read_rows, write_xlsx


def _sizes(data: bytes) -> tuple[object, ...]:
    sheet = load_workbook(io.BytesIO(data), read_only=True).worksheets[0]
    return (sheet._min_column, sheet._min_row, sheet._max_column, sheet._max_row)


def _with_dimension() -> bytes:
    workbook = Workbook()  # a normal workbook writes <dimension>, as Excel does
    for row in (["surname", "given_name"], ["Налоева", "Мадина"], ["Aliyeva", "Aisha"]):
        workbook.active.append(row)
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()


def test_the_hook_finds_what_openpyxl_finds(monkeypatch):
    for data in (_with_dimension(), write_xlsx(["a", "b"], [["1", "2"]] * 3)):
        monkeypatch.setattr(
            openpyxl_hooks.ReadOnlyWorksheet, "_get_size", openpyxl_hooks.ORIGINAL_GET_SIZE
        )
        expected = _sizes(data)
        openpyxl_hooks.install()
        assert _sizes(data) == expected
    assert expected[3] is None  # the write-only workbook has no dimension: nothing to find


def test_rows_read_through_the_hook():
    rows = list(read_rows(io.BytesIO(_with_dimension())))
    assert rows == [["surname", "given_name"], ["Налоева", "Мадина"], ["Aliyeva", "Aisha"]]
    assert openpyxl_hooks.ReadOnlyWorksheet._get_size is openpyxl_hooks._get_size
