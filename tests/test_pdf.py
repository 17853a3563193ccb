"""HTML -> PDF: the locked-down fetcher, metadata and attachments, and the worker pool."""

import base64
import io
import os
import pickle
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.request
import zlib
from datetime import UTC
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pikepdf
import pytest
import tinycss2
from PIL import Image
from pypdf import PdfReader

from campaign.pdf import (
    NotOwnMarkup,
    PdfMetadata,
    RenderJob,
    own_markup_tree,
    render_pdf,
    user_agent_subset,
)
from campaign.pdf_fetcher import AppFetcher, PdfAttachment, RefusedURL
from campaign.pdf_images import plain_png_idat
from campaign.pdf_workers import (
    RenderError,
    RenderTimeout,
    pool_pids,
    render_many,
    start_workers,
)

ROOT = Path(__file__).resolve().parent.parent
LEAK = "LEAKED-MARKER"
CSV = PdfAttachment("signatures.csv", "n,ФИО\n1,Анна\n".encode(), "Signatures")


def png(colour: str = "red", size: tuple[int, int] = (8, 6)) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", size, colour).save(buffer, "PNG")
    return buffer.getvalue()


def page(body: str, head: str = "") -> str:
    return f"<!DOCTYPE html><html lang=ru><head>{head}</head><body><p>Текст</p>{body}</body></html>"


def images(pdf: bytes) -> list[str]:
    """Return the names of the image XObjects drawn on the pages."""
    found = []
    for pdf_page in PdfReader(io.BytesIO(pdf)).pages:
        xobjects = pdf_page["/Resources"].get_object().get("/XObject", {})
        for name, xobject in xobjects.get_object().items():
            if xobject.get_object().get("/Subtype") == "/Image":
                found.append(name)
    return found


def attachments(pdf: bytes) -> list[str]:
    return sorted(PdfReader(io.BytesIO(pdf)).attachments)


def text(pdf: bytes) -> str:
    return "".join(p.extract_text() for p in PdfReader(io.BytesIO(pdf)).pages)


def annotations(pdf: bytes) -> list[dict]:
    return [
        annot.get_object()
        for pdf_page in PdfReader(io.BytesIO(pdf)).pages
        for annot in pdf_page.get("/Annots", [])
    ]


@pytest.fixture
def server():
    """Serve anything on 127.0.0.1 and record every request (the renderer must make none)."""
    requests: list[str] = []

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self):
            requests.append(self.path)
            if self.path.endswith(".css"):
                body, kind = f'p::after {{ content: "{LEAK}" }}'.encode(), "text/css"
            elif self.path.endswith(".png"):
                body, kind = png(), "image/png"
            else:
                body, kind = b"root:x:0:0:root:/root:/bin/bash\n", "text/plain"
            self.send_response(200)
            self.send_header("Content-Type", kind)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args):
            pass

    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    httpd.requests = requests
    httpd.url = f"http://127.0.0.1:{httpd.server_address[1]}"
    yield httpd
    httpd.shutdown()
    httpd.server_close()
    thread.join()


@pytest.fixture
def no_io(monkeypatch):
    """Record any urllib opening or socket connection made during the test."""
    calls: list[str] = []
    real_open = urllib.request.OpenerDirector.open
    real_connect = socket.socket.connect

    def spy_open(self, url, *args, **kwargs):
        calls.append(f"urllib {url}")
        return real_open(self, url, *args, **kwargs)

    def spy_connect(self, address):
        calls.append(f"connect {address}")
        return real_connect(self, address)

    monkeypatch.setattr(urllib.request.OpenerDirector, "open", spy_open)
    monkeypatch.setattr(socket.socket, "connect", spy_connect)
    return calls


@pytest.fixture
def static(tmp_path):
    """A static root with a stylesheet and an image, and a secret PNG and CSS just outside."""
    root = tmp_path / "static"
    (root / "css").mkdir(parents=True)
    (root / "img").mkdir()
    (root / "css" / "test.css").write_text('p::after { content: "FROM-STATIC" }')
    (root / "img" / "dot.png").write_bytes(png("blue"))
    (tmp_path / "secret.png").write_bytes(png("green"))
    (tmp_path / "secret.css").write_text(f'p::after {{ content: "{LEAK}" }}')
    (root / "leak.png").symlink_to(tmp_path / "secret.png")
    (root / "outside").symlink_to(tmp_path, target_is_directory=True)
    return root


