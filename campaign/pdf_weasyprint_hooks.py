"""Every place the PDF code reaches into WeasyPrint's private parts, and what each one buys.

WeasyPrint is pinned to 70.x (pyproject.toml). check() names the hook an upgrade moved or
removed; tests/test_pdf_weasyprint_hooks.py calls it and compares each hook's result with
WeasyPrint's own, so that an upgrade fails loudly there rather than quietly in a dossier.
What else depends on the exact shape of WeasyPrint's output (the glyph samples that the drawn
tables and the footers read, campaign/pdf_glyphs.py) is tested there too.

- OwnHTML.from_tree and the user-agent sheet cut down to the elements a block uses: laying out
  a table block with WeasyPrint takes about a fifth less time without matching every element
  against its whole user-agent sheet, and a tenth less without its HTML5 parser (tinyhtml5,
  in Python). Since blocks are drawn without WeasyPrint (pdf_tables), only the pages with
  names that need shaping still go through it: these hooks matter for a dossier in Arabic or
  Hebrew, hardly at all for one in Russian.
- The PNG pass-through: WeasyPrint decodes every PNG and encodes it again for its IDAT data;
  a plain PNG's own IDAT is the same pixels. Only WeasyPrint-laid-out images use it now.
- The colour profile that closes its file, and the /AF de-duplication: not speed but
  correctness (a ResourceWarning per render; PDF/A-3's one associated-file entry per file).
- Embedded files compressed at zlib's default level rather than pydyf's 9: the CSV attached
  to every dossier took half its cover page's time (finish()).
"""

from __future__ import annotations

import io
import re
import zlib
from collections.abc import Callable
from functools import cache
from importlib.resources import files
from typing import Any
from xml.etree import ElementTree

import cssselect2
import pydyf
import tinycss2
import weasyprint
import weasyprint.images
import weasyprint.pdf
from PIL import Image
from weasyprint import CSS, HTML
from weasyprint.css import ColorProfile
from weasyprint.urls import URLFetcher

# The WeasyPrint versions these hooks were checked against.
CHECKED_VERSIONS = re.compile(r"70\.\d+")
_UA_SHEET = ("weasyprint.css", "html5_ua.css")
_ELEMENT_NAME = re.compile(r"[a-z][a-z0-9]*")
_ELEMENTS_ONLY = re.compile(r"[a-z][a-z0-9]*(?:\s*[\s>+~]\s*[a-z][a-z0-9]*)*")
# What HTML.__init__ sets on a document in WeasyPrint 70, and so what from_tree must set.
HTML_ATTRIBUTES = frozenset(
    {"base_url", "url_fetcher", "media_type", "wrapper_element", "etree_element"}
)


class HookMissing(RuntimeError):
    """A WeasyPrint internal that a hook relies on is not where it was."""


def check() -> None:
    """Raise HookMissing naming the first hook this WeasyPrint no longer supports."""
    if not CHECKED_VERSIONS.fullmatch(weasyprint.__version__):
        raise HookMissing(
            f"WeasyPrint {weasyprint.__version__}: the hooks in {__name__} were checked with "
            "70.x; check each (tests/test_pdf_weasyprint_hooks.py), then CHECKED_VERSIONS"
        )
    if not callable(getattr(HTML, "_ua_stylesheets", None)):
        raise HookMissing("HTML._ua_stylesheets (the user-agent sheet override)")
    if not callable(getattr(weasyprint.images.RasterImage, "_get_png_data", None)):
        raise HookMissing("RasterImage._get_png_data (the PNG pass-through)")
    if getattr(weasyprint.pdf, "ColorProfile", None) is None:
        raise HookMissing("weasyprint.pdf.ColorProfile (the profile that closes its file)")
    if not files(_UA_SHEET[0]).joinpath(_UA_SHEET[1]).is_file():
        raise HookMissing("weasyprint/css/html5_ua.css (the user-agent sheet cut down)")
    built = set(vars(HTML(string="<p>x</p>")))
    if built != HTML_ATTRIBUTES:
        raise HookMissing(f"HTML.__init__ now sets {sorted(built ^ HTML_ATTRIBUTES)}")


class OwnHTML(HTML):
    """WeasyPrint's HTML made from a parsed tree, with a user-agent stylesheet of our choosing."""

    user_agent: CSS | None = None

    @classmethod
    def from_tree(
        cls, root: ElementTree.Element, *, base_url: str, url_fetcher: URLFetcher
    ) -> OwnHTML:
        """Make the document of an already parsed tree (HTML.__init__ without its parser)."""
        document = cls.__new__(cls)
        document.base_url = base_url
        document.url_fetcher = url_fetcher
        document.media_type = "print"
        document.wrapper_element = cssselect2.ElementWrapper.from_html_root(
            root, content_language=None
        )
        document.etree_element = document.wrapper_element.etree_element
        return document

    def _ua_stylesheets(self, forms: bool = False) -> list[CSS]:
        # WeasyPrint asks the document for its user-agent stylesheets (weasyprint < 71).
        if self.user_agent is not None:
            return [self.user_agent]
        return super()._ua_stylesheets(forms)


