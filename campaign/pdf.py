"""Turn HTML into PDF with a fetcher that serves only the app's own files, in worker processes."""

from __future__ import annotations

import atexit
import copy
import io
import logging
import mimetypes
import multiprocessing
import multiprocessing.forkserver
import multiprocessing.pool
import queue
import signal
import struct
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.message import EmailMessage
from functools import cache
from html.parser import HTMLParser
from pathlib import Path
from types import MappingProxyType
from typing import Any, Protocol
from urllib.parse import unquote, urlsplit
from xml.etree import ElementTree

from PIL import Image
from weasyprint import CSS, HTML, Attachment
from weasyprint.urls import URLFetcher, URLFetcherResponse

from campaign import pdf_weasyprint_hooks as hooks

log = logging.getLogger(__name__)

# Templates name every file absolutely, in their CSS too: app:///static/<path> for files under
# the static root, app:///data/<name> for RenderJob.resources. urljoin knows no "app" scheme, so
# a relative URL stays relative and the fetcher refuses it.
BASE_URL = "app:///"

# Workers are forked from a fork server that has already imported WeasyPrint and this module.
# Measured (2 workers, 2 one-line jobs, 2 busy cores): "fork" 0.26 s for a new pool, "spawn"
# 1.2-1.3 s for every new pool (interpreter start and imports in each worker), "forkserver"
# 1.2 s once per process (starting the server) and then 0.21 s for a new pool, like fork; a
# warm pool answers in 0.04 s with any method. Unlike a plain fork, the fork server never copies
# the threads and held locks of a multithreaded Flask process into a worker.
START_METHOD = "forkserver"

# Links a reader may follow from the PDF; anything else (file:, app:, javascript:...) is dropped.
_LINK_SCHEMES = frozenset({"http", "https", "mailto"})

# PDF/A forbids interpolated images; templates may still override this per element.
_PDFA_CSS = "html { image-rendering: crisp-edges }"

_ATTACHMENT_PREFIX = "/attachment/"
_PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


@dataclass(frozen=True)
class PlainPng:
    """A PNG a PDF can take as it is: its size, colour type and compressed pixel data."""

    width: int
    height: int
    rgb: bool  # else greyscale
    idat: bytes  # the IDAT chunks joined: a FlateDecode stream with the PNG predictors


def plain_png(data: bytes) -> PlainPng | None:
    """Return a PNG's dimensions and pixel data if a PDF can take it as it is, else None.

    That is an 8-bit, non-interlaced greyscale or RGB PNG without transparency.
    """
    if not data.startswith(_PNG_MAGIC):
        return None
    chunks, position = [], len(_PNG_MAGIC)
    header = None
    while position + 8 <= len(data):
        (length,) = struct.unpack(">I", data[position : position + 4])
        kind = data[position + 4 : position + 8]
        body = data[position + 8 : position + 8 + length]
        if len(body) != length:
            return None
        if kind == b"IHDR":
            header = body
        elif kind == b"IDAT":
            chunks.append(body)
        elif kind == b"tRNS":
            return None
        elif kind == b"IEND":
            break
        position += 12 + length
    if header is None or len(header) != 13 or not chunks:
        return None
    width, height = struct.unpack(">II", header[:8])
    depth, colour, compression, filtering, interlace = header[8:13]
    if depth != 8 or colour not in (0, 2) or (compression, filtering, interlace) != (0, 0, 0):
        return None
    if not width or not height:
        return None
    return PlainPng(width, height, colour == 2, b"".join(chunks))


def png_size(data: bytes) -> tuple[int, int] | None:
    """Return a PNG's width and height in pixels from its header, or None if it is not one."""
    if not data.startswith(_PNG_MAGIC) or data[12:16] != b"IHDR" or len(data) < 24:
        return None
    width, height = struct.unpack(">II", data[16:24])
    return (width, height) if width and height else None


def plain_png_idat(data: bytes) -> bytes | None:
    """Return a PNG's compressed pixel data if a PDF can take it as it is, else None."""
    image = plain_png(data)
    return None if image is None else image.idat


