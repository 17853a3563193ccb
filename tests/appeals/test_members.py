"""Members of an appeal: invitation links, roles, removal, and who may do what."""

import hashlib
import html
import re
from datetime import timedelta
from urllib.parse import quote

import pytest
from sqlalchemy import func, select, text

from campaign.accounts.memberships import (
    InvitationInvalid,
    LastOwner,
    NoLongerOwner,
    accept_invitation,
    change_role,
    membership_of,
    remove_member,
    revoke_invitation,
)
from campaign.accounts.models import Invitation, Membership, Role, User
from campaign.clock import utcnow
from campaign.extensions import db
from tests.concurrency import while_the_first_holds
from tests.mailbox import link_path, mails

LINK = re.compile(r'value="https?://campaign\.test/appeals/invitations/([A-Za-z0-9_-]+)"')
CANNOT_BE_USED = "This invitation cannot be used"
LAST_OWNER = "The appeal needs at least one owner."


@pytest.fixture
def owner(make_user):
    return make_user(name="Olga Owner")


@pytest.fixture
def appeal(make_appeal, owner):
    return make_appeal(owner=owner)


def membership_count(appeal):
    return db.session.scalar(
        select(func.count()).select_from(Membership).where(Membership.appeal_id == appeal.id)
    )


def invitation_count():
    return db.session.scalar(select(func.count()).select_from(Invitation))


def create_link(client, appeal, role="editor"):
    """Create an invitation link as the logged-in owner; return its token."""
    response = client.post(f"/appeals/{appeal.id}/members/invite", data={"role": role})
    assert response.status_code == 200
    tokens = LINK.findall(response.get_data(as_text=True))
    assert len(tokens) == 1, "the new link is shown once"
    return tokens[0]


def refresh(obj):
    db.session.expire_all()
    return obj


def test_an_invitee_without_an_account_comes_back_to_the_invitation(
    client, login, appeal, owner, outbox
):
    login(owner)
    token = create_link(client, appeal)
    client.post("/accounts/logout")
    invitation = f"/appeals/invitations/{token}"
    to_login = client.get(invitation)
    assert to_login.headers["Location"] == f"/accounts/login?next={quote(invitation, safe='')}"
    login_page = client.get(to_login.headers["Location"]).get_data(as_text=True)
    signup = re.search(r'href="(/accounts/signup\?next=[^"]+)"', login_page).group(1)
    signup = html.unescape(signup)
    data = {"name": "New Invitee", "email": "new@example.org", "password": "a long passphrase"}
    response = client.post(signup, data={**data, "confirm": data["password"]})
    assert response.headers["Location"] == "/accounts/signup/sent"
    confirmed = client.post(
        link_path(mails(outbox)[-1], "/accounts/confirm/"), data={"password": data["password"]}
    )
    assert confirmed.headers["Location"] == invitation
    assert "You are invited to join" in client.get(invitation).get_data(as_text=True)


@pytest.mark.parametrize("role", [Role.editor, Role.advocate, Role.owner])
def test_invited_user_joins_with_the_role(client, login, switch_to, appeal, owner, make_user, role):
    login(owner)
    token = create_link(client, appeal, role.name)
    invitee = make_user(name="Ivan Invitee")
    switch_to(invitee)

    page = client.get(f"/appeals/invitations/{token}")
    assert page.status_code == 200
    label = role.name.capitalize()
    assert f"You are invited to join “{appeal.title}” as {label}." in page.get_data(as_text=True)
    assert membership_of(invitee.id, appeal.id) is None  # opening the link changes nothing

    response = client.post(f"/appeals/invitations/{token}")
    assert response.status_code == 302
    assert response.headers["Location"] == f"/appeals/{appeal.id}/"
    membership = membership_of(invitee.id, appeal.id)
    assert membership is not None
    assert membership.role is role
    invitation = db.session.scalar(select(Invitation))
    assert invitation.used_at is not None
    assert invitation.used_by_id == invitee.id
    # The new member now sees the appeal and its members.
    assert client.get(f"/appeals/{appeal.id}/members").status_code == 200


