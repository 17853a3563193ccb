"""Write a PDF object by object as its parts are read, so memory does not grow with its pages.

qpdf (pikepdf) writes a document it holds whole: merging a dossier's blocks held every page's
objects at once (1.9 GB at 100,000 signatories). This writer takes the objects of one opened
part at a time, numbers them anew, writes them out and keeps only their offsets.
"""

from __future__ import annotations

import base64
import re
import zlib
from collections.abc import Callable, Iterable, Mapping
from typing import BinaryIO

from pikepdf import Dictionary, Name, Object, ObjectType, Pdf, Stream

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

    def write_stream(self, number: int, data: bytes) -> None:
        """Write data compressed as stream object number (never ending in a carriage return)."""
        raw = zlib.compress(data)
        filters = b"/FlateDecode"
        if raw.endswith(b"\r"):  # the checksum's last byte: see _without_final_cr
            raw = base64.a85encode(raw) + b"~>"
            filters = b"[/ASCII85Decode /FlateDecode]"
        head = b"<</Filter %s /Length %d>>" % (filters, len(raw))
        self.write_raw(number, b"%s\nstream\n%s\nendstream" % (head, raw))

    def copy(
        self,
        pdf: Pdf,
        starts: Iterable[Object],
        numbers: dict[ObjGen, int],
        local: Mapping[ObjGen, Mapping[ObjGen, int]] | None = None,
    ) -> list[int]:
        """Write starts (of pdf) and the indirect objects they reach that numbers does not hold.

        Each object is serialised by qpdf (in C) and its references renumbered in the bytes;
        numbers gains the objects written. local[a][b] = n: object a's references to b are to n
        (one object of pdf standing for a different one in each). Return the numbers of starts
        (a direct one is written as a new object). Page objects' /Parent is followed like any
        reference: the caller maps a part's page tree nodes to the document's beforehand.
        """
        pending: list[tuple[int, Object | None]] = []

        def renumber(match: re.Match[bytes]) -> bytes:
            first, second = match.groups()
            if first is None:  # a string, kept as it is
                return match[0]
            objgen = (int(first), int(second))
            number = numbers.get(objgen)
            if number is None:
                number = numbers[objgen] = self.reserve()
                pending.append((number, pdf.get_object(objgen)))  # None: no such object
            return b" %d 0 R" % number

        result = []
        for item in starts:
            if item.is_indirect:
                number = numbers.get(item.objgen)
                if number is None:
                    number = numbers[item.objgen] = self.reserve()
                    pending.append((number, item))
            else:
                number = self.reserve()
                pending.append((number, item))
            result.append(number)
            while pending:
                number, item = pending.pop()
                if item is None:  # (a reference to a missing object reads as null)
                    self.write_raw(number, b"null")
                    continue
                if local and item.is_indirect and item.objgen in local:
                    numbers.update(local[item.objgen])
                self.write_raw(number, self._serialise(item, renumber))
        return result

    def _serialise(self, item: Object, renumber: Callable[[re.Match[bytes]], bytes]) -> bytes:
        if item._type_code != ObjectType.stream:
            return _renumbered(item.unparse(resolved=True), renumber)
        # The part is only read: its stream dictionaries are changed in place, as written.
        head = item.stream_dict
        raw = item.read_raw_bytes()
        head.Length = len(raw)
        data = head.unparse()
        if raw.endswith(b"\r") or (b"/Metadata" in data and head.get("/Type") == Name.Metadata):
            raw = _special(item)
            data = item.stream_dict.unparse()
        return b"%s\nstream\n%s\nendstream" % (_renumbered(data, renumber), raw)

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


# A reference ("12 0 R") in qpdf's serialisation of an object: qpdf puts a space before each
# (after "[", "<<", a key or a value). Only a literal string could hold such text: when one is
# there, strings are matched too, and kept as they are. qpdf escapes every parenthesis inside a
# literal string, so the first unescaped ")" ends it. (A hexadecimal string holds no "R".)
_REFERENCE_TAIL = rb" (\d+) (\d+) R(?![^\s\[\]<>{}()/%])"
_REFERENCE = re.compile(_REFERENCE_TAIL)
_REFERENCE_OR_STRING = re.compile(rb"\((?:[^\\)]|\\.)*\)|" + _REFERENCE_TAIL, re.DOTALL)


def _renumbered(data: bytes, renumber: Callable[[re.Match[bytes]], bytes]) -> bytes:
    pattern = _REFERENCE_OR_STRING if b"(" in data else _REFERENCE
    return pattern.sub(renumber, data)


def _special(item: Stream) -> bytes:
    """Return the data of an XMP stream or of one ending in CR as written; set its /Length."""
    head = item.stream_dict
    if head.get("/Type") == Name.Metadata:
        # XMP stays readable as it is (PDF/A forbids filters on it), as qpdf writes it.
        raw = item.read_bytes()
        for key in ("/Filter", "/DecodeParms"):
            if key in head:
                del head[key]
    else:
        raw = item.read_raw_bytes()
    if raw.endswith(b"\r"):
        raw = _without_final_cr(item, raw)
    item.stream_dict.Length = len(raw)
    return raw


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
