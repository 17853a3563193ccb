"""Signing up through the form: good input, and every kind of bad input."""

import html

import pytest
from argon2 import PasswordHasher
from sqlalchemy import func, select

from campaign.accounts.models import User
from campaign.extensions import db

GOOD_PASSWORD = "a long passphrase"


def signup_data(**overrides):
    data = {
        "name": "Zarema Aliyeva",
        "email": "zarema@example.org",
        "password": GOOD_PASSWORD,
        "confirm": GOOD_PASSWORD,
    }
    data.update(overrides)
    return data


def user_count():
    return db.session.scalar(select(func.count()).select_from(User))


def test_sign_up_creates_the_user_logs_in_and_goes_to_the_dashboard(client):
    response = client.post("/accounts/signup", data=signup_data())
    assert response.status_code == 302
    assert response.headers["Location"] == "/appeals/"
    user = db.session.scalar(select(User))
    assert (user.name, user.email) == ("Zarema Aliyeva", "zarema@example.org")
    # Logged in: the dashboard opens instead of sending to the login page.
    dashboard = client.get("/appeals/")
    assert dashboard.status_code == 200
    assert "Welcome. Your account is ready." in dashboard.get_data(as_text=True)


def test_email_is_normalised(client):
    response = client.post("/accounts/signup", data=signup_data(email="  Foo.Bar@EXAMPLE.org "))
    assert response.status_code == 302
    assert db.session.scalar(select(User.email)) == "foo.bar@example.org"


def test_password_is_stored_hashed_with_argon2(client):
    client.post("/accounts/signup", data=signup_data())
    stored = db.session.scalar(select(User.password_hash))
    assert GOOD_PASSWORD not in stored
    assert stored.startswith("$argon2id$")
    assert PasswordHasher().verify(stored, GOOD_PASSWORD)


def assert_refused(client, data, message, *, typed):
    """POST the form; check the message, the typed values kept, and that nothing is stored."""
    before = user_count()
    response = client.post("/accounts/signup", data=data)
    page = response.get_data(as_text=True)
    assert response.status_code == 200
    assert message in html.unescape(page)
    assert "Please correct the fields marked below." in page
    for value in typed:
        assert f'value="{html.escape(value)}"' in page, value
    assert user_count() == before
    # Not logged in either.
    assert client.get("/appeals/").status_code == 302


def test_empty_name(client):
    assert_refused(
        client, signup_data(name="   "), "Enter your name.", typed=["zarema@example.org"]
    )


def test_invalid_email(client):
    assert_refused(
        client,
        signup_data(email="zarema.example.org"),
        "Enter a valid email address.",
        typed=["Zarema Aliyeva", "zarema.example.org"],
    )


def test_password_of_nine_characters(client):
    assert_refused(
        client,
        signup_data(password="123456789", confirm="123456789"),
        "Use between 10 and 200 characters.",
        typed=["Zarema Aliyeva", "zarema@example.org"],
    )


def test_passwords_that_differ(client):
    assert_refused(
        client,
        signup_data(confirm=GOOD_PASSWORD + "!"),
        "The two passwords differ.",
        typed=["Zarema Aliyeva", "zarema@example.org"],
    )


@pytest.mark.parametrize("email", ["zarema@example.org", "ZAREMA@Example.ORG"])
def test_email_already_registered(client, make_user, email):
    make_user(email="zarema@example.org")
    assert_refused(
        client,
        signup_data(email=email),
        "An account with this email exists. Log in instead.",
        typed=["Zarema Aliyeva", email],
    )


@pytest.mark.parametrize(
    "name",
    ["Zare\u200bma Aliyeva", "Zarema \u202eaveyilA"],
    ids=["zero-width-space", "right-to-left-override"],
)
def test_name_with_hidden_characters(client, name):
    assert_refused(
        client,
        signup_data(name=name),
        "Remove the invisible or control characters from this field.",
        typed=[name, "zarema@example.org"],
    )