def test_the_link_is_shown_once(client, login, appeal, owner):
    login(owner)
    create_link(client, appeal)
    page = client.get(f"/appeals/{appeal.id}/members").get_data(as_text=True)
    assert "/appeals/invitations/" not in page
    assert "Pending invitations" in page
    # Each row's buttons say, to a screen reader, whom or what they act on.
    assert 'aria-label="Remove Olga Owner"' in page
    assert 'aria-label="Change the role of Olga Owner"' in page
    assert re.search(r'aria-label="Revoke the invitation as Editor, expiring [^"]+"', page)


def test_the_page_gives_the_links_lifetime(app, client, login, appeal, owner):
    app.config["INVITATION_LIFETIME"] = timedelta(days=3)
    login(owner)
    page = client.post(f"/appeals/{appeal.id}/members/invite", data={"role": "editor"})
    assert "It works once and expires in 3 days" in page.get_data(as_text=True)
    assert db.session.scalar(select(Invitation.expires_at)) <= utcnow() + timedelta(days=3)


def test_only_the_hash_of_the_token_is_stored(client, login, appeal, owner):
    login(owner)
    token = create_link(client, appeal)
    invitation = db.session.scalar(select(Invitation))
    assert invitation.token_hash == hashlib.sha256(token.encode()).hexdigest()
    rows = db.session.execute(text("SELECT * FROM invitation")).all()
    assert len(rows) == 1
    assert all(token not in str(value) for value in rows[0])


def test_a_used_link_cannot_be_used_again(client, login, switch_to, appeal, owner, make_user):
    login(owner)
    token = create_link(client, appeal)
    first, second = make_user(), make_user()
    switch_to(first)
    assert client.post(f"/appeals/invitations/{token}").status_code == 302
    members = membership_count(appeal)

    switch_to(second)
    for method in ("GET", "POST"):
        response = client.open(f"/appeals/invitations/{token}", method=method)
        assert response.status_code == 404
        assert CANNOT_BE_USED in response.get_data(as_text=True)
    assert membership_of(second.id, appeal.id) is None
    assert membership_count(appeal) == members
    assert db.session.scalar(select(Invitation.used_by_id)) == first.id


def test_an_expired_link_cannot_be_used(client, login, switch_to, appeal, owner, make_user):
    login(owner)
    token = create_link(client, appeal)
    invitation = db.session.scalar(select(Invitation))
    invitation.expires_at = utcnow() - timedelta(minutes=1)
    db.session.commit()

    invitee = make_user()
    switch_to(invitee)
    for method in ("GET", "POST"):
        response = client.open(f"/appeals/invitations/{token}", method=method)
        assert response.status_code == 404
        assert CANNOT_BE_USED in response.get_data(as_text=True)
    assert membership_of(invitee.id, appeal.id) is None
    assert refresh(invitation).used_at is None


def test_a_revoked_link_cannot_be_used(client, login, switch_to, appeal, owner, make_user):
    login(owner)
    token = create_link(client, appeal)
    invitation = db.session.scalar(select(Invitation))
    response = client.post(f"/appeals/{appeal.id}/invitations/{invitation.id}/revoke")
    assert response.status_code == 302
    assert refresh(invitation).revoked_at is not None
    assert "Pending invitations" not in client.get(f"/appeals/{appeal.id}/members").get_data(
        as_text=True
    )

    invitee = make_user()
    switch_to(invitee)
    for method in ("GET", "POST"):
        response = client.open(f"/appeals/invitations/{token}", method=method)
        assert response.status_code == 404
        assert CANNOT_BE_USED in response.get_data(as_text=True)
    assert membership_of(invitee.id, appeal.id) is None


def test_an_unknown_token_cannot_be_used(client, login, make_user):
    login(make_user())
    response = client.post("/appeals/invitations/no-such-token")
    assert response.status_code == 404
    assert CANNOT_BE_USED in response.get_data(as_text=True)


def test_the_invitation_page_needs_login(client, login, appeal, owner):
    login(owner)
    token = create_link(client, appeal)
    client.post("/accounts/logout")
    response = client.post(f"/appeals/invitations/{token}")
    assert response.status_code == 302
    assert "/accounts/login" in response.headers["Location"]
    assert db.session.scalar(select(Invitation.used_at)) is None


