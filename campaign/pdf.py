"""Turn HTML into PDF, with a fetcher that serves only the app's own files (pdf_fetcher)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from html.parser import HTMLParser
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit
from xml.etree import ElementTree

from weasyprint import CSS, HTML, Attachment

from campaign import pdf_weasyprint_hooks as hooks
from campaign.pdf_fetcher import BASE_URL, AppFetcher, PdfAttachment, attachment_url
from campaign.pdf_images import opaque_png, plain_png_idat

# Links a reader may follow from the PDF; anything else (file:, app:, javascript:...) is dropped.
_LINK_SCHEMES = frozenset({"http", "https", "mailto"})

# PDF/A forbids interpolated images; templates may still override this per element.
_PDFA_CSS = "html { image-rendering: crisp-edges }"

hooks.install(plain_png_idat)


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
            url=attachment_url(index),
            url_fetcher=fetcher,
            name=item.name,
            description=item.description or None,
            relationship=item.relationship,
        )
        for index, item in enumerate(job.attachments)
    ]
    return document.write_pdf(attachments=attachments, finisher=hooks.finish, **options)


def _keep_link(link_type: str, target: str) -> bool:
    if link_type == "internal":
        return True
    if link_type != "external":
        return False
    return urlsplit(target).scheme.lower() in _LINK_SCHEMES