@cache
def user_agent_sheet(elements: frozenset[str]) -> CSS:
    """WeasyPrint's user-agent stylesheet for these elements only, parsed once."""
    return CSS(string=user_agent_subset(elements))


def user_agent_subset(elements: frozenset[str]) -> str:
    """Return WeasyPrint's user-agent stylesheet cut down to the rules for these elements.

    A rule keeps the selectors made of these element names and combinators only; selectors
    with attributes, classes or pseudo-classes ([hidden], [dir], :is(...)) are left out, and
    so are the rules left without a selector. @page rules stay.
    """
    text = files(_UA_SHEET[0]).joinpath(_UA_SHEET[1]).read_text("utf-8")
    kept = []
    for rule in tinycss2.parse_stylesheet(text, skip_comments=True, skip_whitespace=True):
        if rule.type == "at-rule" and rule.lower_at_keyword == "page":
            kept.append(rule.serialize())
        elif rule.type == "qualified-rule":
            selectors = [
                selector
                for selector in _selectors(rule.prelude)
                if _ELEMENTS_ONLY.fullmatch(selector)
                and set(_ELEMENT_NAME.findall(selector)) <= elements
            ]
            if selectors:
                body = tinycss2.serialize(rule.content)
                kept.append(f"{', '.join(selectors)} {{{body}}}")
    return "\n".join(kept)


def _selectors(prelude: list[Any]) -> list[str]:
    groups: list[list[Any]] = [[]]
    for token in prelude:
        if token.type == "literal" and token.value == ",":
            groups.append([])
        else:
            groups[-1].append(token)
    return [tinycss2.serialize(group).strip() for group in groups]


class _ClosingColorProfile(ColorProfile):
    """A colour profile that closes the file it is read from."""

    def __init__(self, file_object: Any, *args: Any, **kwargs: Any) -> None:
        try:
            super().__init__(file_object, *args, **kwargs)
        finally:
            file_object.close()


WEASYPRINT_PNG_DATA = weasyprint.images.RasterImage._get_png_data


def install(idat_of: Callable[[bytes], bytes | None]) -> None:
    """Put the PNG pass-through and the closing colour profile in place (once per process).

    idat_of(png) gives a PNG's own IDAT data when a PDF can take it as it is, else None.
    """

    def png_data(pillow_image: Image.Image) -> bytes:
        # WeasyPrint < 71 calls this with the image it opened from the file's bytes; the
        # pages come out the same (tests/test_pdf.py compares them).
        source = getattr(pillow_image, "fp", None)
        if pillow_image.format == "PNG" and isinstance(source, io.BytesIO):
            idat = idat_of(source.getvalue())
            if idat is not None:
                return idat
        return WEASYPRINT_PNG_DATA(pillow_image)

    weasyprint.images.RasterImage._get_png_data = staticmethod(png_data)
    # WeasyPrint 70 opens its sRGB profile for every PDF/A document and never closes it: a
    # ResourceWarning per render (an error under pytest's filterwarnings). Only the PDF
    # writer's name is replaced; the profile is read exactly as before.
    weasyprint.pdf.ColorProfile = _ClosingColorProfile


def finish(_document: Any, pdf: Any) -> None:
    """The write_pdf finisher: each embedded file listed once in /AF, and compressed sooner."""
    dedupe_af(pdf)
    compress_embedded_files(pdf)


def dedupe_af(pdf: Any) -> None:
    """List each embedded file once in the catalog's /AF.

    WeasyPrint 70 lists each twice (from the name tree and from the file specifications);
    PDF/A-3 means one entry per associated file.
    """
    if "AF" in pdf.catalog:
        pdf.catalog["AF"] = type(pdf.catalog["AF"])(dict.fromkeys(pdf.catalog["AF"]))


# zlib's own default: the dossier's CSV (27 MB at 100,000 signatories) 6.59 MB in 0.74 s of
# CPU, where pydyf's level 9 made 6.52 MB in 1.63 s, every render (issue 22).
EMBEDDED_FILE_LEVEL = 6


def compress_embedded_files(pdf: Any) -> None:
    """Compress embedded files (the dossier's CSV) at EMBEDDED_FILE_LEVEL, not pydyf's 9.

    The stream's data is compressed here and the stream told it is so: pydyf then writes it
    with its /FlateDecode filter as it would have, the bytes only compressed less hard.
    """
    for item in pdf.objects:
        if not isinstance(item, pydyf.Stream) or not item.compress:
            continue
        if item.extra.get("Type") != "/EmbeddedFile":
            continue
        if not all(isinstance(part, bytes) for part in item.stream):
            continue  # (WeasyPrint 70 gives the file's bytes as the one part)
        data = b"\n".join(item.stream)  # as pydyf joins them
        item.stream = [zlib.compress(data, EMBEDDED_FILE_LEVEL)]
        item.extra["Filter"] = "/FlateDecode"
        item.compress = False