def test_a_member_following_an_invitation_is_told_and_nothing_changes(
    client, login, switch_to, make_appeal, owner, make_user
):
    editor = make_user()
    appeal = make_appeal(owner=owner, members={editor: Role.editor})
    login(owner)
    token = create_link(client, appeal, "advocate")
    members = membership_count(appeal)

    switch_to(editor)
    response = client.post(f"/appeals/invitations/{token}", follow_redirects=True)
    assert response.status_code == 200
    assert "You are already a member of this appeal." in response.get_data(as_text=True)
    assert membership_of(editor.id, appeal.id).role is Role.editor
    assert membership_count(appeal) == members
    invitation = db.session.scalar(select(Invitation))
    assert (invitation.used_at, invitation.used_by_id) == (None, None)


def test_owner_changes_a_role(client, login, make_appeal, owner, make_user):
    editor = make_user()
    appeal = make_appeal(owner=owner, members={editor: Role.editor})
    membership = membership_of(editor.id, appeal.id)
    login(owner)
    response = client.post(
        f"/appeals/{appeal.id}/members/{membership.id}/role",
        data={"role": "advocate"},
        follow_redirects=True,
    )
    assert response.status_code == 200
    assert "The role is changed." in response.get_data(as_text=True)
    assert refresh(membership).role is Role.advocate


def test_owner_removes_a_member(client, login, make_appeal, owner, make_user):
    editor = make_user()
    appeal = make_appeal(owner=owner, members={editor: Role.editor})
    membership = membership_of(editor.id, appeal.id)
    login(owner)
    response = client.post(
        f"/appeals/{appeal.id}/members/{membership.id}/remove", follow_redirects=True
    )
    assert response.status_code == 200
    assert "The member is removed." in response.get_data(as_text=True)
    db.session.expire_all()
    assert membership_of(editor.id, appeal.id) is None
    assert membership_of(owner.id, appeal.id) is not None
    # The removed member has lost access.
    client.post("/accounts/logout")
    login(editor)
    assert client.get(f"/appeals/{appeal.id}/").status_code == 404


@pytest.mark.parametrize("new_role", ["editor", "advocate"])
def test_the_last_owner_cannot_be_demoted(client, login, appeal, owner, new_role):
    membership = membership_of(owner.id, appeal.id)
    login(owner)
    response = client.post(
        f"/appeals/{appeal.id}/members/{membership.id}/role",
        data={"role": new_role},
        follow_redirects=True,
    )
    assert response.status_code == 200
    assert LAST_OWNER in response.get_data(as_text=True)
    assert refresh(membership).role is Role.owner


def test_the_last_owner_cannot_be_removed(client, login, appeal, owner):
    membership = membership_of(owner.id, appeal.id)
    login(owner)
    response = client.post(
        f"/appeals/{appeal.id}/members/{membership.id}/remove", follow_redirects=True
    )
    assert response.status_code == 200
    assert LAST_OWNER in response.get_data(as_text=True)
    db.session.expire_all()
    assert membership_of(owner.id, appeal.id).role is Role.owner


def test_an_owner_may_step_down_when_another_owner_remains(
    client, login, make_appeal, owner, make_user
):
    co_owner = make_user()
    appeal = make_appeal(owner=owner, members={co_owner: Role.owner})
    membership = membership_of(owner.id, appeal.id)
    login(owner)
    response = client.post(
        f"/appeals/{appeal.id}/members/{membership.id}/role",
        data={"role": "editor"},
        follow_redirects=True,
    )
    assert "The role is changed." in response.get_data(as_text=True)
    assert refresh(membership).role is Role.editor
    assert membership_of(co_owner.id, appeal.id).role is Role.owner


def test_an_editor_cannot_manage_members(client, login, make_appeal, owner, make_user):
    editor, advocate = make_user(), make_user()
    appeal = make_appeal(owner=owner, members={editor: Role.editor, advocate: Role.advocate})
    advocate_membership = membership_of(advocate.id, appeal.id)
    owner_membership = membership_of(owner.id, appeal.id)
    login(editor)

    invite = client.post(f"/appeals/{appeal.id}/members/invite", data={"role": "owner"})
    assert invite.status_code == 403
    assert "/appeals/invitations/" not in invite.get_data(as_text=True)
    assert invitation_count() == 0

    for target in (advocate_membership, owner_membership):
        change = client.post(
            f"/appeals/{appeal.id}/members/{target.id}/role", data={"role": "editor"}
        )
        assert change.status_code == 403
        remove = client.post(f"/appeals/{appeal.id}/members/{target.id}/remove")
        assert remove.status_code == 403
    db.session.expire_all()
    assert membership_of(advocate.id, appeal.id).role is Role.advocate
    assert membership_of(owner.id, appeal.id).role is Role.owner
    assert membership_count(appeal) == 3


