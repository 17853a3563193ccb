"""The one place the import reaches into openpyxl's private parts, and what it buys.

- ReadOnlyWorksheet._get_size: opening a sheet in read-only mode looks for its <dimension>
  element by parsing "end" events, so a sheet without one (openpyxl's own write-only
  workbooks, our export among them) is parsed whole before its first row is read: 15 s for
  a 100,000-row export on a loaded 2-core machine, inside the upload's request, and again in
  the import's job. Stopping at the start of <sheetData> finds the dimension just as well
  when there is one (Excel and LibreOffice write it first) and costs nothing when there is
  none. tests/test_openpyxl_hooks.py checks that the hook still finds what openpyxl's own
  method finds, so that an upgrade that moves it fails there.
"""

from typing import Any

from openpyxl.worksheet._read_only import ReadOnlyWorksheet
from openpyxl.worksheet._reader import DATA_TAG, DIMENSION_TAG
from openpyxl.worksheet.dimensions import SheetDimension
from openpyxl.xml.functions import iterparse

ORIGINAL_GET_SIZE = ReadOnlyWorksheet._get_size


def _get_size(self: Any) -> None:
    source = self._get_source()
    try:
        for _event, element in iterparse(source, events=("start",)):
            if element.tag == DIMENSION_TAG:
                boundaries = SheetDimension.from_tree(element).boundaries
                self._min_column, self._min_row, self._max_column, self._max_row = boundaries
                return
            if element.tag == DATA_TAG:
                return  # no dimension: the rows say how many there are
    finally:
        source.close()


def install() -> None:
    """Put the hook in place (once is enough; again is harmless)."""
    ReadOnlyWorksheet._get_size = _get_size
