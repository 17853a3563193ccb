"""Every organiser page, found from the URL map: login for strangers, 404 for non-members."""

import pytest

from campaign import create_app
from campaign.accounts.models import Role

# Placeholder values for URL arguments other than the appeal's id.
ARGUMENTS = {
    "number": 1,
    "membership_id": 1,
    "invitation_id": 1,
    "signature_id": 1,
    "family_id": 1,
    "job_id": 1,
    "snapshot_id": "0123456789abcdef0123",
    "submission_id": 1,
    "scan_id": 1,
    "sheet": 1,
    "mailing_id": 1,
    "upload": "0123456789abcdef0123456789abcdef",
}


def organiser_rules(app):
    """Rules of every view taking an appeal_id: that is what makes a page an organiser's."""
    return [rule for rule in app.url_map.iter_rules() if "appeal_id" in rule.arguments]


def rule_cases(*, above_advocate=False):
    app = create_app({"TESTING": True, "SECRET_KEY": "x", "SQLALCHEMY_DATABASE_URI": "sqlite://"})
    return [
        (rule.endpoint, method)
        for rule in organiser_rules(app)
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"})
        if not above_advocate
        or getattr(app.view_functions[rule.endpoint], "required_role", None) is not Role.advocate
    ]


CASES = rule_cases()
RESTRICTED_CASES = rule_cases(above_advocate=True)


def url_for_rule(app, endpoint, appeal_id):
    rule = next(r for r in app.url_map.iter_rules() if r.endpoint == endpoint)
    values = {name: ARGUMENTS[name] for name in rule.arguments if name != "appeal_id"}
    return rule.build({"appeal_id": appeal_id, **values}, append_unknown=False)[1]


def test_the_url_map_has_organiser_pages():
    endpoints = {endpoint for endpoint, _method in CASES}
    assert {"appeals.show", "appeals.edit", "appeals.publish", "appeals.members"} <= endpoints
    assert len(endpoints) >= 12


def test_every_organiser_view_declares_a_role(app):
    for rule in organiser_rules(app):
        view = app.view_functions[rule.endpoint]
        assert isinstance(getattr(view, "required_role", None), Role), rule.endpoint


@pytest.mark.parametrize(("endpoint", "method"), CASES)
def test_anonymous_is_sent_to_login(app, client, make_appeal, endpoint, method):
    appeal = make_appeal()
    response = client.open(url_for_rule(app, endpoint, appeal.id), method=method)
    assert response.status_code == 302
    assert "/accounts/login" in response.headers["Location"]


@pytest.mark.parametrize(("endpoint", "method"), CASES)
def test_non_member_gets_404(app, client, make_appeal, make_user, login, endpoint, method):
    appeal = make_appeal()
    stranger = make_user()
    make_appeal(owner=stranger)  # a member of something else, and an organiser all the same
    login(stranger)
    response = client.open(url_for_rule(app, endpoint, appeal.id), method=method)
    assert response.status_code == 404


@pytest.mark.parametrize(("endpoint", "method"), RESTRICTED_CASES)
def test_member_with_too_low_a_role_gets_403(
    app, client, make_appeal, make_user, login, endpoint, method
):
    advocate = make_user()
    appeal = make_appeal(members={advocate: Role.advocate})
    login(advocate)
    response = client.open(url_for_rule(app, endpoint, appeal.id), method=method)
    assert response.status_code == 403


def test_non_member_404_does_not_reveal_whether_the_appeal_exists(client, make_user, login):
    login(make_user())
    assert client.get("/appeals/999999/").status_code == 404


def test_dashboard_and_new_need_login(client):
    for path in ("/appeals/", "/appeals/new"):
        response = client.get(path)
        assert response.status_code == 302
        assert "/accounts/login" in response.headers["Location"]


@pytest.mark.parametrize("role", [Role.advocate, Role.editor, Role.owner])
def test_the_tabs_link_only_to_pages_the_member_may_open(
    client, make_appeal, make_user, login, role
):
    member = make_user()
    appeal = make_appeal(members={member: role})
    login(member)
    page = client.get(f"/appeals/{appeal.id}/signatures").get_data(as_text=True)
    tabs = page.split('<nav class="tabs"', 1)[1].split("</nav>", 1)[0]
    links = [part.split('"', 1)[0] for part in tabs.split('href="')[1:]]
    assert f"/appeals/{appeal.id}/signatures" in links
    for link in links:
        assert client.get(link).status_code == 200, link
    assert (f"/appeals/{appeal.id}/audit" in links) is (role is Role.owner)
