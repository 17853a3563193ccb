"""Markdown rendering keeps what a letter needs and drops everything else."""

from html.parser import HTMLParser

import pytest

from campaign.markup import render_markdown


class _Tags(HTMLParser):
    def __init__(self):
        super().__init__()
        self.tags = []

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, dict(attrs)))


def tags_of(html):
    """Return the real elements (tag, attributes) of the HTML; escaped text is not a tag."""
    parser = _Tags()
    parser.feed(str(html))
    return parser.tags


def test_letter_formatting_survives():
    html = render_markdown(
        "# Head\n\nPara *em* **strong**\n\n- a\n- b\n\n1. one\n\n> quote\n\n"
        "[link](https://example.org)"
    )
    for tag in ("<h2>", "<em>", "<strong>", "<ul>", "<ol>", "<blockquote>"):
        assert tag in html
    assert 'href="https://example.org"' in html


def test_headings_go_below_the_title_without_gaps():
    html = render_markdown("# One\n\n## Two\n\n###### Six")
    assert [tag for tag, _ in tags_of(html)] == ["h2", "h3", "h4"]
    assert "<h1" not in html
    # A letter that starts at "##" (or "###") still follows the title's h1 with an h2.
    html = render_markdown("## Просим\n\nТекст\n\n#### Подробно\n\n## Ещё")
    assert [tag for tag, _ in tags_of(html) if tag != "p"] == ["h2", "h3", "h2"]


@pytest.mark.parametrize(
    "source",
    [
        "<script>alert(1)</script>",
        "<iframe src='https://evil.example'></iframe>",
        "<b onclick='x()'>bold</b>",
        '<a href="javascript:alert(1)">x</a>',
        "[x](javascript:alert(1))",
        "[x](JaVaScRiPt:alert(1))",
        "[x](data:text/html;base64,PHNjcmlwdD4=)",
        "[x](vbscript:msgbox)",
        "<link rel=attachment href='file:///etc/passwd'>",
        "<style>@import url(https://evil.example/x.css)</style>",
    ],
)
def test_active_content_is_inert(source):
    for tag, attributes in tags_of(render_markdown(source)):
        assert tag in {"p", "a", "em", "strong"}, tag
        assert not any(name.startswith("on") for name in attributes)
        if "href" in attributes:
            assert attributes["href"].startswith(("https:", "http:", "mailto:"))


@pytest.mark.parametrize(
    "source",
    [
        "![pixel](https://tracker.example/p.png)",
        "![local](file:///etc/passwd)",
        '<img src="https://tracker.example/p.png">',
    ],
)
def test_images_never_load(source):
    tags = tags_of(render_markdown(source))
    assert all(tag == "p" for tag, _attributes in tags), tags


def test_image_is_replaced_by_its_description():
    assert str(render_markdown("![a photo <of> us](https://x.example/y.png)")).strip() == (
        "<p>a photo &lt;of&gt; us</p>"
    )


def test_links_get_safe_rel():
    html = str(render_markdown("[ok](https://example.org)"))
    assert 'rel="nofollow noopener noreferrer"' in html
