"""Organisers' Markdown turned into HTML that is safe to show and to render into a PDF."""

from collections.abc import Sequence

import nh3
from markdown_it import MarkdownIt
from markdown_it.common.utils import escapeHtml
from markdown_it.rules_core import StateCore
from markdown_it.token import Token
from markdown_it.utils import EnvType, OptionsDict
from markupsafe import Markup

ALLOWED_TAGS = {
    "p", "br", "hr", "h2", "h3", "h4", "h5", "h6", "ul", "ol", "li", "blockquote",
    "em", "strong", "code", "pre", "a",
}  # fmt: skip
ALLOWED_ATTRIBUTES = {"a": {"href", "title"}, "ol": {"start"}}
ALLOWED_SCHEMES = {"http", "https", "mailto"}

# Raw HTML is off: anything written as HTML is shown as text.
_markdown = MarkdownIt("commonmark", {"html": False, "linkify": False, "typographer": False})


def _image_as_text(
    _renderer: object, tokens: Sequence[Token], idx: int, _options: OptionsDict, _env: EnvType
) -> str:
    # A letter must not make readers' browsers (or the PDF renderer) fetch from elsewhere:
    # an image is shown as its description only.
    return escapeHtml(tokens[idx].content)


_markdown.add_render_rule("image", _image_as_text)


def _headings_below_the_title(state: StateCore) -> None:
    # The appeal's title is the page's (and the dossier's) only h1: the letter's headings go
    # below it, so that screen readers and the PDF's outline see them under it. Levels are
    # taken in order without gaps: a letter whose first heading is "##" starts at h2, not h3
    # (a jump from h1 to h3 leaves assistive technology a level it cannot find).
    headings = [t for t in state.tokens if t.type in ("heading_open", "heading_close")]
    used = sorted({int(token.tag[1]) for token in headings})
    for token in headings:
        token.tag = f"h{min(used.index(int(token.tag[1])) + 2, 6)}"


_markdown.core.ruler.push("headings_below_the_title", _headings_below_the_title)

# markdown-it stops parsing blocks past this depth of nesting (quotes in lists in quotes...):
# what lies deeper vanishes from the page and the dossier while the fingerprinted text keeps it.
# (Inline markup nested past it stays as literal characters: nothing is lost.)
MAX_NESTING: int = _markdown.options["maxNesting"]
# The same parser allowed one level deeper sees the blocks the letter would lose. No deeper:
# its cost on pathological input (thousands of "[") grows with the limit.
_deeper = MarkdownIt("commonmark", {"html": False, "maxNesting": MAX_NESTING + 1})


def nesting_depth(text: str) -> int:
    """Return how deep the blocks of the Markdown in text nest, as markdown-it counts its limit.

    A block that opens at level n needs a depth of n + 1; past MAX_NESTING it is dropped.
    """
    depth = 0
    for token in _deeper.parse(text or ""):
        if token.type != "inline" and token.nesting != -1:
            depth = max(depth, token.level + 1)
    return depth


def loses_text_to_nesting(text: str) -> bool:
    """Return True when markdown-it would drop part of text for nesting too deep."""
    return nesting_depth(text) > MAX_NESTING


def render_markdown(text: str) -> Markup:
    """Render Markdown to HTML, then keep only an allow-list of tags, attributes and schemes."""
    html = _markdown.render(text or "")
    clean = nh3.clean(
        html,
        tags=ALLOWED_TAGS,
        attributes=ALLOWED_ATTRIBUTES,
        url_schemes=ALLOWED_SCHEMES,
        link_rel="nofollow noopener noreferrer",
        strip_comments=True,
    )
    return Markup(clean)  # noqa: S704 - nh3 has just sanitised it