def test_an_editor_sees_the_members_but_no_owner_controls(
    client, login, make_appeal, owner, make_user
):
    editor = make_user()
    appeal = make_appeal(owner=owner, members={editor: Role.editor})
    login(editor)
    response = client.get(f"/appeals/{appeal.id}/members")
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert "Olga Owner" in page
    assert "/members/invite" not in page
    assert "/remove" not in page


def test_an_advocate_cannot_edit(client, login, make_appeal, owner, make_user):
    advocate = make_user()
    appeal = make_appeal(owner=owner, members={advocate: Role.advocate})
    login(advocate)
    assert client.get(f"/appeals/{appeal.id}/").status_code == 200
    assert client.get(f"/appeals/{appeal.id}/edit").status_code == 403


def test_a_non_member_gets_404_on_the_members_page(client, login, appeal, make_user):
    login(make_user())
    response = client.get(f"/appeals/{appeal.id}/members")
    assert response.status_code == 404
    assert "Olga Owner" not in response.get_data(as_text=True)


def test_an_owner_cannot_touch_a_membership_of_another_appeal(
    client, login, make_appeal, appeal, owner, make_user
):
    stranger = make_user()
    other = make_appeal(members={stranger: Role.editor})
    foreign = membership_of(stranger.id, other.id)
    login(owner)
    assert client.post(f"/appeals/{appeal.id}/members/{foreign.id}/remove").status_code == 404
    role_change = client.post(
        f"/appeals/{appeal.id}/members/{foreign.id}/role", data={"role": "advocate"}
    )
    assert role_change.status_code == 404
    db.session.expire_all()
    assert membership_of(stranger.id, other.id).role is Role.editor


@pytest.mark.parametrize("role", [Role.editor, Role.advocate, Role.owner])
def test_a_member_leaves_after_a_confirmation(client, login, make_appeal, owner, make_user, role):
    member = make_user()
    appeal = make_appeal(owner=owner, members={member: role})
    login(member)
    members_page = client.get(f"/appeals/{appeal.id}/members").get_data(as_text=True)
    assert f'href="/appeals/{appeal.id}/leave"' in members_page
    page = client.get(f"/appeals/{appeal.id}/leave").get_data(as_text=True)
    assert "Leave the appeal?" in page and "An owner can invite you again." in page
    response = client.post(f"/appeals/{appeal.id}/leave")
    assert (response.status_code, response.headers["Location"]) == (302, "/appeals/")
    listing = client.get("/appeals/").get_data(as_text=True)
    assert "You have left “Appeal number 1”." in listing
    assert membership_of(member.id, appeal.id) is None
    assert client.get(f"/appeals/{appeal.id}/").status_code == 404
    assert membership_of(owner.id, appeal.id).role is Role.owner


def test_the_last_owner_cannot_leave(client, login, appeal, owner):
    login(owner)
    page = client.get(f"/appeals/{appeal.id}/leave").get_data(as_text=True)
    assert "You are the only owner" in page and 'type="submit" class="button danger"' not in page
    response = client.post(f"/appeals/{appeal.id}/leave", follow_redirects=True)
    assert LAST_OWNER in response.get_data(as_text=True)
    assert membership_of(owner.id, appeal.id).role is Role.owner
    russian = client.post(
        f"/appeals/{appeal.id}/leave", headers={"Accept-Language": "ru"}
    ).get_data(as_text=True)
    assert "Вы единственный владелец" in russian


