"""Writing a PDF object by object: renumbered references, raw streams, a valid cross-reference."""

import io
import re
import zlib

import pikepdf
import pytest

from campaign.pdf_writer import PdfWriter


def _part() -> pikepdf.Pdf:
    """A one-page document whose page uses a font dictionary and a compressed content stream."""
    pdf = pikepdf.new()
    pdf.add_blank_page(page_size=(200, 100))
    font = pdf.make_indirect(
        pikepdf.Dictionary(Type=pikepdf.Name.Font, Subtype=pikepdf.Name.Type1, BaseFont="/Helv")
    )
    page = pdf.pages[0]
    page.obj.Resources = pikepdf.Dictionary(Font=pikepdf.Dictionary(F1=font))
    stream = pdf.make_stream(b"")
    stream.write(
        zlib.compress(b"BT /F1 12 Tf 10 50 Td (Hello) Tj ET"), filter=pikepdf.Name.FlateDecode
    )
    page.obj.Contents = stream
    return pdf


def _write(part: pikepdf.Pdf, *, metadata: bytes | None = None) -> bytes:
    out = io.BytesIO()
    writer = PdfWriter(out, "1.7")
    tree = writer.reserve()
    numbers = {part.Root.Pages.objgen: tree}  # the part's page tree stands for the document's
    (page,) = writer.copy(part, [part.pages[0].obj], numbers)
    writer.write_raw(tree, b"<</Type /Pages /Count 1 /Kids [%d 0 R]>>" % page)
    catalog = b"<</Type /Catalog /Pages %d 0 R" % tree
    if metadata is not None:
        xmp = part.make_stream(b"")
        xmp.write(zlib.compress(metadata), filter=pikepdf.Name.FlateDecode)
        xmp.Type, xmp.Subtype = pikepdf.Name.Metadata, pikepdf.Name.XML
        (number,) = writer.copy(part, [xmp], numbers)
        catalog += b" /Metadata %d 0 R" % number
    root = writer.reserve()
    writer.write_raw(root, catalog + b">>")
    writer.finish(root, None, None)
    return out.getvalue()


def test_a_page_written_object_by_object_reads_back_without_repairs():
    with _part() as part:
        data = _write(part)
    assert data.startswith(b"%PDF-1.7\n%")
    with pikepdf.open(io.BytesIO(data)) as pdf:
        (page,) = pdf.pages
        assert page.obj.Resources.Font.F1.BaseFont == "/Helv"
        assert page.obj.Contents.read_bytes() == b"BT /F1 12 Tf 10 50 Td (Hello) Tj ET"
        assert [float(v) for v in page.mediabox] == [0, 0, 200, 100]
        assert pdf.get_warnings() == []


def test_the_xmp_packet_is_written_without_a_filter():
    # PDF/A forbids a filter on the catalog's metadata stream; qpdf wrote it plain too.
    packet = b'<?xpacket begin="" id="W5M0MpCehiHzreSzNTczkc9d"?><x:xmpmeta/><?xpacket end="r"?>'
    with _part() as part:
        data = _write(part, metadata=packet)
    with pikepdf.open(io.BytesIO(data)) as pdf:
        assert "/Filter" not in pdf.Root.Metadata
        assert pdf.Root.Metadata.read_raw_bytes() == packet


def test_every_reserved_object_must_be_written():
    writer = PdfWriter(io.BytesIO(), "1.7")
    root = writer.reserve()
    writer.reserve()
    writer.write_raw(root, b"<</Type /Catalog>>")
    with pytest.raises(ValueError, match="not written"):
        writer.finish(root, None, None)


def _finish(writer: PdfWriter, entries: bytes) -> None:
    """Write a catalog with the given entries and an empty page tree, and the trailer."""
    tree, root = writer.reserve(), writer.reserve()
    writer.write_raw(tree, b"<</Type /Pages /Count 0 /Kids []>>")
    writer.write_raw(root, b"<</Type /Catalog /Pages %d 0 R %s>>" % (tree, entries))
    writer.finish(root, None, None)


def _copied(part: pikepdf.Pdf, starts) -> tuple[pikepdf.Pdf, list[int]]:
    """Copy starts into a new file (written from its catalog); open it."""
    out = io.BytesIO()
    writer = PdfWriter(out, "1.7")
    written = writer.copy(part, starts, {})
    _finish(writer, b"/Written [%s]" % b" ".join(b"%d 0 R" % n for n in written))
    return pikepdf.open(io.BytesIO(out.getvalue())), written


