"""Pages that show a token or private data are never kept by a browser's cache or history,
found from the URL map so that a new organiser or account page cannot forget it."""

import pytest

from campaign import create_app
from campaign.accounts.models import Role
from campaign.extensions import db
from campaign.link_tokens import new_token
from campaign.security import is_private_rule
from tests.appeals.test_access import ARGUMENTS

URL_MAP_APP = create_app(
    {"TESTING": True, "SECRET_KEY": "x", "SQLALCHEMY_DATABASE_URI": "sqlite://"}
)
VALUES = {**ARGUMENTS, "token": "not-a-real-token", "slug": "no-such-appeal", "session_id": 1}


def private_get_rules():
    """Every GET route that is an organiser's, an account's, or reached with a link's secret."""
    return [
        rule
        for rule in URL_MAP_APP.url_map.iter_rules()
        if "GET" in rule.methods
        and (
            rule.endpoint.startswith(("accounts.", "appeals."))
            or "appeal_id" in rule.arguments
            or "token" in rule.arguments
        )
    ]


RULES = private_get_rules()


def test_the_url_map_has_such_pages():
    endpoints = {rule.endpoint for rule in RULES}
    assert {
        "appeals.show",
        "appeals.members",
        "appeals.dossier_file",
        "accounts.settings",
        "accounts.two_factor",
        "signatures.withdraw",
        "signatures.confirm",
        "accounts.reset_password",
    } <= endpoints


def test_every_organiser_and_account_route_is_private():
    for rule in URL_MAP_APP.url_map.iter_rules():
        organiser = "appeal_id" in rule.arguments or rule.endpoint.startswith("appeals.")
        if organiser or rule.endpoint.startswith("accounts.") or "token" in rule.arguments:
            assert is_private_rule(rule), rule.rule


@pytest.mark.parametrize("rule", RULES, ids=lambda rule: rule.endpoint)
def test_each_page_is_sent_with_no_store(app, client, make_appeal, make_user, login, rule):
    owner = make_user()
    appeal = make_appeal(owner=owner, members={make_user(): Role.editor})
    login(owner)
    values = {name: VALUES[name] for name in rule.arguments if name != "appeal_id"}
    if "appeal_id" in rule.arguments:
        values["appeal_id"] = appeal.id
    path = rule.build(values, append_unknown=False)[1]
    response = client.get(path)
    directives = [d.strip() for d in response.headers.get("Cache-Control", "").split(",")]
    assert "no-store" in directives, (path, response.status_code)


def test_the_thank_you_page_with_the_withdrawal_link(client, make_published_appeal):
    appeal = make_published_appeal()
    with client.session_transaction() as session:
        session["signed"] = {"slug": appeal.slug, "withdraw": "secret-token", "pending": False}
    response = client.get(f"/a/{appeal.slug}/thanks")
    assert response.status_code == 200
    assert "/withdraw/secret-token" in response.get_data(as_text=True)
    assert response.headers["Cache-Control"] == "no-store"


def test_the_withdraw_page_of_a_real_link(client, make_published_appeal, make_signature):
    appeal = make_published_appeal()
    signature = make_signature(appeal)
    token, signature.withdraw_token_hash = new_token()
    db.session.commit()
    response = client.get(f"/a/{appeal.slug}/withdraw/{token}")
    assert response.status_code == 200
    assert response.headers["Cache-Control"] == "no-store"
    withdrawn = client.post(f"/a/{appeal.slug}/withdraw/{token}")
    assert withdrawn.status_code == 200
    assert withdrawn.headers["Cache-Control"] == "no-store"


def test_a_form_shown_again_with_what_was_typed_is_not_stored(client, make_published_appeal):
    appeal = make_published_appeal()
    data = {"surname": "", "email": "zarema.private@example.org"}  # refused: no name
    response = client.post(f"/a/{appeal.slug}", data=data)
    assert response.status_code in {200, 400}
    assert "zarema.private@example.org" in response.get_data(as_text=True)
    assert response.headers["Cache-Control"] == "no-store"


@pytest.mark.parametrize("path", ["/", "/static/css/site.css", "/verify/"])
def test_public_pages_keep_their_caching(client, path):
    response = client.get(path)
    response.close()  # a static file is sent from an open file
    assert response.status_code == 200
    assert "no-store" not in response.headers.get("Cache-Control", "")


def test_the_public_appeal_page_is_not_marked(client, make_published_appeal):
    appeal = make_published_appeal()
    response = client.get(f"/a/{appeal.slug}")
    assert response.status_code == 200
    assert "no-store" not in response.headers.get("Cache-Control", "")