def test_two_owners_leaving_at_once_leave_one_owner(app, make_appeal, owner, make_user):
    # Each removal counts the owners under a lock on the appeal: the second one waits for the
    # first to commit, then finds itself the last owner.
    second = make_user()
    appeal = make_appeal(owner=owner, members={second: Role.owner})
    appeal_id = appeal.id

    def leave(user_id):
        return lambda: remove_member(membership_of(user_id, appeal_id))

    outcomes = while_the_first_holds(app, leave(owner.id), leave(second.id), refused=LastOwner)
    assert outcomes == ("done", "refused")
    assert [m.role for m in db.session.scalars(select(Membership))] == [Role.owner]


@pytest.mark.parametrize("step", ["demoted", "removed", "leaves"])
def test_an_owner_no_longer_one_cannot_come_back_with_a_link_she_kept(
    client, login, switch_to, make_appeal, owner, make_user, step
):
    co_owner = make_user()
    appeal = make_appeal(owner=owner, members={co_owner: Role.owner})
    login(co_owner)
    kept = create_link(client, appeal, role="owner")
    switch_to(owner)
    others = create_link(client, appeal, role="editor")
    membership = membership_of(co_owner.id, appeal.id)
    if step == "demoted":
        client.post(f"/appeals/{appeal.id}/members/{membership.id}/role", data={"role": "advocate"})
    elif step == "removed":
        client.post(f"/appeals/{appeal.id}/members/{membership.id}/remove")
    else:
        switch_to(co_owner)
        client.post(f"/appeals/{appeal.id}/leave")
    db.session.expire_all()
    assert (membership_of(co_owner.id, appeal.id) is None) == (step != "demoted")

    switch_to(co_owner)
    response = client.post(f"/appeals/invitations/{kept}")
    assert response.status_code == 404 and CANNOT_BE_USED in response.get_data(as_text=True)
    db.session.expire_all()
    assert membership_of(co_owner.id, appeal.id) is None or step == "demoted"
    if step == "demoted":
        assert membership_of(co_owner.id, appeal.id).role is Role.advocate
    # The links of the owner who stays still work.
    newcomer = make_user()
    switch_to(newcomer)
    client.post(f"/appeals/invitations/{others}")
    assert membership_of(newcomer.id, appeal.id).role is Role.editor


def test_a_link_revoked_while_it_is_being_accepted_is_refused(
    app, client, login, appeal, owner, make_user
):
    login(owner)
    token = create_link(client, appeal)
    invitation_id, invitee_id = db.session.scalar(select(Invitation.id)), make_user().id

    def revoke():
        revoke_invitation(db.session.get(Invitation, invitation_id))

    def accept():
        # Found pending before the revocation commits, marked used after it.
        accept_invitation(token, db.session.get(User, invitee_id))

    outcomes = while_the_first_holds(app, revoke, accept, refused=InvitationInvalid)
    assert outcomes == ("done", "refused")
    assert membership_of(invitee_id, appeal.id) is None


def test_an_owner_demoted_at_that_moment_removes_no_one(app, make_appeal, owner, make_user):
    second, third = make_user(), make_user()
    appeal = make_appeal(owner=owner, members={second: Role.owner, third: Role.owner})
    appeal_id = appeal.id

    def demote_second():
        change_role(membership_of(second.id, appeal_id), Role.editor)

    def second_removes_third():
        # Checked as an owner when the request began; demoted before it writes.
        remove_member(membership_of(third.id, appeal_id), by=membership_of(second.id, appeal_id))

    outcomes = while_the_first_holds(app, demote_second, second_removes_third, NoLongerOwner)
    assert outcomes == ("done", "refused")
    assert membership_of(third.id, appeal_id).role is Role.owner


def test_a_link_whose_maker_is_no_longer_an_owner_is_refused(
    client, login, switch_to, make_appeal, owner, make_user
):
    # Made as she was being demoted (after her links were revoked), or before that rule.
    co_owner = make_user()
    appeal = make_appeal(owner=owner, members={co_owner: Role.owner})
    login(co_owner)
    token = create_link(client, appeal, role="owner")
    membership_of(co_owner.id, appeal.id).role = Role.editor  # nothing revoked
    db.session.commit()
    switch_to(make_user())
    for method in ("GET", "POST"):
        response = client.open(f"/appeals/invitations/{token}", method=method)
        assert response.status_code == 404
        assert CANNOT_BE_USED in response.get_data(as_text=True)
    assert membership_count(appeal) == 2