def render(html: str, static: Path, **job) -> bytes:
    return render_pdf(RenderJob(html, **job), static)


# The fetcher itself.


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1:9/x.png",
        "https://example.org/x.png",
        "ftp://example.org/x.png",
        "file:///etc/passwd",
        "data:image/png;base64,iVBORw0KGgo=",
        "gopher://example.org/",
        "app://evil.example/static/img/dot.png",
        "app:///static/../../../etc/passwd",
        "app:///static/%2e%2e/secret.png",
        "app:///static/img/../../secret.png",
        "app:///static/leak.png",
        "app:///static/outside/secret.png",
        "app:///static/img",
        "app:///static/img/",
        "app:///static/",
        "app:///static/missing.css",
        "app:///data/missing.png",
        "app:///other/x.png",
        "static/img/dot.png",
        "/etc/passwd",
    ],
)
def test_fetcher_refuses(url, static, no_io):
    fetcher = AppFetcher(static, {"x.png": png()})
    with pytest.raises(RefusedURL):
        fetcher.fetch(url)
    with pytest.raises(RefusedURL):
        fetcher(url)
    assert no_io == []


def test_fetcher_serves_static_files_and_data(static):
    fetcher = AppFetcher(static, {"x.png": b"PNG", "s.css": b"p {}"})
    css = fetcher.fetch("app:///static/css/test.css")
    assert css.content_type == "text/css"
    assert b"FROM-STATIC" in css.read()
    assert fetcher.fetch("app:///static/img/dot.png").content_type == "image/png"
    assert fetcher.fetch("app:///data/x.png").read() == b"PNG"
    assert fetcher.fetch("app:///data/s.css").content_type == "text/css"


# Rendering: nothing is fetched or embedded but our own resources.


def test_static_and_data_resources_are_embedded(static):
    pdf = render(
        page(
            '<img src="app:///static/img/dot.png">',
            '<link rel=stylesheet href="app:///static/css/test.css">',
        ),
        static,
    )
    assert len(images(pdf)) == 1
    assert "FROM-STATIC" in text(pdf)
    pdf = render(page('<img src="app:///data/x.png">'), static, resources={"x.png": png()})
    assert len(images(pdf)) == 1


def test_opaque_images_are_painted_onto_white_without_a_soft_mask(static):
    drawing = Image.new("RGBA", (20, 10), (0, 0, 0, 0))
    drawing.putpixel((3, 3), (16, 42, 67, 255))  # the pen's navy ink
    buffer = io.BytesIO()
    drawing.save(buffer, "PNG")
    html = page('<img src="app:///data/s.png">')
    resources = {"s.png": buffer.getvalue(), "x.png": png()}

    def drawn(pdf: bytes) -> list:
        return [
            xobject.get_object()
            for pdf_page in PdfReader(io.BytesIO(pdf)).pages
            for xobject in pdf_page["/Resources"]["/XObject"].values()
        ]

    (masked,) = drawn(render(html, static, resources=resources))
    assert "/SMask" in masked
    (opaque,) = drawn(render(html, static, resources=resources, opaque_images=True))
    assert "/SMask" not in opaque
    assert opaque["/ColorSpace"] == "/DeviceRGB"
    pixels = Image.frombytes("RGB", (20, 10), opaque.get_data())
    assert pixels.getpixel((3, 3)) == (16, 42, 67)
    assert pixels.getpixel((0, 0)) == (255, 255, 255)


def encoded(image: Image.Image, **save) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, "PNG", **save)
    return buffer.getvalue()


def idat(data: bytes) -> bytes:
    chunks, position = [], 8
    while position < len(data):
        length = int.from_bytes(data[position : position + 4], "big")
        if data[position + 4 : position + 8] == b"IDAT":
            chunks.append(data[position + 8 : position + 8 + length])
        position += 12 + length
    return b"".join(chunks)