hooks.install(plain_png_idat)


class RenderError(Exception):
    """A document could not be rendered."""


class RenderTimeout(RenderError):
    """A batch of documents was not rendered within its time limit."""


class RefusedURL(ValueError):
    """The fetcher refused a URL: it is not one of the app's own resources."""


@dataclass(frozen=True)
class PdfAttachment:
    """A file embedded in the PDF (for PDF/A-3b: an associated file with a relationship)."""

    name: str
    data: bytes
    description: str = ""
    mime_type: str = "text/csv"
    relationship: str = "Data"


@dataclass(frozen=True)
class PdfMetadata:
    """Document metadata written to both the Info dictionary and the XMP packet."""

    title: str
    author: str
    language: str
    subject: str | None = None
    keywords: tuple[str, ...] = ()
    # None means "when rendered"; give the snapshot time to make parts reproducible.
    created: datetime | None = None


@dataclass(frozen=True)
class RenderJob:
    """One HTML document to render, with the in-memory files it references."""

    html: str
    resources: Mapping[str, bytes] = field(default_factory=dict)
    pdf_variant: str | None = None
    attachments: tuple[PdfAttachment, ...] = ()
    metadata: PdfMetadata | None = None
    # Paint transparent PNG resources onto white before layout. An image with transparency
    # becomes two PDF objects (the image and its soft mask): on a table with an image per row,
    # this halves the objects, which is most of the memory the final merge needs.
    opaque_images: bool = False
    # The HTML elements the document uses, when it is markup of our own: WeasyPrint's
    # user-agent stylesheet is then cut down to the rules for those elements (matching every
    # element against the whole stylesheet is a fifth of a table's render), and the markup is
    # read by a plain parser (tinyhtml5, a whole HTML5 parser in Python, is a tenth). The
    # result is the same (a test compares the pages).
    user_agent_elements: tuple[str, ...] = ()


class AppFetcher(URLFetcher):
    """Serve app:///static/<path> from static_root and app:///data/<name>; refuse everything else.

    A refusal raises before any I/O: no socket, no file outside static_root is ever opened.
    WeasyPrint catches the exception, logs one line with the URL and skips the resource.
    """

    def __init__(
        self,
        static_root: Path,
        resources: Mapping[str, bytes],
        *,
        attachments: Sequence[PdfAttachment] = (),
    ) -> None:
        # An empty protocol list makes the inherited urllib-based fetch() refuse every URL,
        # should anything ever call it; redirects are off for the same reason.
        super().__init__(allowed_protocols=(), allow_redirects=False, fail_on_errors=False)
        self._static_root = Path(static_root).resolve()
        self._resources = MappingProxyType(dict(resources))
        self._attachments = {str(i): item for i, item in enumerate(attachments)}

    def fetch(self, url: str, headers: Mapping[str, str] | None = None) -> URLFetcherResponse:
        """Return the app resource at url, or raise RefusedURL without touching anything."""
        try:
            parts = urlsplit(url)
        except ValueError:
            raise RefusedURL("malformed URL") from None
        if parts.scheme.lower() != "app" or parts.netloc:
            raise RefusedURL(f"not an app URL (scheme {parts.scheme[:10]!r})")
        path = unquote(parts.path)
        if path.startswith("/static/"):
            data, mime_type = self._static(path.removeprefix("/static/"))
        elif path.startswith("/data/"):
            name = path.removeprefix("/data/")
            if name not in self._resources:
                raise RefusedURL(f"no in-memory resource {name[:80]!r}")
            data, mime_type = self._resources[name], _mime_type(name)
        elif path.startswith(_ATTACHMENT_PREFIX) and path[len(_ATTACHMENT_PREFIX) :] in (
            self._attachments
        ):
            attachment = self._attachments[path[len(_ATTACHMENT_PREFIX) :]]
            data, mime_type = attachment.data, attachment.mime_type
        else:
            raise RefusedURL("unknown app path")
        return URLFetcherResponse(url, data, copy.copy(_headers(mime_type)))

    def open(self, url: Any, data: Any = None, timeout: Any = None) -> URLFetcherResponse:
        """Route urllib-style calls through fetch (never through urllib's handlers)."""
        return self.fetch(url if isinstance(url, str) else url.full_url)

    def __call__(self, url: str) -> URLFetcherResponse:
        """Fetch url (WeasyPrint calls the fetcher as a function)."""
        return self.fetch(url)

    def _static(self, relative: str) -> tuple[bytes, str]:
        # Check the path as written, then where it really leads (symlinks resolved).
        segments = relative.split("/")
        if not relative or "\0" in relative or any(s in ("", ".", "..") for s in segments):
            raise RefusedURL("bad static path")
        candidate = self._static_root.joinpath(*segments)
        try:
            target = candidate.resolve(strict=True)
        except (OSError, RuntimeError):
            raise RefusedURL("no such static file") from None
        if not target.is_relative_to(self._static_root) or not target.is_file():
            raise RefusedURL("not a file inside the static root")
        return target.read_bytes(), _mime_type(target.name)


