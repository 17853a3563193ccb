"""The account page: the name other members see, and a new password for a logged-in user."""

import re

import pytest

from campaign.accounts.models import User
from campaign.extensions import db
from tests.conftest import PASSWORD

NEW_PASSWORD = "a new, long enough password"
ERROR = re.compile(r'<p class="error"[^>]*>(.*?)</p>', re.DOTALL)


@pytest.fixture
def user(make_user, login):
    user = make_user(name="Zarema")
    login(user)
    return user


def change(client, current=PASSWORD, password=NEW_PASSWORD, confirm=None, **kwargs):
    return client.post(
        "/accounts/settings",
        data={
            "password-current": current,
            "password-password": password,
            "password-confirm": password if confirm is None else confirm,
            "password-submit": "Change the password",
        },
        **kwargs,
    )


def rename(client, name, **kwargs):
    data = {"profile-name": name, "profile-submit": "Save the name"}
    return client.post("/accounts/settings", data=data, **kwargs)


def logs_in(app, email, password):
    other = app.test_client()
    response = other.post("/accounts/login", data={"email": email, "password": password})
    return response.status_code == 302


def stored(user):
    db.session.expire_all()
    return db.session.get(User, user.id)


def test_the_page_needs_a_login(client):
    response = client.get("/accounts/settings")
    assert response.status_code == 302 and "/accounts/login" in response.headers["Location"]


def test_the_page_shows_the_account(client, user):
    html = client.get("/appeals/").get_data(as_text=True)
    assert 'href="/accounts/settings"' in html
    html = client.get("/accounts/settings").get_data(as_text=True)
    assert user.email in html and 'value="Zarema"' in html


def test_the_name_is_changed(client, user):
    response = rename(client, "  Zarema Naloeva ")
    assert (response.status_code, response.headers["Location"]) == (302, "/accounts/settings")
    assert "Your name is saved." in client.get("/accounts/settings").get_data(as_text=True)
    assert stored(user).name == "Zarema Naloeva"


@pytest.mark.parametrize(
    ("name", "message"),
    [
        ("", "Enter your name."),
        ("x" * 101, "Use at most 100 characters."),
        ("Zarema\u202e", "Remove the invisible or control characters from this field."),
    ],
)
def test_a_bad_name_is_refused_kept_and_not_stored(client, user, name, message):
    html = rename(client, name).get_data(as_text=True)
    assert ERROR.findall(html) == [message]
    assert "Please correct the fields marked below." in html
    if name.strip():
        assert f'value="{name}"' in html
    assert stored(user).name == "Zarema"


def test_the_password_is_changed_and_other_browsers_are_logged_out(app, client, user):
    elsewhere = app.test_client()
    elsewhere.post("/accounts/login", data={"email": user.email, "password": PASSWORD})
    assert elsewhere.get("/appeals/").status_code == 200

    response = change(client)
    assert (response.status_code, response.headers["Location"]) == (302, "/accounts/settings")
    page = client.get("/accounts/settings")
    assert page.status_code == 200  # this browser stays logged in
    assert "Your new password is saved. Other browsers have been logged out." in page.get_data(
        as_text=True
    )
    assert elsewhere.get("/appeals/").status_code == 302
    assert logs_in(app, user.email, NEW_PASSWORD)
    assert not logs_in(app, user.email, PASSWORD)


@pytest.mark.parametrize(
    ("kwargs", "field_error"),
    [
        ({"current": "not my password"}, "This is not your current password."),
        ({"current": ""}, "Enter your current password."),
        ({"password": "short"}, "Use between 10 and 200 characters."),
        ({"confirm": "something else"}, "The two passwords differ."),
    ],
)
def test_a_bad_password_change_is_refused_and_changes_nothing(
    app, client, user, kwargs, field_error
):
    html = change(client, **kwargs).get_data(as_text=True)
    assert ERROR.findall(html) == [field_error]
    assert NEW_PASSWORD not in html and PASSWORD not in html  # passwords are never sent back
    assert logs_in(app, user.email, PASSWORD)
    assert client.get("/appeals/").status_code == 200


def test_the_refusal_is_in_russian(client, user):
    html = change(client, current="not my password", headers={"Accept-Language": "ru"}).get_data(
        as_text=True
    )
    assert "Это не ваш текущий пароль." in html


def test_wrong_current_passwords_are_limited_per_account(app, client, user):
    for _ in range(5):
        assert change(client, current="a guess").status_code == 200
    assert change(client, current="a guess").status_code == 429
    # The account itself is not locked: its owner still logs in elsewhere.
    assert logs_in(app, user.email, PASSWORD)


def test_renaming_does_not_count_against_the_limit(client, user):
    for n in range(7):
        assert rename(client, f"Zarema {n}").status_code == 302
    assert change(client).status_code == 302