def test_references_are_renumbered_and_strings_left_alone():
    tricky = [
        b"1 0 R",
        b"see 2 0 R (and 3 0 R)",
        b"a) 4 0 R \\ (",
        b"\x00\xff 5 0 R\n6 0 R\r",
    ]
    with pikepdf.new() as part:
        for _ in range(5):  # the part's numbers are not those of the copy
            part.make_indirect(pikepdf.Dictionary(Unused=True))
        leaf = part.make_indirect(pikepdf.Dictionary(Leaf=pikepdf.Name("/A1")))
        other = part.make_indirect(pikepdf.Array([leaf, 7, pikepdf.String(b"8 0 R")]))
        item = part.make_indirect(
            pikepdf.Dictionary(
                {
                    "/Strings": pikepdf.Array([pikepdf.String(s) for s in tricky]),
                    "/Nested": pikepdf.Array([pikepdf.Dictionary(X=leaf), [other, leaf]]),
                    "/A1": other,
                    "/Ratio": 1.5,
                }
            )
        )
        assert item.unparse(resolved=True).count(b" R") > 4
        copy, (number,) = _copied(part, [item])
    with copy:
        written = copy.get_object(number, 0)
        assert [bytes(s) for s in written.Strings] == tricky
        assert written.Nested[0].X.Leaf == "/A1"
        assert written.Nested[1][0].objgen == written.A1.objgen
        assert written.A1[0].objgen == written.Nested[0].X.objgen
        assert written.A1[1] == 7
        assert bytes(written.A1[2]) == b"8 0 R"
        assert written.Ratio == 1.5
        # The leaf, reached three ways, is written once: the dummies are not written at all.
        assert len(copy.objects) == 5  # item, other, leaf, page tree, catalog
        assert copy.get_warnings() == []


def test_a_string_alone_is_not_taken_for_a_reference():
    with pikepdf.new() as part:
        item = part.make_indirect(pikepdf.Dictionary(S=pikepdf.String("x 1 0 R y")))
        copy, (number,) = _copied(part, [item])
    with copy:
        assert str(copy.get_object(number, 0).S) == "x 1 0 R y"


def test_a_direct_start_becomes_an_object_and_a_local_reference_differs_per_object():
    with pikepdf.new() as part:
        stand_in = part.make_indirect(pikepdf.Dictionary())
        first = part.make_indirect(pikepdf.Dictionary(Target=stand_in))
        second = part.make_indirect(pikepdf.Dictionary(Target=stand_in))
        direct = pikepdf.Dictionary(Both=pikepdf.Array([first, second]))
        out = io.BytesIO()
        writer = PdfWriter(out, "1.7")
        targets = [writer.reserve(), writer.reserve()]
        for target, name in zip(targets, (b"/One", b"/Two"), strict=True):
            writer.write_raw(target, b"<</Name %s>>" % name)
        local = {first.objgen: {stand_in.objgen: targets[0]}}
        local[second.objgen] = {stand_in.objgen: targets[1]}
        (number,) = writer.copy(part, [direct], {}, local)
        _finish(writer, b"/Start %d 0 R" % number)
    with pikepdf.open(io.BytesIO(out.getvalue())) as copy:
        both = copy.Root.Start.Both
        assert [both[0].Target.Name, both[1].Target.Name] == ["/One", "/Two"]
        assert copy.get_warnings() == []


def test_a_reference_to_a_missing_object_is_written_as_null():
    with pikepdf.new() as source:
        source.add_blank_page()
        source.Root.Ghost = source.make_indirect(pikepdf.Dictionary(A=1))
        source.Root.Kept = pikepdf.Array([source.Root.Ghost])
        out = io.BytesIO()
        source.save(out, object_stream_mode=pikepdf.ObjectStreamMode.disable)
    # The references now name objects 98 and 99, which are not there. (The offsets move: qpdf
    # rebuilds the cross-reference table, and keeps the reference in the array.)
    data = re.sub(rb"/Ghost \d 0 R", b"/Ghost 99 0 R", out.getvalue())
    data = re.sub(rb"/Kept \[ \d 0 R", b"/Kept [ 98 0 R", data)
    with pikepdf.open(io.BytesIO(data)) as part:
        assert part.Root.Kept.unparse(resolved=True) == b"[ 98 0 R ]"
        assert part.get_object(98, 0) is None
        copy, (number,) = _copied(part, [part.Root.Kept])
    with copy:
        assert list(copy.get_object(number, 0)) == [None]
        assert copy.get_warnings() == []


def test_a_stream_written_from_data_never_ends_in_a_carriage_return():
    # (A footer line whose compressed form ends in CR broke PDF/A: see _without_final_cr.)
    endings = {}
    for first in range(33, 127):
        for second in range(33, 127):
            data = b"BT /F 7.5 Tf 10 10 Td (Page %c%c) Tj ET" % (first, second)
            endings.setdefault(zlib.compress(data).endswith(b"\r"), data)
    out = io.BytesIO()
    writer = PdfWriter(out, "1.7")
    numbers = [writer.reserve(), writer.reserve()]
    for number, data in zip(numbers, (endings[True], endings[False]), strict=True):
        writer.write_stream(number, data)
    _finish(writer, b"/Written [%d 0 R %d 0 R]" % tuple(numbers))
    assert b"\r\nendstream" not in out.getvalue()
    with pikepdf.open(io.BytesIO(out.getvalue())) as copy:
        streams = list(copy.Root.Written)
        assert [s.read_bytes() for s in streams] == [endings[True], endings[False]]
        assert [s.Filter.unparse() for s in streams] == [
            b"[ /ASCII85Decode /FlateDecode ]",
            b"/FlateDecode",
        ]
        assert copy.get_warnings() == []
