"""Deleting a draft that was never published: the owner's, confirmed, and nothing else."""

import pytest
from sqlalchemy import func, select

from campaign.accounts.models import Invitation, Membership, Role
from campaign.appeals.models import Addressee, Appeal
from campaign.appeals.operations import (
    AlreadyPublished,
    DraftChanged,
    delete_draft,
    publish_appeal,
)
from campaign.extensions import db
from campaign.signatures.models import CustomQuestion, SignFormSettings
from tests.appeals.test_appeal_form import current_revision, form_data
from tests.appeals.test_concurrent_edits import save_as_other, shown_revision
from tests.signatures.test_settings import settings_form


def count(model) -> int:
    return db.session.scalar(select(func.count()).select_from(model))


@pytest.fixture
def owner(make_user, login):
    user = make_user()
    login(user)
    return user


def test_the_owner_deletes_a_draft_with_everything_it_holds(client, owner, make_user, make_appeal):
    editor = make_user()
    appeal = make_appeal(owner=owner, members={editor: Role.editor}, slug="our-draft")
    appeal_id = appeal.id
    keep = make_appeal(owner=owner, title="Another appeal")
    client.post(f"/appeals/{appeal.id}/members/invite", data={"role": "editor"})
    client.post(f"/appeals/{appeal.id}/settings", data=settings_form(appeal))
    assert (count(Invitation), count(CustomQuestion), count(SignFormSettings)) == (1, 1, 1)

    overview = client.get(f"/appeals/{appeal.id}/").get_data(as_text=True)
    assert f'href="/appeals/{appeal.id}/delete"' in overview
    page = client.get(f"/appeals/{appeal.id}/delete").get_data(as_text=True)
    assert "Delete the draft?" in page and "This cannot be undone." in page
    response = client.post(
        f"/appeals/{appeal.id}/delete", data={"draft_revision": shown_revision(page)}
    )
    assert (response.status_code, response.headers["Location"]) == (302, "/appeals/")
    listing = client.get("/appeals/").get_data(as_text=True)
    assert "The draft “Appeal number 1” is deleted." in listing

    assert db.session.scalars(select(Appeal.id)).all() == [keep.id]
    for model in (Invitation, CustomQuestion, SignFormSettings):
        assert count(model) == 0, model
    assert db.session.scalars(select(Addressee.appeal_id)).all() == [keep.id]
    assert set(db.session.scalars(select(Membership.appeal_id))) == {keep.id}
    assert client.get(f"/appeals/{appeal_id}/").status_code == 404
    # Never public, the address is free again.
    assert client.post("/appeals/new", data=form_data(slug="our-draft")).status_code == 302


def test_a_published_appeal_is_not_deleted(client, owner, make_appeal):
    appeal = make_appeal(owner=owner)
    publish_appeal(appeal, owner, seen_revision=appeal.draft_revision)
    db.session.commit()
    overview = client.get(f"/appeals/{appeal.id}/").get_data(as_text=True)
    assert f"/appeals/{appeal.id}/delete" not in overview
    for method in ("GET", "POST"):
        response = client.open(
            f"/appeals/{appeal.id}/delete",
            method=method,
            data={"draft_revision": str(current_revision(appeal))},
            follow_redirects=True,
        )
        assert "A published appeal cannot be deleted" in response.get_data(as_text=True)
    assert count(Appeal) == 1


def test_a_draft_saved_after_the_page_showed_it_is_not_deleted(client, owner, make_appeal):
    appeal = make_appeal(owner=owner)
    page = client.get(f"/appeals/{appeal.id}/delete").get_data(as_text=True)
    save_as_other(appeal, "Words a co-organiser just wrote.")
    response = client.post(
        f"/appeals/{appeal.id}/delete",
        data={"draft_revision": shown_revision(page)},
        follow_redirects=True,
    )
    html = response.get_data(as_text=True)
    assert "Nothing was deleted: the draft was changed and saved" in html
    assert "Delete the draft?" in html  # back on the confirmation, showing the new revision
    assert count(Appeal) == 1


@pytest.mark.parametrize("data", [{}, {"draft_revision": "one"}])
def test_a_delete_without_a_true_revision_deletes_nothing(client, owner, make_appeal, data):
    appeal = make_appeal(owner=owner)
    response = client.post(f"/appeals/{appeal.id}/delete", data=data, follow_redirects=True)
    assert "Nothing was deleted" in response.get_data(as_text=True)
    assert count(Appeal) == 1


def test_the_refusal_is_in_russian(client, owner, make_appeal):
    appeal = make_appeal(owner=owner)
    response = client.post(
        f"/appeals/{appeal.id}/delete",
        data={"draft_revision": "7"},
        headers={"Accept-Language": "ru"},
        follow_redirects=True,
    )
    assert "Ничего не удалено" in response.get_data(as_text=True)


@pytest.mark.parametrize("role", [Role.editor, Role.advocate])
def test_only_an_owner_deletes(client, make_user, make_appeal, login, role):
    member = make_user()
    appeal = make_appeal(members={member: role})
    login(member)
    assert f"/appeals/{appeal.id}/delete" not in client.get(f"/appeals/{appeal.id}/").get_data(
        as_text=True
    )
    assert client.get(f"/appeals/{appeal.id}/delete").status_code == 403
    response = client.post(
        f"/appeals/{appeal.id}/delete", data={"draft_revision": str(current_revision(appeal))}
    )
    assert response.status_code == 403
    assert count(Appeal) == 1


def test_deleting_and_publishing_cannot_cross(make_appeal):
    appeal = make_appeal()
    seen = appeal.draft_revision
    owner = appeal.memberships[0].user
    publish_appeal(appeal, owner, seen_revision=seen)
    db.session.commit()
    with pytest.raises(AlreadyPublished):
        delete_draft(appeal, seen_revision=seen)
    db.session.rollback()
    with pytest.raises(DraftChanged):
        delete_draft(appeal, seen_revision=seen + 1)
    db.session.rollback()
    assert count(Appeal) == 1
