"""Two organisers at work on one draft: nobody overwrites, or publishes, a change unseen."""

import re

import pytest
from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from campaign.accounts.models import Role
from campaign.appeals.models import Appeal, AppealVersion
from campaign.appeals.operations import (
    AddresseeData,
    AppealData,
    DraftChanged,
    publish_appeal,
    update_appeal,
)
from campaign.extensions import db
from tests.appeals.test_appeal_form import current_revision, form_data

THEIR_BODY = "Their paragraph about the hearing on 3 March."
MY_BODY = "My paragraph about the transfer to Rostov."


@pytest.fixture
def team(make_user, make_appeal, login):
    """An owner, logged in, and an editor of the same draft."""
    owner, editor = make_user(), make_user()
    appeal = make_appeal(owner=owner, members={editor: Role.editor}, body="The first text.")
    login(owner)
    return appeal, editor


def shown_revision(html: str) -> str:
    [value] = re.findall(r'name="draft_revision"[^>]*value="([^"]*)"', html) or re.findall(
        r'value="([^"]*)"[^>]*name="draft_revision"', html
    )
    return value


def save_as_other(appeal: Appeal, body: str) -> None:
    """Another organiser saves the draft (from a page showing its current revision)."""
    data = AppealData(
        title=appeal.title,
        language=appeal.language,
        country=appeal.country,
        addressees=tuple(AddresseeData(a.name, a.office) for a in appeal.addressees),
        body=body,
        closing=appeal.closing,
        goal=appeal.goal,
    )
    update_appeal(appeal, data, seen_revision=current_revision(appeal))
    db.session.commit()


def version_count() -> int:
    return db.session.scalar(select(func.count()).select_from(AppealVersion))


def test_saving_moves_the_revision_on(make_appeal):
    appeal = make_appeal()
    assert appeal.draft_revision == 1
    save_as_other(appeal, "A second text.")
    assert current_revision(appeal) == 2


def test_a_draft_saved_meanwhile_is_not_overwritten(make_appeal):
    appeal = make_appeal()
    seen = appeal.draft_revision
    save_as_other(appeal, THEIR_BODY)
    data = AppealData(title="Mine", language="en", body=MY_BODY)
    with pytest.raises(DraftChanged):
        update_appeal(appeal, data, seen_revision=seen)
    db.session.rollback()
    assert (appeal.title, appeal.body, appeal.draft_revision) == (
        "Appeal number 1",
        THEIR_BODY,
        2,
    )
    with pytest.raises(DraftChanged):
        update_appeal(appeal, data, seen_revision=None)


def test_publishing_takes_the_draft_as_it_stands_under_the_lock(make_appeal):
    appeal = make_appeal(body="The text this session read first.")
    seen = appeal.draft_revision
    owner = appeal.memberships[0].user
    # Another transaction saves the draft after this session read it.
    with Session(db.engine) as other:
        other.execute(
            update(Appeal)
            .where(Appeal.id == appeal.id)
            .values(body=THEIR_BODY, draft_revision=Appeal.draft_revision + 1)
        )
        other.commit()
    with pytest.raises(DraftChanged):
        publish_appeal(appeal, owner, seen_revision=seen)
    db.session.rollback()
    assert version_count() == 0
    # From a page that showed the new revision, that revision (not the stale copy) is published.
    version = publish_appeal(appeal, owner, seen_revision=seen + 1)
    db.session.commit()
    assert version.body == THEIR_BODY


def test_an_edit_saved_meanwhile_is_shown_kept_and_saved_only_when_sent_again(client, team):
    appeal, _editor = team
    page = client.get(f"/appeals/{appeal.id}/edit").get_data(as_text=True)
    seen = shown_revision(page)
    assert seen == "1"

    save_as_other(appeal, THEIR_BODY)
    mine = form_data(body=MY_BODY, closing="Signed, the families", draft_revision=seen)
    response = client.post(f"/appeals/{appeal.id}/edit", data=mine)
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "Not saved: the draft was changed meanwhile" in html
    # What was typed is kept in the form; the differences are shown both ways.
    assert f"{MY_BODY}</textarea>" in html
    assert re.search(rf"<del[^>]*>.*{THEIR_BODY}", html)
    assert re.search(rf"<ins[^>]*>.*{MY_BODY}", html)
    db.session.expire_all()
    assert (appeal.body, appeal.closing) == (THEIR_BODY, "Respectfully")

    # Sent again from that page, it replaces the saved draft knowingly.
    assert shown_revision(html) == "2"
    again = client.post(
        f"/appeals/{appeal.id}/edit", data={**mine, "draft_revision": shown_revision(html)}
    )
    assert again.status_code == 302
    db.session.expire_all()
    assert (appeal.body, appeal.closing, appeal.draft_revision) == (
        MY_BODY,
        "Signed, the families",
        3,
    )


