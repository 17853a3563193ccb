"""The appeal page is the same for every anonymous visitor, and a cache may keep it."""

import re

import pytest

from campaign.signatures.public_page import forget_pages
from tests.conftest import PASSWORD

TOKEN_IN_PAGE = re.compile(r'name="csrf_token" type="hidden" value="[^"]+"')


@pytest.fixture
def app_config():
    return {"SIGN_MIN_SECONDS": 0, "PUBLIC_PAGE_MAX_AGE": 10, "WTF_CSRF_ENABLED": True}


@pytest.fixture
def visitor(app, client):
    """A new browser each call, each request in its own context (see IsolatedClient)."""
    return app.test_client


@pytest.fixture(autouse=True)
def _no_page_kept():
    forget_pages()
    yield
    forget_pages()


def test_every_anonymous_visitor_gets_the_same_cacheable_page(visitor, open_appeal):
    first = visitor().get(f"/a/{open_appeal.slug}", headers={"Accept-Language": "en"})
    second = visitor().get(f"/a/{open_appeal.slug}", headers={"Accept-Language": "en"})
    assert first.status_code == second.status_code == 200
    assert first.get_data() == second.get_data()
    assert "Set-Cookie" not in first.headers
    assert first.cache_control.public and first.cache_control.max_age == 10
    assert {"Accept-Language", "Cookie"} <= set(first.vary)
    html = first.get_data(as_text=True)
    assert not TOKEN_IN_PAGE.search(html)  # no visitor's token in a page all of them share
    assert f'data-form-token-url="/a/{open_appeal.slug}/form"' in html
    russian = visitor().get(f"/a/{open_appeal.slug}", headers={"Accept-Language": "ru"})
    assert russian.get_data() != first.get_data()  # kept per language


def test_the_page_is_kept_for_its_max_age_and_then_shows_what_changed(visitor, open_appeal, sign):
    before = visitor().get(f"/a/{open_appeal.slug}").get_data(as_text=True)
    assert sign(open_appeal).status_code == 302
    kept = visitor().get(f"/a/{open_appeal.slug}").get_data(as_text=True)
    assert kept == before  # the same bytes, not rendered again
    forget_pages()  # as when its max-age has passed
    after = visitor().get(f"/a/{open_appeal.slug}").get_data(as_text=True)
    assert "Naloeva" in after and "Naloeva" not in before


def test_a_kept_page_is_shown_without_reading_the_database(app, visitor, open_appeal):
    from sqlalchemy import event

    from campaign.extensions import db

    page = f"/a/{open_appeal.slug}"
    first = visitor().get(page)
    sent = []

    def record(_conn, _cursor, statement, *_args):
        sent.append(statement)

    event.listen(db.engine, "before_cursor_execute", record)
    try:
        again = visitor().get(page)
    finally:
        event.remove(db.engine, "before_cursor_execute", record)
    assert again.get_data() == first.get_data()
    assert again.cache_control.public and again.cache_control.max_age == 10
    assert sent == []
    # Another language, or another page of the list, is a page of its own.
    assert visitor().get(f"{page}?before=x").get_data() != first.get_data()
    assert visitor().get(page, headers={"Accept-Language": "en"}).get_data() != first.get_data()
    assert visitor().get("/a/no-such-appeal").status_code == 404


def test_a_closed_appeal_shows_closed_once_its_kept_page_expires(visitor, open_appeal):
    from campaign.appeals.models import AppealStatus
    from campaign.extensions import db

    page, english = f"/a/{open_appeal.slug}", {"Accept-Language": "en"}
    assert "Sign the appeal" in visitor().get(page, headers=english).get_data(as_text=True)
    open_appeal.status = AppealStatus.closed
    db.session.commit()
    kept = visitor().get(page, headers=english).get_data(as_text=True)
    assert "This appeal is closed." not in kept  # kept for its max-age, as a proxy keeps it
    forget_pages()  # as when its max-age has passed
    html = visitor().get(page, headers=english).get_data(as_text=True)
    assert "This appeal is closed." in html and "Sign the appeal" not in html


def test_the_form_values_come_from_a_small_private_request(app, client, open_appeal, sign):
    response = client.get(f"/a/{open_appeal.slug}/form")
    assert response.status_code == 200
    assert "no-store" in response.headers["Cache-Control"]
    values = response.get_json()
    assert set(values) == {"csrf_token", "started"}
    assert sign(open_appeal, csrf_token=values["csrf_token"]).status_code == 302
    assert client.get("/a/no-such-appeal/form").status_code == 404


def test_an_organiser_logged_in_gets_her_own_page_not_the_shared_one(client, open_appeal):
    page = client.get("/accounts/login").get_data(as_text=True)
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page).group(1)
    user = open_appeal.memberships[0].user
    form = {"email": user.email, "password": PASSWORD, "csrf_token": token}
    assert client.post("/accounts/login", data=form).status_code == 302
    response = client.get(f"/a/{open_appeal.slug}")
    assert response.status_code == 200
    assert not response.cache_control.public
    assert TOKEN_IN_PAGE.search(response.get_data(as_text=True))


def test_a_language_switch_without_a_token_asks_once_more_with_one(app, client, open_appeal):
    refused = client.post("/language/", data={"en": "1", "next": f"/a/{open_appeal.slug}"})
    assert refused.status_code == 400
    assert "lang=" not in refused.headers.get("Set-Cookie", "")
    html = refused.get_data(as_text=True)
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', html).group(1)
    assert f'value="/a/{open_appeal.slug}"' in html  # back to the page she was on
    switched = client.post(
        "/language/", data={"en": "1", "next": f"/a/{open_appeal.slug}", "csrf_token": token}
    )
    assert switched.status_code == 302
    assert switched.headers["Location"] == f"/a/{open_appeal.slug}"
    assert "lang=en" in switched.headers["Set-Cookie"]


def test_a_withdrawn_signer_leaves_the_kept_page_at_once(visitor, open_appeal, make_signature):
    from campaign.extensions import db
    from campaign.link_tokens import new_token
    from campaign.signatures.models import Display
    from campaign.signatures.signer_links import withdraw_signature

    signature = make_signature(open_appeal, surname="Уходящая", display=Display.full)
    token, signature.withdraw_token_hash = new_token()
    db.session.commit()
    assert "Уходящая" in visitor().get(f"/a/{open_appeal.slug}").get_data(as_text=True)
    withdraw_signature(token)
    db.session.commit()
    assert "Уходящая" not in visitor().get(f"/a/{open_appeal.slug}").get_data(as_text=True)
