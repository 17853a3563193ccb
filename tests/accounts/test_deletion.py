"""A member deletes her own account: given her password, never while she is an appeal's only
owner; her memberships, sessions and invitations end, her address is told, and the appeals'
logs keep what she did as done by "a deleted account"."""

import re
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from campaign.accounts.deletion import appeals_owned_alone, delete_account
from campaign.accounts.memberships import LastOwner, invite_member
from campaign.accounts.models import Invitation, LoginSession, Membership, Role, User
from campaign.audit.models import AuditEvent
from campaign.audit.operations import record_event
from campaign.extensions import db
from tests.concurrency import while_the_first_holds
from tests.conftest import PASSWORD
from tests.mailbox import body, mails, subject

ERROR = re.compile(r'<p class="error"[^>]*>(.*?)</p>', re.DOTALL)


def count(model, *conditions):
    return db.session.scalar(select(func.count()).select_from(model).where(*conditions))


def delete(client, password=PASSWORD, **kwargs):
    return client.post("/accounts/delete", data={"current": password}, **kwargs)


def gone(user_id):
    db.session.expire_all()
    return db.session.get(User, user_id) is None


@pytest.fixture
def owner(make_user):
    return make_user(name="Madina")


@pytest.fixture
def editor(make_user):
    return make_user(name="Zarema", email="zarema@example.org")


@pytest.fixture
def appeal(make_published_appeal, owner, editor):
    return make_published_appeal(owner=owner, members={editor: Role.editor})


def test_a_member_deletes_her_account_with_her_password(app, client, login, editor, appeal, outbox):
    with app.test_request_context():
        record_event(appeal.id, "statistics.downloaded", actor_id=editor.id)
    db.session.commit()
    editor_id = editor.id
    login(editor)
    page = client.get("/accounts/delete").get_data(as_text=True)
    assert "zarema@example.org" in page and "Delete my account" in page
    response = delete(client)
    assert (response.status_code, response.headers["Location"]) == (302, "/")
    assert gone(editor_id)
    assert count(Membership, Membership.user_id == editor_id) == 0
    assert count(LoginSession) == 0
    hers = db.session.scalars(
        select(AuditEvent).where(AuditEvent.actor_deleted).order_by(AuditEvent.id)
    ).all()
    assert [event.action for event in hers] == ["statistics.downloaded", "member.left"]
    assert {event.actor_id for event in hers} == {None}
    # This browser is logged out, and the address logs in no more.
    assert client.get("/accounts/settings").status_code == 302
    assert (
        client.post(
            "/accounts/login", data={"email": "zarema@example.org", "password": PASSWORD}
        ).status_code
        == 200
    )
    (farewell,) = [m for m in mails(outbox) if subject(m) == "Your Campaign account is deleted"]
    assert farewell["To"] == "zarema@example.org"
    assert body(farewell).startswith("Your Campaign account (Zarema) is deleted")
    assert PASSWORD not in body(farewell)


@pytest.mark.parametrize(
    ("language", "message"),
    [("en", "This is not your current password."), ("ru", "Это не ваш текущий пароль.")],
)
def test_a_wrong_password_deletes_nothing(client, login, editor, appeal, outbox, language, message):
    login(editor)
    response = delete(client, "not my password", headers={"Accept-Language": language})
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert ERROR.findall(html) == [message]
    assert "not my password" not in html  # a password is never sent back
    assert not gone(editor.id)
    assert count(Membership, Membership.user_id == editor.id) == 1
    assert not [m for m in mails(outbox) if subject(m) == "Your Campaign account is deleted"]


def test_an_empty_password_is_asked_for(client, login, editor, appeal):
    login(editor)
    response = delete(client, "")
    assert response.status_code == 200
    assert ERROR.findall(response.get_data(as_text=True)) == ["Enter your current password."]
    assert not gone(editor.id)


def test_wrong_passwords_count_with_the_account_pages(client, login, editor):
    login(editor)
    for _ in range(5):
        assert delete(client, "a guess").status_code == 200
    assert delete(client).status_code == 429
    assert not gone(editor.id)


