"""Public pages: what anyone sees, and what they never see."""

from campaign.appeals.operations import publish_appeal, update_appeal
from campaign.extensions import db


def test_home_page(client):
    html = client.get("/").get_data(as_text=True)
    assert "Collective appeals, from draft to submission" in html


def test_logged_in_home_goes_to_dashboard(client, make_user, login):
    login(make_user())
    assert client.get("/").headers["Location"].endswith("/appeals/")


def test_draft_appeal_is_404(client, make_appeal):
    appeal = make_appeal()
    assert client.get(f"/a/{appeal.slug}").status_code == 404
    assert client.get("/a/no-such-appeal").status_code == 404


def test_public_page_shows_latest_version_not_the_draft(client, make_appeal):
    appeal = make_appeal(body="Published words.", goal=300)
    owner = appeal.memberships[0].user
    publish_appeal(appeal, owner, seen_revision=appeal.draft_revision)
    db.session.commit()
    from tests.appeals.test_operations import _data

    update_appeal(
        appeal,
        _data(title=appeal.title, body="Draft words.", language="en", goal=300),
        seen_revision=appeal.draft_revision,
    )
    db.session.commit()
    html = client.get(f"/a/{appeal.slug}").get_data(as_text=True)
    assert "Published words." in html and "Draft words." not in html
    assert "of 300" in html and 'max="300"' in html
    assert "Version 1" in html


def test_private_details_never_reach_the_public_page(client, make_appeal):
    appeal = make_appeal(
        representative_name="Secret Representative Zx81",
        representative_address="Hidden Street 42, Qw77",
    )
    publish_appeal(appeal, appeal.memberships[0].user, seen_revision=appeal.draft_revision)
    db.session.commit()
    owner_email = appeal.memberships[0].user.email
    html = client.get(f"/a/{appeal.slug}").get_data(as_text=True)
    for private in ("Secret Representative Zx81", "Hidden Street 42", "Qw77", owner_email):
        assert private not in html


def test_pages_load_nothing_from_other_sites(client, make_appeal):
    appeal = make_appeal()
    publish_appeal(appeal, appeal.memberships[0].user, seen_revision=appeal.draft_revision)
    db.session.commit()
    for path in ("/", f"/a/{appeal.slug}", "/accounts/login", "/accounts/signup"):
        html = client.get(path).get_data(as_text=True)
        for attribute in ("src=", "href="):
            for value in html.split(attribute)[1:]:
                target = value[1:].split(value[0], 1)[0]
                assert not target.startswith(("http:", "https:", "//")), (path, target)