def noise(mode: str) -> Image.Image:
    return Image.frombytes(
        mode, (37, 11), bytes((i * 97 + i // 7) % 256 for i in range(37 * 11 * len(mode)))
    )


def with_header_byte(data: bytes, offset: int, value: int) -> bytes:
    """Change a byte of the IHDR chunk (offset counted from the start of the file)."""
    changed = data[:offset] + bytes([value]) + data[offset + 1 :]
    crc = zlib.crc32(changed[12:29]).to_bytes(4, "big")
    return changed[:29] + crc + changed[33:]


def test_plain_png_idat_takes_only_what_a_pdf_can_use_as_it_is():
    rgb, grey = encoded(noise("RGB")), encoded(noise("L"), optimize=True)
    assert plain_png_idat(rgb) == idat(rgb) and plain_png_idat(grey) == idat(grey)
    for refused in (
        encoded(noise("RGBA")),
        encoded(noise("LA")),
        encoded(noise("RGB").convert("P")),
        encoded(noise("RGB"), transparency=(0, 0, 0)),
        encoded(noise("L").convert("1")),
        encoded(noise("L").convert("I;16")),
        with_header_byte(rgb, 28, 1),  # interlaced
        rgb[:40],
        b"GIF89a" + rgb[6:],
        b"",
    ):
        assert plain_png_idat(refused) is None


@pytest.mark.parametrize("mode", ["RGB", "L"])
def test_a_plain_png_is_embedded_as_it_is_with_the_same_pixels(static, mode):
    picture = noise(mode)
    data = encoded(picture, optimize=True)
    pdf = render(page('<img src="app:///data/x.png">'), static, resources={"x.png": data})
    with pikepdf.Pdf.open(io.BytesIO(pdf)) as parsed:
        (raw,) = parsed.pages[0].Resources.XObject.values()
        assert raw.read_raw_bytes() == idat(data)  # the file's own compressed pixels
    (xobject,) = PdfReader(io.BytesIO(pdf)).pages[0]["/Resources"]["/XObject"].values()
    xobject = xobject.get_object()
    assert xobject["/ColorSpace"] == ("/DeviceRGB" if mode == "RGB" else "/DeviceGray")
    assert xobject.get_data() == picture.tobytes()


def test_other_pngs_are_still_re_encoded_by_weasyprint(static):
    palette = noise("RGB").quantize(16)
    pdf = render(
        page('<img src="app:///data/x.png">'), static, resources={"x.png": encoded(palette)}
    )
    (xobject,) = PdfReader(io.BytesIO(pdf)).pages[0]["/Resources"]["/XObject"].values()
    assert xobject.get_object().get_data() == palette.convert("RGB").tobytes()


OWN = frozenset({"html", "head", "title", "meta", "body", "p", "em", "img"})


def test_own_markup_is_parsed_into_the_tree_weasyprint_lays_out():
    root = own_markup_tree(
        '<!doctype html>\n<html lang="ru"><head><meta charset="utf-8"><title>T</title></head>'
        '<body class="x"><p data-a>№&nbsp;1 &lt;b&gt; &#34;<em>ok</em></p>'
        '<img src="a.png" alt=""></body></html>\n',
        OWN,
    )
    assert root.tag == "html" and root.get("lang") == "ru"
    head, body = root
    assert [child.tag for child in head] == ["meta", "title"]
    paragraph, image = body
    assert paragraph.get("data-a") == ""
    assert paragraph.text == '№\xa01 <b> "' and paragraph[0].text == "ok"
    assert image.get("src") == "a.png" and len(image) == 0


@pytest.mark.parametrize(
    "markup",
    [
        "<html><head></head><body><script>x()</script></body></html>",  # not among the elements
        "<html><head></head><body><p><em>x</p></em></body></html>",  # badly nested
        "<html><head></head><body><p>x</body></html>",  # left open
        "<html><head></head><body></body></html><p>x</p>",  # after the root
        "stray<html><head></head><body></body></html>",  # text outside the root
        "<html><body><p>x</p></body></html>",  # no head
        "<html><head></head><body></body>",  # the root left open
    ],
)
def test_own_markup_parser_refuses_what_it_would_have_to_repair(markup):
    with pytest.raises(NotOwnMarkup):
        own_markup_tree(markup, OWN)


def test_a_job_of_own_markup_that_is_not_fails(static):
    with pytest.raises(NotOwnMarkup):
        render(page("<table></table>"), static, user_agent_elements=tuple(OWN))


def test_user_agent_subset_keeps_the_rules_of_the_given_elements_only():
    sheet = user_agent_subset(frozenset({"table", "tr", "td", "em"}))
    parsed = tinycss2.parse_stylesheet(sheet, skip_whitespace=True)
    rules: dict[str, str] = {}
    for rule in parsed:
        if rule.type == "qualified-rule":
            for selector in tinycss2.serialize(rule.prelude).split(","):
                rules[selector.strip()] = rules.get(selector.strip(), "") + tinycss2.serialize(
                    rule.content
                )
    assert "display: table-cell" in rules["td"]
    assert "display: table-row" in rules["tr"]
    assert "font-style: italic" in rules["em"]
    assert "th" not in rules and "li" not in rules and "body" not in rules
    assert not any("[" in selector or ":" in selector for selector in rules)
    assert any(rule.type == "at-rule" and rule.lower_at_keyword == "page" for rule in parsed)


def test_project_static_root_serves_its_stylesheet():
    pdf = render(
        page("", '<link rel=stylesheet href="app:///static/css/site.css">'), ROOT / "static"
    )
    assert "Текст" in text(pdf)


@pytest.mark.parametrize(
    "body",
    [
        '<img src="{url}/x.png">',
        '<div style="background: url({url}/bg.png); height: 1cm"></div>',
        '<svg width="10" height="10"><image href="{url}/svg.png" width="10" height="10"/></svg>',
        "<object data='{url}/o.png'></object>",
        '<style>@import url("{url}/a.css");</style>',
        "<link rel=stylesheet href='{url}/l.css'>",
        "<style>@font-face {{ font-family: X; src: url({url}/f.ttf) }} p {{ font: 9pt X }}</style>",
        "<link rel=attachment href='{url}/'>",
        "<a rel=attachment href='{url}/a.txt'>attached</a>",
    ],
)
def test_network_is_never_reached(body, server, static, no_io):
    pdf = render(page(body.format(url=server.url)), static, attachments=(CSV,))
    assert server.requests == []
    assert no_io == []
    assert images(pdf) == []
    assert attachments(pdf) == ["signatures.csv"]
    assert LEAK not in text(pdf)


def test_svg_resources_cannot_reach_out(server, static, no_io):
    size = 'width="10" height="10"'
    svg = (
        '<svg xmlns="http://www.w3.org/2000/svg" xmlns:xlink="http://www.w3.org/1999/xlink"'
        f' {size}><image xlink:href="{server.url}/in-svg.png" {size}/>'
        f'<image href="file://{static.parent}/secret.png" {size}/></svg>'
    )
    pdf = render(page('<img src="app:///data/e.svg">'), static, resources={"e.svg": svg.encode()})
    assert server.requests == []
    assert no_io == []
    assert images(pdf) == []


def test_base_element_does_not_open_the_network(server, static):
    pdf = render(page('<img src="x.png">', f'<base href="{server.url}/">'), static)
    assert server.requests == []
    assert images(pdf) == []


@pytest.mark.parametrize(
    "body",
    [
        '<img src="file:///etc/passwd">',
        '<img src="file://{tmp}/secret.png">',
        '<a href="file:///etc/passwd">passwd</a>',
        '<link rel="attachment" href="file:///etc/passwd">',
        '<a rel="attachment" href="file:///etc/passwd">passwd</a>',
        '<style>@import "file:///etc/passwd";</style>',
        '<style>@import "file://{tmp}/secret.css";</style>',
        '<link rel=stylesheet href="file://{tmp}/secret.css">',
        '<img src="app:///static/../../../etc/passwd">',
        '<img src="app:///static/../secret.png">',
        '<img src="app:///static/%2e%2e/secret.png">',
        '<img src="app:///static/leak.png">',
        '<img src="app:///static/outside/secret.png">',
        '<link rel=stylesheet href="app:///static/../secret.css">',
        '<link rel=attachment href="app:///static/img/dot.png">',
        '<link rel=attachment href="app:///data/x.png">',
        '<img src="data:image/png;base64,{png64}">',
        "<style>@import \"data:text/css,p::after{{content:'{leak}'}}\";</style>",
        "<link rel=attachment href='data:text/plain,hello'>",
    ],
)
def test_files_outside_the_app_are_never_read(body, static, no_io):
    html = body.format(tmp=static.parent, png64=base64.b64encode(png()).decode(), leak=LEAK)
    pdf = render(page(html), static, resources={"x.png": png()}, attachments=(CSV,))
    assert no_io == []
    assert images(pdf) == []
    assert attachments(pdf) == ["signatures.csv"]
    assert LEAK not in text(pdf)
    assert "root:" not in text(pdf)


def test_links_keep_only_web_addresses(static):
    pdf = render(
        page(
            '<a href="file:///etc/passwd">f</a> <a href="app:///static/css/test.css">a</a>'
            ' <a href="javascript:alert(1)">j</a> <a href="https://example.org/">w</a>'
        ),
        static,
    )
    uris = [annot["/A"]["/URI"] for annot in annotations(pdf) if "/A" in annot]
    assert uris == ["https://example.org/"]


def test_pdfa_metadata_and_attachment(static):
    metadata = PdfMetadata("Досье", "Инициативная группа", "ru", "Подписи", ("обращение",))
    pdf = render(
        page('<img src="app:///data/x.png">', "<title>Other</title><meta name=author content=X>"),
        static,
        resources={"x.png": png()},
        pdf_variant="pdf/a-3b",
        attachments=(CSV,),
        metadata=metadata,
    )
    reader = PdfReader(io.BytesIO(pdf))
    info, xmp = reader.metadata, reader.xmp_metadata
    assert info.title == xmp.dc_title["x-default"] == "Досье"
    assert info.author == xmp.dc_creator[0] == "Инициативная группа"
    assert info.subject == xmp.dc_description["x-default"] == "Подписи"
    assert info.producer == xmp.pdf_producer
    # pypdf reads XMP dates as naive UTC.
    assert info.creation_date.astimezone(UTC).replace(tzinfo=None) == xmp.xmp_create_date
    assert info.modification_date.astimezone(UTC).replace(tzinfo=None) == xmp.xmp_modify_date
    assert reader.trailer["/Root"]["/Lang"] == "ru"
    raw = xmp.stream.get_data()
    assert b'pdfaid:part="3"' in raw
    assert b'pdfaid:conformance="B"' in raw
    catalog = reader.trailer["/Root"]
    assert len(catalog["/AF"]) == 1
    spec = catalog["/AF"][0].get_object()
    assert spec["/AFRelationship"] == "/Data"
    assert spec["/EF"]["/F"].get_object()["/Subtype"] == "/text/csv"
    assert reader.attachments == {"signatures.csv": [CSV.data]}
    assert "/OutputIntents" in catalog
    # PDF/A forbids interpolated images.
    (image,) = reader.pages[0]["/Resources"]["/XObject"].values()
    assert image.get_object().get("/Interpolate") in (None, False)


def test_job_is_picklable():
    job = RenderJob("<p>x</p>", {"x.png": b"1"}, "pdf/a-3b", (CSV,), PdfMetadata("t", "a", "ru"))
    assert pickle.loads(pickle.dumps(job)) == job


# The worker pool.


def _job(label: str, rows: int = 1) -> RenderJob:
    table = "".join(f"<tr><td>{label} {i}</td></tr>" for i in range(rows))
    return RenderJob(page(f"<h1>{label}</h1><table>{table}</table>"))


def test_render_many_keeps_order_and_reports_progress():
    done: list[tuple[int, int]] = []
    jobs = [_job("first", 300), _job("second"), _job("third"), _job("fourth")]
    pdfs = render_many(
        jobs,
        static_root=ROOT / "static",
        processes=2,
        time_limit=120,
        on_done=lambda index: done.append((index, threading.get_ident())),
    )
    assert [text(pdf).split()[1] for pdf in pdfs] == ["first", "second", "third", "fourth"]
    assert sorted(index for index, _ in done) == [0, 1, 2, 3]
    assert {thread for _, thread in done} == {threading.get_ident()}


@pytest.mark.parametrize("processes", [0, 2])
def test_render_many_hands_each_pdf_to_keep_as_it_arrives(processes, tmp_path):
    kept: list[tuple[int, int]] = []

    def keep(index: int, pdf: bytes) -> Path:
        kept.append((index, threading.get_ident()))
        path = tmp_path / f"{index}.pdf"
        path.write_bytes(pdf)
        return path

    results = render_many(
        [_job("a"), _job("b", 200), _job("c")],
        static_root=ROOT / "static",
        processes=processes,
        time_limit=120,
        keep=keep,
    )
    assert results == [tmp_path / "0.pdf", tmp_path / "1.pdf", tmp_path / "2.pdf"]
    assert [text(path.read_bytes()).split()[1] for path in results] == ["a", "b", "c"]
    assert sorted(index for index, _ in kept) == [0, 1, 2]
    assert {thread for _, thread in kept} == {threading.get_ident()}


def test_render_many_in_process():
    done: list[int] = []
    pdfs = render_many(
        [_job("a"), _job("b")],
        static_root=ROOT / "static",
        processes=0,
        time_limit=0,
        on_done=done.append,
    )
    assert [text(pdf).split()[1] for pdf in pdfs] == ["a", "b"]
    assert done == [0, 1]


def _alive(pid: int) -> bool:
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except FileNotFoundError:
        return False
    return "State:\tZ" not in status


def test_time_limit_kills_the_workers_and_the_next_call_works():
    render_many([_job("warm")], static_root=ROOT / "static", processes=2, time_limit=60)
    workers = pool_pids()
    assert len(workers) == 2
    with pytest.raises(RenderTimeout):
        render_many([_job("slow", 4000)], static_root=ROOT / "static", processes=2, time_limit=1)
    deadline = time.monotonic() + 10
    while any(_alive(pid) for pid in workers) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not any(_alive(pid) for pid in workers)
    pdfs = render_many([_job("after")], static_root=ROOT / "static", processes=2, time_limit=60)
    assert "after" in text(pdfs[0])
    assert set(pool_pids()).isdisjoint(workers)


def test_workers_leave_an_interrupt_to_the_application():
    # Ctrl-C reaches every process of the terminal's group: the workers must neither die
    # with a traceback each nor stop serving; the application stops them as it exits.
    render_many([_job("warm")], static_root=ROOT / "static", processes=2, time_limit=60)
    workers = pool_pids()
    for pid in workers:
        os.kill(pid, signal.SIGINT)
    time.sleep(0.5)
    assert all(_alive(pid) for pid in workers)
    pdfs = render_many([_job("still")], static_root=ROOT / "static", processes=2, time_limit=60)
    assert "still" in text(pdfs[0])
    assert pool_pids() == workers


def test_workers_started_ahead_serve_the_next_render():
    render_many([_job("warm")], static_root=ROOT / "static", processes=1, time_limit=60)
    start_workers(2)
    deadline = time.monotonic() + 30
    while len(pool_pids()) != 2 and time.monotonic() < deadline:
        time.sleep(0.05)
    started = pool_pids()
    assert len(started) == 2
    pdfs = render_many([_job("next")], static_root=ROOT / "static", processes=2, time_limit=60)
    assert "next" in text(pdfs[0])
    assert pool_pids() == started
    start_workers(0)  # rendering in process: nothing to start
    assert pool_pids() == started


def test_workers_that_cannot_start_ahead_leave_it_to_the_render(monkeypatch, caplog):
    from campaign import pdf_workers as renderer

    real = renderer._get_pool
    calls = []

    def failing(processes):
        calls.append(processes)
        if len(calls) == 1:
            raise OSError("no more processes")
        return real(processes)

    renderer.shutdown()
    monkeypatch.setattr(renderer, "_get_pool", failing)
    start_workers(2)
    deadline = time.monotonic() + 10
    while not caplog.records and time.monotonic() < deadline:
        time.sleep(0.05)
    assert [r.getMessage() for r in caplog.records] == ["render workers not started ahead: OSError"]
    pdfs = render_many([_job("later")], static_root=ROOT / "static", processes=2, time_limit=60)
    assert "later" in text(pdfs[0])
    assert calls == [2, 2]


def test_worker_failure_is_a_short_render_error():
    secret = "SECRET-MARKUP-" + "x" * 5000
    with pytest.raises(RenderError) as caught:
        render_many(
            [RenderJob(page(secret), pdf_variant="pdf/zz")],
            static_root=ROOT / "static",
            processes=2,
            time_limit=60,
        )
    assert not isinstance(caught.value, RenderTimeout)
    assert "SECRET-MARKUP" not in str(caught.value)
    assert len(str(caught.value)) < 300
    assert render_many([_job("ok")], static_root=ROOT / "static", processes=2, time_limit=60)


def test_pool_leaves_nothing_behind_at_exit(tmp_path):
    script = tmp_path / "pool_exit.py"
    script.write_text(
        "from pathlib import Path\n"
        "from campaign.pdf import RenderJob\n"
        "from campaign.pdf_workers import render_many\n"
        "if __name__ == '__main__':\n"
        f"    pdfs = render_many([RenderJob('<p>x</p>')] * 2, static_root=Path({str(ROOT)!r}),"
        " processes=2, time_limit=60)\n"
        "    assert all(pdf.startswith(b'%PDF-') for pdf in pdfs)\n"
    )
    result = subprocess.run(
        [sys.executable, "-W", "error", "-X", "dev", str(script)],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    assert result.stderr == ""
