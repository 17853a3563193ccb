"""Write a PDF object by object as its parts are read, so memory does not grow with its pages.

qpdf (pikepdf) writes a document it holds whole: merging a dossier's blocks held every page's
objects at once (1.9 GB at 100,000 signatories). This writer takes the objects of one opened
part at a time, numbers them anew, writes them out and keeps only their offsets.
"""

from __future__ import annotations

import base64
from collections.abc import Iterable, Mapping
from decimal import Decimal
from functools import cache
from typing import Any, BinaryIO

from pikepdf import Dictionary, Name, Object, ObjectType, Stream

ObjGen = tuple[int, int]

# A binary comment after the header: file tools then take the file for binary (PDF/A wants it).
_BINARY_MARK = b"%\xe2\xe3\xcf\xd3\n"
_FLUSH_BYTES = 1 << 20


class PdfWriter:
    """A PDF being written: objects out as they come, the cross-reference table at the end."""

    def __init__(self, output: BinaryIO, version: str) -> None:
        self.output = output
        self.position = 0
        self.offsets: list[int] = []  # of object n + 1
        self._pending: list[bytes] = []
        self._pending_size = 0
        self._put(f"%PDF-{version}\n".encode() + _BINARY_MARK)

    def _put(self, data: bytes) -> None:
        # Gathered and written a megabyte at a time: a write per object cost a tenth of a merge.
        self._pending.append(data)
        self._pending_size += len(data)
        self.position += len(data)
        if self._pending_size >= _FLUSH_BYTES:
            self.flush()

    def flush(self) -> None:
        """Write out what is gathered."""
        self.output.write(b"".join(self._pending))
        self._pending.clear()
        self._pending_size = 0

    def reserve(self) -> int:
        """Return a new object number, for an object written later."""
        self.offsets.append(-1)
        return len(self.offsets)

    def write_raw(self, number: int, body: bytes) -> None:
        """Write object number with the given serialised body."""
        self.offsets[number - 1] = self.position
        self._put(b"%d 0 obj\n%s\nendobj\n" % (number, body))

    def write(
        self,
        number: int,
        item: Object,
        numbers: Mapping[ObjGen, int],
        overrides: Mapping[str, bytes | None] | None = None,
    ) -> None:
        """Write a pikepdf object as number, its references renumbered by numbers.

        overrides replace (or add) top-level keys of a dictionary with serialised values, or
        drop them (None).
        """
        if item._type_code == ObjectType.stream:
            values: dict[str, bytes | None] = dict(overrides or {})
            if item.stream_dict.get("/Type") == Name.Metadata:
                # XMP stays readable as it is (PDF/A forbids filters on it), as qpdf writes it.
                raw = item.read_bytes()
                values["/Filter"] = values["/DecodeParms"] = None
            else:
                raw = item.read_raw_bytes()
            if raw.endswith(b"\r"):
                raw = _without_final_cr(item, raw)
            values["/Length"] = b"%d" % len(raw)
            head = _dictionary(item.stream_dict, numbers, values)
            body = b"%s\nstream\n%s\nendstream" % (head, raw)
        elif item._type_code == ObjectType.dictionary:
            body = _dictionary(item, numbers, overrides or {})
        else:
            body = _direct(item, numbers)
        self.write_raw(number, body)

    def finish(self, root: int, info: int | None, document_id: bytes | None) -> None:
        """Write the cross-reference table and the trailer (every reserved object written)."""
        missing = [n + 1 for n, offset in enumerate(self.offsets) if offset < 0]
        if missing:
            raise ValueError(f"objects reserved but not written: {missing[:5]}")
        start = self.position
        lines = [b"xref\n0 %d\n0000000000 65535 f \n" % (len(self.offsets) + 1)]
        lines.extend(b"%010d 00000 n \n" % offset for offset in self.offsets)
        self._put(b"".join(lines))
        trailer = b"trailer\n<< /Size %d /Root %d 0 R" % (len(self.offsets) + 1, root)
        if info is not None:
            trailer += b" /Info %d 0 R" % info
        if document_id is not None:
            trailer += b" /ID " + document_id
        self._put(trailer + b" >>\nstartxref\n%d\n%%%%EOF\n" % start)
        self.flush()


