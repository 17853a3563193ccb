"""An owner can require two-step login of every member: members without it are sent to set it
up before any of the appeal's pages, found from the URL map."""

import pytest
from sqlalchemy import select

from campaign.accounts.models import Role
from campaign.accounts.two_factor import enable_two_factor, start_setup
from campaign.appeals.access import TwoFactorMissing, require_two_factor
from campaign.audit.models import AuditEvent
from campaign.extensions import db
from tests.accounts.test_two_factor import code_now
from tests.appeals.test_access import CASES, url_for_rule


def with_two_steps(user):
    start_setup(user)
    enable_two_factor(user, code_now(user, -1))
    db.session.commit()
    return user


def requiring(make_appeal, owner, **members):
    appeal = make_appeal(owner=owner, **members)
    require_two_factor(appeal, True, owner)
    db.session.commit()
    return appeal


def log_in_fully(client, user, login):
    login(user)
    if user.two_factor_enabled:
        assert client.post("/accounts/login/code", data={"code": code_now(user)}).status_code == 302


def test_an_owner_without_it_cannot_require_it(make_appeal, make_user):
    owner = make_user()
    appeal = make_appeal(owner=owner)
    with pytest.raises(TwoFactorMissing):
        require_two_factor(appeal, True, owner)


def test_the_owner_sets_it_on_the_members_page(client, make_appeal, make_user, login):
    owner = with_two_steps(make_user())
    appeal = make_appeal(owner=owner)
    log_in_fully(client, owner, login)
    page = client.get(f"/appeals/{appeal.id}/members").get_data(as_text=True)
    assert "Every member must log in with two steps" in page
    response = client.post(
        f"/appeals/{appeal.id}/members/two-step", data={"required": "y"}, follow_redirects=True
    )
    assert "those without it are asked to set it up first" in response.get_data(as_text=True)
    db.session.refresh(appeal)
    assert appeal.require_two_factor
    client.post(f"/appeals/{appeal.id}/members/two-step", data={})
    db.session.refresh(appeal)
    assert not appeal.require_two_factor
    events = db.session.scalars(select(AuditEvent).order_by(AuditEvent.id)).all()
    assert [(e.action, e.actor_id, e.appeal_id) for e in events] == [
        ("appeal.two_factor_required", owner.id, appeal.id),
        ("appeal.two_factor_not_required", owner.id, appeal.id),
    ]


def test_an_owner_without_it_is_told_to_set_it_up_first(client, make_appeal, make_user, login):
    owner = make_user()
    appeal = make_appeal(owner=owner)
    login(owner)
    response = client.post(
        f"/appeals/{appeal.id}/members/two-step", data={"required": "y"}, follow_redirects=True
    )
    assert "Set up two-step login for yourself first" in response.get_data(as_text=True)
    db.session.refresh(appeal)
    assert not appeal.require_two_factor


def test_an_editor_cannot_change_it(client, make_appeal, make_user, login):
    owner, editor = with_two_steps(make_user()), with_two_steps(make_user())
    appeal = make_appeal(owner=owner, members={editor: Role.editor})
    log_in_fully(client, editor, login)
    response = client.post(f"/appeals/{appeal.id}/members/two-step", data={"required": "y"})
    assert response.status_code == 403
    db.session.refresh(appeal)
    assert not appeal.require_two_factor


@pytest.mark.parametrize(("endpoint", "method"), CASES)
def test_a_member_without_it_is_sent_to_set_it_up(
    app, client, make_appeal, make_user, login, endpoint, method
):
    owner, editor = with_two_steps(make_user()), make_user()
    appeal = requiring(make_appeal, owner, members={editor: Role.editor})
    login(editor)
    response = client.open(url_for_rule(app, endpoint, appeal.id), method=method)
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/accounts/two-step?next=")


def test_the_member_comes_back_once_it_is_set_up(client, make_appeal, make_user, login):
    owner, editor = with_two_steps(make_user()), make_user()
    appeal = requiring(make_appeal, owner, members={editor: Role.editor})
    login(editor)
    response = client.get(f"/appeals/{appeal.id}/", follow_redirects=True)
    page = response.get_data(as_text=True)
    assert f"The owners of “{appeal.title}” ask every member to log in with two steps." in page
    client.post(f"/accounts/two-step/start?next=/appeals/{appeal.id}/")
    done = client.post(
        f"/accounts/two-step/enable?next=/appeals/{appeal.id}/",
        data={"code": code_now(editor), "current": "correct horse battery"},
    )
    assert f'href="/appeals/{appeal.id}/"' in done.get_data(as_text=True)
    assert client.get(f"/appeals/{appeal.id}/").status_code == 200


def test_a_member_with_it_and_other_appeals_are_not_affected(client, make_appeal, make_user, login):
    owner = with_two_steps(make_user())
    appeal = requiring(make_appeal, owner)
    other = make_appeal(owner=owner)
    log_in_fully(client, owner, login)
    assert client.get(f"/appeals/{appeal.id}/").status_code == 200
    assert client.get(f"/appeals/{other.id}/").status_code == 200


def test_a_non_member_still_gets_404(client, make_appeal, make_user, login):
    owner = with_two_steps(make_user())
    appeal = requiring(make_appeal, owner)
    login(make_user())
    assert client.get(f"/appeals/{appeal.id}/").status_code == 404