_VOID_ELEMENTS = frozenset(
    {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source", "wbr"}
)


class NotOwnMarkup(ValueError):
    """The markup is not the plain, well-nested HTML of the elements it was said to use."""


class _OwnMarkupParser(HTMLParser):
    def __init__(self, elements: frozenset[str]) -> None:
        super().__init__(convert_charrefs=True)
        self.elements = elements
        self.builder = ElementTree.TreeBuilder()
        self.open: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag not in self.elements or (not self.open and tag != "html"):
            raise NotOwnMarkup(f"element {tag[:20]!r}")
        self.builder.start(tag, {name: value or "" for name, value in attrs})
        if tag in _VOID_ELEMENTS:
            self.builder.end(tag)
        else:
            self.open.append(tag)

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.handle_starttag(tag, attrs)
        if tag not in _VOID_ELEMENTS:
            self.handle_endtag(tag)

    def handle_endtag(self, tag: str) -> None:
        if tag in _VOID_ELEMENTS:
            return
        if not self.open or self.open.pop() != tag:
            raise NotOwnMarkup(f"end tag {tag[:20]!r} out of place")
        self.builder.end(tag)

    def handle_data(self, data: str) -> None:
        if self.open:
            self.builder.data(data)
        elif data.strip():
            raise NotOwnMarkup("text outside <html>")

    def unknown_decl(self, data: str) -> None:
        raise NotOwnMarkup("declaration")

    def handle_pi(self, data: str) -> None:
        raise NotOwnMarkup("processing instruction")


def own_markup_tree(markup: str, elements: frozenset[str]) -> ElementTree.Element:
    """Parse markup of our own: well-nested HTML using only elements, with head and body.

    Raise NotOwnMarkup for anything else (an HTML5 parser would repair it; this one refuses).
    """
    parser = _OwnMarkupParser(elements)
    parser.feed(markup)
    parser.close()
    if parser.open:
        raise NotOwnMarkup(f"{parser.open[-1][:20]!r} left open")
    root = parser.builder.close()
    if [child.tag for child in root] != ["head", "body"]:
        raise NotOwnMarkup("<html> must hold <head> and <body>")
    return root


user_agent_subset = hooks.user_agent_subset


def opaque_png(data: bytes) -> bytes:
    """Return a PNG painted onto white, without transparency; anything else unchanged."""
    if not data.startswith(_PNG_MAGIC):
        return data
    with Image.open(io.BytesIO(data), formats=["PNG"]) as image:
        if image.mode not in ("RGBA", "LA", "PA") and "transparency" not in image.info:
            return data
        return _rgb_on_white(image)


def rgb_png(data: bytes) -> bytes:
    """Return a PNG as an 8-bit RGB PNG painted onto white (a plain_png one)."""
    with Image.open(io.BytesIO(data), formats=["PNG"]) as image:
        return _rgb_on_white(image)


def _rgb_on_white(image: Image.Image) -> bytes:
    painted = Image.new("RGBA", image.size, (255, 255, 255, 255))
    painted.alpha_composite(image.convert("RGBA"))
    out = io.BytesIO()
    painted.convert("RGB").save(out, format="PNG", compress_level=1)
    return out.getvalue()


@cache
def _headers(mime_type: str) -> EmailMessage:
    # Parsing a header costs 1.5 ms (the email package's policy): once per type, not per image.
    headers = EmailMessage()
    headers["Content-Type"] = mime_type
    return headers


def _mime_type(name: str) -> str:
    mime_type, _ = mimetypes.guess_type(name, strict=False)
    if mime_type is None and name.endswith(".woff2"):
        mime_type = "font/woff2"
    return mime_type or "application/octet-stream"


def _w3c_date(moment: datetime) -> str:
    # The same string feeds Info (converted by WeasyPrint) and XMP (verbatim), so they agree.
    moment = moment.astimezone(UTC) if moment.tzinfo else moment.replace(tzinfo=UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def render_pdf(job: RenderJob, static_root: Path) -> bytes:
    """Render one job to PDF bytes in this process."""
    resources = job.resources
    if job.opaque_images:
        resources = {name: opaque_png(data) for name, data in resources.items()}
    fetcher = AppFetcher(static_root, resources, attachments=job.attachments)
    options: dict[str, Any] = {"pdf_variant": job.pdf_variant}
    if job.pdf_variant and job.pdf_variant.startswith("pdf/a"):
        options["stylesheets"] = [CSS(string=_PDFA_CSS, url_fetcher=fetcher)]
    if job.user_agent_elements:
        elements = frozenset(job.user_agent_elements)
        html = hooks.OwnHTML.from_tree(
            own_markup_tree(job.html, elements), base_url=BASE_URL, url_fetcher=fetcher
        )
        html.user_agent = hooks.user_agent_sheet(elements)
    else:
        html = HTML(string=job.html, base_url=BASE_URL, url_fetcher=fetcher)
    document = html.render(**options)

    # Attachments come only from the job: <link rel=attachment> and <a rel=attachment> in the
    # HTML are dropped before WeasyPrint fetches them (GHSA-35jj-wx47-4w8r).
    document.metadata.attachments = []
    for page in document.pages:
        page.links = [link for link in page.links if _keep_link(link[0], link[1])]

    # Metadata set on the document, not in the HTML: WeasyPrint writes these same fields to the
    # Info dictionary and to the XMP packet, and no escaping into the head is needed.
    if job.metadata is not None:
        meta = document.metadata
        meta.title = job.metadata.title
        meta.authors = [job.metadata.author]
        meta.lang = job.metadata.language
        meta.description = job.metadata.subject
        meta.keywords = list(job.metadata.keywords)
        meta.created = meta.modified = _w3c_date(job.metadata.created or datetime.now(UTC))

    attachments = [
        Attachment(
            url=f"{BASE_URL}{_ATTACHMENT_PREFIX[1:]}{index}",
            url_fetcher=fetcher,
            name=item.name,
            description=item.description or None,
            relationship=item.relationship,
        )
        for index, item in enumerate(job.attachments)
    ]
    return document.write_pdf(attachments=attachments, finisher=hooks.dedupe_af, **options)


def _keep_link(link_type: str, target: str) -> bool:
    if link_type == "internal":
        return True
    if link_type != "external":
        return False
    return urlsplit(target).scheme.lower() in _LINK_SCHEMES


class DrawJob(Protocol):
    """A document drawn without WeasyPrint (pdf_tables.TableJob): render_many runs it too."""

    def draw(self) -> bytes:
        """Return the PDF."""
        ...


def _produce(job: RenderJob | DrawJob, static_root: Path) -> bytes:
    if isinstance(job, RenderJob):
        return render_pdf(job, static_root)
    return job.draw()


def _render_in_worker(job: RenderJob | DrawJob, static_root: Path) -> bytes:
    # Only a short message crosses back: WeasyPrint's exceptions may quote the document.
    try:
        return _produce(job, static_root)
    except Exception as exc:
        raise RenderError(_short(exc)) from None


def _short(exc: BaseException) -> str:
    if isinstance(exc, RenderError):
        return str(exc)
    return f"{type(exc).__name__}: {str(exc)[:200]}"


# How long stopping the pool waits for its queue's read lock before going on without it.
_LOCK_WAIT_SECONDS = 2.0


class _Pool(multiprocessing.pool.Pool):
    """multiprocessing's pool, whose shutdown cannot hang on a worker killed from outside.

    An idle worker waits for work holding the task queue's read lock. When systemd stops the
    service it sends SIGTERM to the whole process group: the workers die at once, one of them
    holding that lock, and Pool.terminate (at exit, or after a failed render) waited for it
    forever (`flask tasks worker` never exited). This waits a moment, then goes on: the dead
    workers need no help to finish, and terminate kills the living ones as before.
    """

    @staticmethod
    def _help_stuff_finish(inqueue: Any, task_handler: threading.Thread, size: int) -> None:
        # The standard method with a bounded wait (CPython 3.11-3.13 name these the same).
        if not inqueue._rlock.acquire(timeout=_LOCK_WAIT_SECONDS):
            log.warning("render worker pool: a killed worker held its queue; stopping anyway")
            return
        while task_handler.is_alive() and inqueue._reader.poll():
            inqueue._reader.recv()
            time.sleep(0)


_pool_lock = threading.Lock()
_pool: multiprocessing.pool.Pool | None = None
_pool_size = 0


def _get_pool(processes: int) -> multiprocessing.pool.Pool:
    global _pool, _pool_size
    if _pool is None or _pool_size != processes:
        _discard_pool()
        context = multiprocessing.get_context(START_METHOD)
        if START_METHOD == "forkserver":
            # Imported once in the fork server, so each worker starts with WeasyPrint loaded.
            context.set_forkserver_preload([__name__])
        _pool = _Pool(processes, initializer=_ignore_interrupts, context=context)
        _pool_size = processes
    return _pool


def _ignore_interrupts() -> None:
    # Ctrl-C in a terminal interrupts the whole process group: the workers leave stopping to
    # the application (its exit hook terminates them), instead of each printing a traceback.
    signal.signal(signal.SIGINT, signal.SIG_IGN)


# Stopping the pool gives up waiting after this long, and kills what is left of it.
_STOP_SECONDS = 10.0


def _discard_pool() -> None:
    global _pool, _pool_size
    pool, _pool, _pool_size = _pool, None, 0
    if pool is None:
        return
    # After SIGTERM to the process group the fork server is dead too, so the pool's worker
    # handler dies trying to replace the workers, before it could put the sentinel that ends
    # the task handler, which terminate() then joined forever. Put it here (one more is
    # harmless), and never wait without limit: whatever else a killed worker left locked
    # must not keep a stopping process (`flask tasks worker` under systemd) from exiting.
    pool._taskqueue.put(None)  # type: ignore[attr-defined]
    stopper = threading.Thread(
        target=_terminate, args=(pool,), name="render-workers-stop", daemon=True
    )
    stopper.start()
    stopper.join(_STOP_SECONDS)
    if stopper.is_alive():
        log.warning("render worker pool not stopped within %g s; killing it", _STOP_SECONDS)
        for process in pool._pool:  # type: ignore[attr-defined]
            if process.is_alive():
                process.kill()


def _terminate(pool: multiprocessing.pool.Pool) -> None:
    pool.terminate()
    pool.join()


# Runs before multiprocessing's own exit hook (atexit is last-in, first-out), so the workers
# are stopped and joined and no "unclosed pool" ResourceWarning is left for interpreter exit.
atexit.register(_discard_pool)


def pool_pids() -> list[int]:
    """Return the process ids of the current worker pool (for tests and health checks)."""
    with _pool_lock:
        if _pool is None:
            return []
        return [process.pid for process in _pool._pool if process.pid]  # type: ignore[attr-defined]


def shutdown(*, fork_server: bool = False) -> None:
    """Stop the worker pool now, and the fork server too if asked; render_many starts them again.

    The fork server holds WeasyPrint imported (about 60 MB); starting it again takes a second.
    """
    with _pool_lock:
        _discard_pool()
        if fork_server and START_METHOD == "forkserver":
            # Python has no public way to stop it; ForkServer._stop has been there since 3.8
            # (its own tests use it). Without it the server stays, as it would anyway.
            stop = getattr(multiprocessing.forkserver._forkserver, "_stop", None)
            if stop is not None:
                stop()


def start_workers(processes: int) -> None:
    """Start the worker pool in the background unless it runs, for a render about to begin.

    Starting it (the fork server imports WeasyPrint) takes about a second, which can overlap
    with reading the data. render_many waits for it; should it fail, render_many starts one.
    """
    if processes == 0:
        return

    def start() -> None:
        try:
            with _pool_lock:
                _get_pool(processes)
        except Exception as exc:  # render_many tries again, and reports a failure
            log.warning("render workers not started ahead: %s", type(exc).__name__)

    threading.Thread(target=start, name="render-workers-start", daemon=True).start()


def _as_is(_index: int, pdf: bytes) -> Any:
    return pdf


def render_many(
    jobs: Sequence[RenderJob | DrawJob],
    *,
    static_root: Path,
    processes: int,
    time_limit: float,
    on_done: Callable[[int], None] | None = None,
    keep: Callable[[int, bytes], Any] = _as_is,
    until: float | None = None,
) -> list[Any]:
    """Render jobs in worker processes within time_limit seconds; return PDFs in job order.

    keep(index, pdf) is called in the calling thread as each PDF arrives, and what it returns
    stands for that PDF in the list (say, a file it was written to): the PDFs need not all be
    held in memory at once. until (a time.monotonic() value) ends the time limit earlier, for
    a batch that is part of a larger task with a limit of its own.
    """
    # processes=0 renders in the calling thread, one job after another, and enforces no time
    # limit (tests, the CLI). Otherwise batches from several threads run one after another:
    # the pool is shared, and a timeout or a failure replaces it (its workers are killed, the
    # next call forks fresh ones). A worker killed from outside (the OOM killer) loses its job:
    # the batch then ends in RenderTimeout.
    if processes == 0:
        results = []
        for index, job in enumerate(jobs):
            try:
                pdf = _produce(job, static_root)
            except Exception as exc:
                raise RenderError(f"part {index}: {_short(exc)}") from None
            results.append(keep(index, pdf))
            if on_done is not None:
                on_done(index)
        return results

    if not jobs:
        return []
    with _pool_lock:
        # The limit counts from when this batch has the pool, so waiting for another thread's
        # batch does not eat into it; starting the workers (a fork each) does.
        deadline = time.monotonic() + time_limit
        if until is not None:
            deadline = min(deadline, until)
        pool = _get_pool(processes)
        finished: queue.SimpleQueue[tuple[int, bool, Any]] = queue.SimpleQueue()
        for index, job in enumerate(jobs):
            # Callbacks run on the pool's result thread: hand results to the calling thread.
            pool.apply_async(
                _render_in_worker,
                (job, Path(static_root)),
                callback=lambda pdf, index=index: finished.put((index, True, pdf)),
                error_callback=lambda exc, index=index: finished.put((index, False, exc)),
            )
        results: list[Any] = [None] * len(jobs)
        pending = len(jobs)
        try:
            while pending:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise RenderTimeout(
                        f"{pending} of {len(jobs)} parts not rendered within {time_limit:g} s"
                    )
                try:
                    index, ok, value = finished.get(timeout=remaining)
                except queue.Empty:
                    continue
                if not ok:
                    raise RenderError(f"part {index}: {_short(value)}") from None
                results[index] = keep(index, value)
                pending -= 1
                if on_done is not None:
                    on_done(index)
        finally:
            if pending:
                # Stop the workers still rendering this batch: they must not eat CPU or
                # delay the next batch.
                _discard_pool()
    return results