@pytest.mark.parametrize("language", ["en", "ru"])
def test_the_only_owner_of_an_appeal_keeps_her_account(
    client, login, owner, appeal, make_appeal, language
):
    draft = make_appeal(owner=owner, title="Our draft")
    login(owner)
    headers = {"Accept-Language": language}
    page = client.get("/accounts/delete", headers=headers).get_data(as_text=True)
    said = {
        "en": "You are the only owner of these appeals, and each needs one.",
        "ru": "Вы единственный владелец этих обращений, а у каждого должен быть владелец.",
    }
    assert said[language] in page
    assert f"/appeals/{appeal.id}/members" in page
    assert f"/appeals/{draft.id}/delete" in page  # a draft may be deleted instead
    assert f"/appeals/{appeal.id}/delete" not in page  # a published one may not
    assert 'name="current"' not in page
    assert delete(client, headers=headers).status_code == 200
    assert not gone(owner.id)
    assert count(Membership, Membership.user_id == owner.id) == 2


def test_an_owner_with_another_owner_may_go_and_her_invitations_end(
    client, login, owner, appeal, make_user
):
    co_owner = make_user()
    db.session.add(Membership(appeal_id=appeal.id, user=co_owner, role=Role.owner))
    invite_member(appeal.id, Role.editor, owner, timedelta(days=7))
    db.session.commit()
    owner_id = owner.id
    login(owner)
    assert delete(client).status_code == 302
    assert gone(owner_id)
    (invitation,) = db.session.scalars(select(Invitation))
    assert not invitation.is_pending and invitation.created_by_id is None
    assert appeals_owned_alone(co_owner) == [appeal]


def test_two_owners_deleting_at_once_leave_the_appeal_one(app, owner, appeal, make_user):
    # Each deletion counts the owners under a lock on the appeal: the second one waits for
    # the first to commit, then finds itself the only owner.
    co_owner = make_user()
    db.session.add(Membership(appeal_id=appeal.id, user=co_owner, role=Role.owner))
    db.session.commit()
    owner_id, co_owner_id = owner.id, co_owner.id

    def deleting(user_id):
        return lambda: delete_account(db.session.get(User, user_id), PASSWORD)

    outcomes = while_the_first_holds(app, deleting(owner_id), deleting(co_owner_id), LastOwner)
    assert outcomes == ("done", "refused")
    assert gone(owner_id) and not gone(co_owner_id)
    assert count(Membership, Membership.appeal_id == appeal.id, Membership.role == Role.owner) == 1


def test_the_appeals_log_names_a_deleted_account(app, client, login, owner, editor, appeal):
    with app.test_request_context():
        record_event(appeal.id, "statistics.downloaded", actor_id=editor.id)
        record_event(appeal.id, "statistics.downloaded", via="task")
    db.session.commit()
    login(editor)
    assert delete(client).status_code == 302
    login(owner)
    page = client.get(f"/appeals/{appeal.id}/audit").get_data(as_text=True)
    assert "a deleted account" in page and "a background job" in page
    assert "Zarema" not in page


def test_a_signatures_history_names_a_deleted_account(
    app, client, login, owner, editor, appeal, make_signature
):
    signature = make_signature(appeal)
    with app.test_request_context():
        record_event(appeal.id, "signature.flagged", subject=("signature", signature.id),
                     actor_id=editor.id)  # fmt: skip
    db.session.commit()
    login(editor)
    assert delete(client).status_code == 302
    login(owner)
    page = client.get(f"/appeals/{appeal.id}/signatures/{signature.id}").get_data(as_text=True)
    assert "Signature flagged for review (a deleted account)" in page


def test_the_page_needs_a_login(client):
    response = client.get("/accounts/delete")
    assert response.status_code == 302 and "/accounts/login" in response.headers["Location"]
    assert client.post("/accounts/delete", data={"current": PASSWORD}).status_code == 302


class TestWithCsrf:
    @pytest.fixture
    def app_config(self):
        return {"WTF_CSRF_ENABLED": True}

    def test_deleting_needs_the_forms_token(self, client, make_user):
        from tests.test_security import csrf_token_of

        user = make_user()
        user_id = user.id
        token = csrf_token_of(client, "/accounts/login")
        client.post(
            "/accounts/login",
            data={"email": user.email, "password": PASSWORD, "csrf_token": token},
        )
        assert delete(client).status_code in (200, 400)
        assert not gone(user_id)
        token = csrf_token_of(client, "/accounts/delete")
        client.post("/accounts/delete", data={"current": PASSWORD, "csrf_token": token})
        assert gone(user_id)
