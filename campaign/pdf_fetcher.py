"""The renderer's URL fetcher: it serves only the app's own files and the job's data."""

from __future__ import annotations

import copy
import mimetypes
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from email.message import EmailMessage
from functools import cache
from pathlib import Path
from types import MappingProxyType
from typing import Any
from urllib.parse import unquote, urlsplit

from weasyprint.urls import URLFetcher, URLFetcherResponse

# Templates name every file absolutely, in their CSS too: app:///static/<path> for files under
# the static root, app:///data/<name> for RenderJob.resources. urljoin knows no "app" scheme, so
# a relative URL stays relative and the fetcher refuses it.
BASE_URL = "app:///"

_ATTACHMENT_PREFIX = "/attachment/"


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


def attachment_url(index: int) -> str:
    """Return the URL AppFetcher serves the job's attachment number index at."""
    return f"{BASE_URL}{_ATTACHMENT_PREFIX[1:]}{index}"
