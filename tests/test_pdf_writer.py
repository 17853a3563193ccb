"""Writing a PDF object by object: renumbered references, raw streams, a valid cross-reference."""

import io
import zlib

import pikepdf
import pytest

from campaign.pdf_writer import PdfWriter, reachable


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
    numbers: dict[tuple[int, int], int] = {}
    page = part.pages[0].obj
    objects = reachable([page], numbers)
    for item in objects:
        numbers[item.objgen] = writer.reserve()
    for item in objects:
        overrides = {"/Parent": b"%d 0 R" % tree} if item.objgen == page.objgen else None
        writer.write(numbers[item.objgen], item, numbers, overrides)
    writer.write_raw(tree, b"<</Type /Pages /Count 1 /Kids [%d 0 R]>>" % numbers[page.objgen])
    catalog = b"<</Type /Catalog /Pages %d 0 R" % tree
    if metadata is not None:
        xmp = part.make_stream(b"")
        xmp.write(zlib.compress(metadata), filter=pikepdf.Name.FlateDecode)
        xmp.Type, xmp.Subtype = pikepdf.Name.Metadata, pikepdf.Name.XML
        number = writer.reserve()
        writer.write(number, xmp, numbers)
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
