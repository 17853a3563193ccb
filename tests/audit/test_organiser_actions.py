"""The organisers' own actions are in the audit log: publishing, closing, the sign form, members."""

import re

import pytest
from sqlalchemy import select

from campaign.accounts.memberships import membership_of
from campaign.accounts.models import Invitation, Role
from campaign.audit.models import AuditEvent
from campaign.extensions import db
from tests.signatures.test_settings import settings_form

LINK = re.compile(r'value="https?://campaign\.test/appeals/invitations/([A-Za-z0-9_-]+)"')


@pytest.fixture
def owner(make_user):
    return make_user(name="Olga Owner")


@pytest.fixture
def editor(make_user):
    return make_user(name="Elena Editor")


def events(action):
    db.session.expire_all()
    return db.session.scalars(
        select(AuditEvent).where(AuditEvent.action == action).order_by(AuditEvent.id)
    ).all()


def said(event):
    return (event.actor_id, event.via, event.subject_type, event.subject_id, event.details)


def test_publishing_closing_and_reopening_are_logged(client, login, make_appeal, owner, editor):
    appeal = make_appeal(owner=owner, members={editor: Role.editor})
    login(editor)
    revision = appeal.draft_revision
    published = client.post(f"/appeals/{appeal.id}/publish", data={"draft_revision": revision})
    assert published.status_code == 302
    (event,) = events("appeal.published")
    assert said(event) == (editor.id, "web", "", None, {"version": 1})
    client.post("/accounts/logout")
    login(owner)
    assert client.post(f"/appeals/{appeal.id}/close").status_code == 302
    assert client.post(f"/appeals/{appeal.id}/reopen").status_code == 302
    for action in ("appeal.closed", "appeal.reopened"):
        (event,) = events(action)
        assert said(event) == (owner.id, "web", "", None, {})
    assert client.post(f"/appeals/{appeal.id}/reopen").status_code == 302  # refused: open
    assert len(events("appeal.reopened")) == 1


def test_saving_the_sign_form_settings_is_logged(client, login, make_published_appeal, editor):
    appeal = make_published_appeal(members={editor: Role.editor})
    login(editor)
    response = client.post(f"/appeals/{appeal.id}/settings", data=settings_form(appeal))
    assert response.status_code == 302
    (event,) = events("sign_form.saved")
    assert said(event) == (editor.id, "web", "", None, {"questions": 1})


def test_an_invitation_made_revoked_and_one_accepted_are_logged(
    client, switch_to, make_appeal, owner, editor
):
    appeal = make_appeal(owner=owner)
    switch_to(owner)
    for role in ("advocate", "editor"):
        page = client.post(f"/appeals/{appeal.id}/members/invite", data={"role": role})
        assert page.status_code == 200
    first, second = db.session.scalars(select(Invitation).order_by(Invitation.id))
    made = events("invitation.created")
    assert [said(event) for event in made] == [
        (owner.id, "web", "invitation", first.id, {"role": "advocate"}),
        (owner.id, "web", "invitation", second.id, {"role": "editor"}),
    ]
    client.post(f"/appeals/{appeal.id}/invitations/{first.id}/revoke")
    (revoked,) = events("invitation.revoked")
    assert said(revoked) == (owner.id, "web", "invitation", first.id, {})
    token = LINK.findall(page.get_data(as_text=True))[0]
    switch_to(editor)
    assert client.post(f"/appeals/invitations/{token}").status_code == 302
    (joined,) = events("member.joined")
    assert said(joined) == (
        editor.id,
        "web",
        "user",
        editor.id,
        {"role": "editor", "invitation": second.id},
    )


def test_a_role_changed_a_member_removed_and_one_leaving_are_logged(
    client, switch_to, make_appeal, owner, editor, make_user
):
    advocate = make_user()
    appeal = make_appeal(owner=owner, members={editor: Role.editor, advocate: Role.advocate})
    switch_to(owner)
    membership = membership_of(editor.id, appeal.id)
    url = f"/appeals/{appeal.id}/members/{membership.id}"
    client.post(f"{url}/role", data={"role": "advocate"})
    client.post(f"{url}/role", data={"role": "advocate"})  # no change, nothing to log
    (changed,) = events("member.role_changed")
    details = {"role": "advocate", "previous": "editor"}
    assert said(changed) == (owner.id, "web", "user", editor.id, details)
    client.post(f"{url}/remove")
    (removed,) = events("member.removed")
    assert said(removed) == (owner.id, "web", "user", editor.id, {"role": "advocate"})
    switch_to(advocate)
    client.post(f"/appeals/{appeal.id}/leave")
    (left,) = events("member.left")
    assert said(left) == (advocate.id, "web", "user", advocate.id, {"role": "advocate"})
    assert membership_of(advocate.id, appeal.id) is None


def test_the_invitations_of_an_owner_made_an_editor_are_revoked_each_in_the_log(
    client, switch_to, make_appeal, owner, make_user
):
    second = make_user(name="Second Owner")
    appeal = make_appeal(owner=owner, members={second: Role.owner})
    switch_to(second)
    for _n in range(2):
        client.post(f"/appeals/{appeal.id}/members/invite", data={"role": "editor"})
    made = [event.subject_id for event in events("invitation.created")]
    assert len(made) == 2
    switch_to(owner)
    membership = membership_of(second.id, appeal.id)
    client.post(f"/appeals/{appeal.id}/members/{membership.id}/role", data={"role": "editor"})
    revoked = events("invitation.revoked")
    assert [(e.actor_id, e.subject_id, e.details) for e in revoked] == [
        (owner.id, number, {"reason": "maker_not_owner"}) for number in made
    ]
    page = client.get(f"/appeals/{appeal.id}/audit").get_data(as_text=True)
    assert "the owner who made it is no longer one" in page