def reachable(starts: Iterable[Object], numbers: Mapping[ObjGen, int]) -> list[Object]:
    """Return the indirect objects reachable from starts that numbers does not hold yet.

    Page objects' /Parent is not followed: a part's page tree is replaced by the document's.
    """
    found: dict[ObjGen, Object] = {}
    stack = list(starts)
    while stack:
        item = stack.pop()
        if item.is_indirect:
            objgen = item.objgen
            if objgen in numbers or objgen in found:
                continue
            found[objgen] = item
        code = item._type_code
        if code == ObjectType.stream:
            item = item.stream_dict
            code = ObjectType.dictionary
        if code == ObjectType.dictionary:
            for key, value in item.items():
                if not _container_or_reference(value):
                    continue
                if key == "/Parent" and item.get("/Type") == Name.Page:
                    continue
                stack.append(value)
        elif code == ObjectType.array:
            stack.extend(value for value in item if _container_or_reference(value))
    return list(found.values())


def _container_or_reference(item: Any) -> bool:
    # pikepdf hands out numbers, booleans and null as Python values.
    return isinstance(item, Object) and (item.is_indirect or item._type_code in _CONTAINERS)


_CONTAINERS = frozenset(
    (
        ObjectType.dictionary,
        ObjectType.array,
        ObjectType.stream,
    )
)


def _reference(item: Any, numbers: Mapping[ObjGen, int]) -> bytes:
    if not isinstance(item, Object):
        return _python_value(item)
    if item.is_indirect:
        return b"%d 0 R" % numbers[item.objgen]
    return _direct(item, numbers)


def _direct(item: Object, numbers: Mapping[ObjGen, int]) -> bytes:
    code = item._type_code
    if code == ObjectType.dictionary:
        return _dictionary(item, numbers, {})
    if code == ObjectType.array:
        return b"[" + b" ".join(_reference(value, numbers) for value in item) + b"]"
    if code == ObjectType.stream:
        raise ValueError("a stream must be an indirect object")
    return item.unparse()


@cache
def _name(key: str) -> bytes:
    """Serialise a dictionary key (a handful of them, over and over)."""
    return Name(key).unparse()


def _python_value(value: Any) -> bytes:
    """Serialise a number, boolean or null as pikepdf hands them out (Python values)."""
    if value is None:
        return b"null"
    if value is True or value is False:
        return b"true" if value else b"false"
    if isinstance(value, int):
        return b"%d" % value
    if isinstance(value, Decimal | float):
        text = format(Decimal(value).normalize(), "f")
        return text.encode()
    raise TypeError(f"not a PDF value: {type(value).__name__}")


def _dictionary(
    item: Object, numbers: Mapping[ObjGen, int], overrides: Mapping[str, bytes | None]
) -> bytes:
    entries = [
        _name(key) + b" " + _reference(value, numbers)
        for key, value in item.items()
        if key not in overrides
    ]
    entries.extend(
        _name(key) + b" " + value for key, value in overrides.items() if value is not None
    )
    return b"<<" + b" ".join(entries) + b">>"


def _without_final_cr(item: Stream, raw: bytes) -> bytes:
    """Give a stream whose data ends in a carriage return an ASCII85 layer over its filters.

    After a CR, readers and PDF/A validators take the CR and the line feed before "endstream"
    for one end of line, and the stream for a byte shorter than its /Length (ISO 19005-2
    6.1.7.1). Recompressing cannot help: a zlib stream ends with the checksum of its data.
    """
    filters = item.get("/Filter")
    parameters = item.get("/DecodeParms")
    if filters is None:
        filters = []
    elif isinstance(filters, Name):
        filters = [filters]
    if isinstance(parameters, Dictionary):
        parameters = [parameters]
    # (qpdf refuses an empty dictionary for a filter without parameters: null it is.)
    kept = [p if isinstance(p, Dictionary) else None for p in parameters or ()]
    options = {"decode_parms": [None, *kept]} if any(kept) else {}
    item.write(base64.a85encode(raw) + b"~>", filter=[Name.ASCII85Decode, *filters], **options)
    return item.read_raw_bytes()