def test_the_conflict_is_explained_in_russian(client, team):
    appeal, _editor = team
    save_as_other(appeal, THEIR_BODY)
    response = client.post(
        f"/appeals/{appeal.id}/edit",
        data=form_data(body=MY_BODY, draft_revision="1"),
        headers={"Accept-Language": "ru"},
    )
    html = response.get_data(as_text=True)
    assert "Не сохранено: черновик тем временем изменили" in html
    assert f"{MY_BODY}</textarea>" in html


@pytest.mark.parametrize("revision", [None, "", "abc", "-1", "99999999999"])
def test_an_edit_without_a_true_revision_saves_nothing(client, team, revision):
    appeal, _editor = team
    data = form_data(body=MY_BODY)
    if revision is not None:
        data["draft_revision"] = revision
    html = client.post(f"/appeals/{appeal.id}/edit", data=data).get_data(as_text=True)
    assert "Not saved: the draft was changed meanwhile" in html
    assert f"{MY_BODY}</textarea>" in html
    db.session.expire_all()
    assert (appeal.body, appeal.draft_revision) == ("The first text.", 1)


def test_the_same_letter_saved_meanwhile_says_so(client, team):
    appeal, _editor = team
    appeal.goal = 500  # a detail outside the letter changes
    save_as_other(appeal, "The first text.")
    same_letter = form_data(
        title=appeal.title,
        body="The first text.",
        closing=appeal.closing,
        draft_revision="1",
        **{"addressees-0-name": "The President", "addressees-0-office": "Office of the President"},
    )
    html = client.post(f"/appeals/{appeal.id}/edit", data=same_letter).get_data(as_text=True)
    assert "The letter is the same in both" in html


def test_publishing_a_draft_changed_after_the_page_showed_it_publishes_nothing(client, team):
    appeal, _editor = team
    page = client.get(f"/appeals/{appeal.id}/").get_data(as_text=True)
    seen = shown_revision(page)

    save_as_other(appeal, THEIR_BODY)
    response = client.post(
        f"/appeals/{appeal.id}/publish", data={"draft_revision": seen}, follow_redirects=True
    )
    html = response.get_data(as_text=True)
    assert "Nothing was published: the draft was changed and saved" in html
    assert version_count() == 0

    # The page now shows the draft's new revision; publishing from it publishes that draft.
    client.post(f"/appeals/{appeal.id}/publish", data={"draft_revision": shown_revision(html)})
    db.session.expire_all()
    assert [v.body for v in appeal.versions] == [THEIR_BODY]


@pytest.mark.parametrize("data", [{}, {"draft_revision": "x"}])
def test_publishing_without_a_true_revision_publishes_nothing(client, team, data):
    appeal, _editor = team
    response = client.post(f"/appeals/{appeal.id}/publish", data=data, follow_redirects=True)
    assert "Nothing was published" in response.get_data(as_text=True)
    assert version_count() == 0


def test_the_preview_publishes_what_it_showed(client, team):
    appeal, _editor = team
    preview = client.get(f"/appeals/{appeal.id}/preview").get_data(as_text=True)
    assert "Publish version 1" in preview
    save_as_other(appeal, THEIR_BODY)
    response = client.post(
        f"/appeals/{appeal.id}/publish",
        data={"draft_revision": shown_revision(preview)},
        follow_redirects=True,
    )
    assert "Nothing was published" in response.get_data(as_text=True)
    assert version_count() == 0

    preview = client.get(f"/appeals/{appeal.id}/preview").get_data(as_text=True)
    assert THEIR_BODY in preview
    client.post(f"/appeals/{appeal.id}/publish", data={"draft_revision": shown_revision(preview)})
    db.session.expire_all()
    assert [v.body for v in appeal.versions] == [THEIR_BODY]
    # Published and unchanged since: nothing to offer.
    assert "Publish version" not in client.get(f"/appeals/{appeal.id}/preview").get_data(
        as_text=True
    )


def test_an_advocate_previews_without_a_publish_button(client, make_user, make_appeal, login):
    advocate = make_user()
    appeal = make_appeal(members={advocate: Role.advocate})
    login(advocate)
    preview = client.get(f"/appeals/{appeal.id}/preview").get_data(as_text=True)
    assert "Preview" in preview and "Publish version" not in preview
