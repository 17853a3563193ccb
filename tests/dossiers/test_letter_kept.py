"""Every character of the letter reaches the public page and the dossier; nesting that would
drop part of it is refused at saving and at publishing."""

import html
import re

import pytest
from sqlalchemy import select

from campaign.appeals.models import Appeal
from campaign.appeals.operations import NestedTooDeeply, publish_appeal
from campaign.dossiers.models import Edition
from campaign.dossiers.operations import make_snapshot, snapshot_path
from campaign.extensions import db
from campaign.markup import MAX_NESTING, loses_text_to_nesting, nesting_depth
from tests.appeals.test_appeal_form import edit_data, form_data, publish_data
from tests.dossiers.pdftools import compact, page_texts

TITLE = "".join(f"Заг{n:03d}" for n in range(33))[:200]  # 200 characters, no space
CODE = "".join(f"код{n:03d}" for n in range(25))[:150]  # a 150-character code span
URL = "https://example.org/" + "/".join(f"segment{n:02d}" for n in range(30))
DEEP_QUOTE = ">" * (MAX_NESTING - 1) + " цитатаглубокая\n"
# A list nested as deep as the limit allows: each level is a list and its item, and the
# innermost item holds its paragraph.
DEEP_LIST = "".join("  " * n + f"- пункт{n:02d}\n" for n in range((MAX_NESTING - 1) // 2))
LETTER = "\n\n".join(
    [
        "Обычный абзац перед трудными местами.",
        f"Код в строке: `{CODE}` и после него слова.",
        f"Длинный адрес <{URL}> и он же без скобок {URL}Конец",
        f"```\n{CODE}{CODE}\n```",
        DEEP_QUOTE,
        DEEP_LIST,
        "Последний абзац.",
    ]
)
# Text past the limit: markdown-it would drop the innermost quote.
TOO_DEEP = "Вступление.\n\n" + ">" * (MAX_NESTING + 1) + " исчезающий текст\n"


def words(text: str) -> list[str]:
    """The runs of letters and digits of text: what a reader must find again."""
    return re.findall(r"[^\W_]+", text)


def page_text(markup: str) -> str:
    return html.unescape(re.sub(r"<[^>]+>", " ", markup))


def test_nesting_is_measured_as_markdown_it_limits_it():
    assert nesting_depth("> " * (MAX_NESTING - 1) + "x") == MAX_NESTING
    assert not loses_text_to_nesting(DEEP_QUOTE)
    assert not loses_text_to_nesting(DEEP_LIST)
    assert loses_text_to_nesting(TOO_DEEP)
    assert loses_text_to_nesting("- " * (MAX_NESTING // 2 + 1) + "x")
    # Far deeper than the parser goes: still seen.
    assert loses_text_to_nesting(">" * 5000 + " x")
    # Emphasis nested past the limit stays as literal characters: nothing is lost.
    assert not loses_text_to_nesting("*" * 60 + "x" + "*" * 60)
    assert not loses_text_to_nesting("")


@pytest.mark.parametrize("edition", [Edition.submission, Edition.public])
def test_every_word_of_an_adversarial_letter_is_on_the_page_and_in_the_pdf(
    client, make_published_appeal, make_signature, edition
):
    appeal = make_published_appeal(title=TITLE, language="ru", body=LETTER)
    make_signature(appeal)
    page = page_text(client.get(f"/a/{appeal.slug}").get_data(as_text=True))
    snapshot = make_snapshot(appeal, edition, user=None)
    db.session.commit()
    pdf_text = compact(" ".join(page_texts(snapshot_path(snapshot).read_bytes())))
    page_compact = compact(page)
    expected = words(TITLE) + words(LETTER)
    assert [word for word in expected if compact(word) not in page_compact] == []
    assert [word for word in expected if compact(word) not in pdf_text] == []
    # The title is whole on the cover and over the letter.
    assert pdf_text.count(compact(TITLE)) >= 2


def test_saving_a_draft_nested_too_deeply_is_refused_and_keeps_what_was_typed(
    client, make_user, login
):
    login(make_user())
    response = client.post("/appeals/new", data=form_data(body=TOO_DEEP))
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert "nested too deeply" in page
    assert html.escape(TOO_DEEP.strip(), quote=False) in page or "исчезающий текст" in page
    assert db.session.scalar(select(Appeal)) is None


def test_the_message_is_in_russian_for_a_russian_reader(client, make_user, login):
    login(make_user())
    response = client.post(
        "/appeals/new", data=form_data(body=TOO_DEEP), headers={"Accept-Language": "ru"}
    )
    assert "вложены слишком глубоко" in response.get_data(as_text=True)


def test_a_draft_saved_before_the_check_is_not_published(client, make_appeal, login):
    # (A draft written before the form refused it, or by another way than the form.)
    appeal = make_appeal(body=TOO_DEEP)
    login(appeal.memberships[0].user)
    response = client.post(f"/appeals/{appeal.id}/publish", data=publish_data(appeal))
    assert response.status_code == 302
    shown = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "nested too deeply" in shown
    db.session.refresh(appeal)
    assert appeal.versions == []
    with pytest.raises(NestedTooDeeply):
        publish_appeal(appeal, appeal.memberships[0].user, seen_revision=appeal.draft_revision)


def test_a_letter_nested_up_to_the_limit_is_saved_and_published(client, make_appeal, login):
    appeal = make_appeal()
    login(appeal.memberships[0].user)
    body = f"{DEEP_QUOTE}\n\n{DEEP_LIST}"
    response = client.post(f"/appeals/{appeal.id}/edit", data=edit_data(appeal, body=body))
    assert response.status_code == 302, response.get_data(as_text=True)
    response = client.post(f"/appeals/{appeal.id}/publish", data=publish_data(appeal))
    db.session.refresh(appeal)
    assert [version.number for version in appeal.versions] == [1]
