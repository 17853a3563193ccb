"""Moving an account to a new address: asked with the password, done by the link mailed there."""

import re

import pytest
from sqlalchemy import func, select

from campaign.accounts.models import User
from campaign.extensions import db
from tests.accounts.test_settings import change, stored
from tests.conftest import PASSWORD
from tests.mailbox import body, link_path, mails, subject

NEW = "zarema.new@example.org"
ERROR = re.compile(r'<p class="error"[^>]*>(.*?)</p>', re.DOTALL)


@pytest.fixture
def user(make_user, login):
    user = make_user(name="Zarema", email="zarema@example.org")
    login(user)
    return user


def ask(client, email=NEW, current=PASSWORD, **kwargs):
    data = {"email-email": email, "email-current": current, "email-submit": "Send the link"}
    return client.post("/accounts/settings", data=data, **kwargs)


def another_browser(app):
    other = app.test_client()
    other.environ_base["HTTP_ACCEPT_LANGUAGE"] = "en"
    return other


def logs_in(app, email, password=PASSWORD):
    other = app.test_client()
    response = other.post("/accounts/login", data={"email": email, "password": password})
    return response.status_code == 302


def test_the_account_moves_when_the_link_mailed_to_the_new_address_is_followed(
    app, client, user, outbox
):
    response = ask(client, f" {NEW.upper()} ")
    assert (response.status_code, response.headers["Location"]) == (302, "/accounts/settings")
    page = client.get("/accounts/settings").get_data(as_text=True)
    assert f"We have sent a link to {NEW}." in page
    assert f"Waiting for you to open the link we mailed to {NEW}." in page
    [message] = mails(outbox)
    assert (message["To"], subject(message)) == (
        NEW,
        "Confirm the new address of your Campaign account",
    )
    path = link_path(message, "/accounts/email/")
    assert NEW not in path  # the link names the address only through a digest
    assert stored(user).email == "zarema@example.org"  # nothing changes before the link
    assert logs_in(app, "zarema@example.org")

    # A mail scanner that follows the link changes nothing: the change is a button.
    anonymous = another_browser(app)
    confirm = anonymous.get(path).get_data(as_text=True)
    assert f"will use {NEW} to log in" in confirm
    # Whoever reads the address (mistyped, it is a stranger's) learns nothing of the account.
    assert "zarema@example.org" not in confirm and "Zarema" not in confirm
    assert "Zarema" not in body(message)
    assert stored(user).email == "zarema@example.org"
    done = anonymous.post(path, data={"current": PASSWORD}, follow_redirects=True)
    assert "/accounts/login" in done.request.path  # the link logs no one in
    assert f"Your account now uses the address {NEW}." in done.get_data(as_text=True)

    assert (stored(user).email, stored(user).pending_email) == (NEW, None)
    notice = mails(outbox)[-1]
    assert (notice["To"], subject(notice)) == (
        "zarema@example.org",
        "The address of your Campaign account was changed",
    )
    assert NEW not in body(notice)  # the old address is not told where the account went
    assert "/accounts/email/undo/" in body(notice)
    assert logs_in(app, NEW) and not logs_in(app, "zarema@example.org")
    # Spent: the link works once.
    assert anonymous.get(path).status_code == 404
    assert NEW in client.get("/accounts/settings").get_data(as_text=True)


@pytest.mark.parametrize(
    ("email", "current", "message"),
    [
        ("not an address", PASSWORD, "Enter a valid email address."),
        ("", PASSWORD, "Enter your email address."),
        ("ZAREMA@example.org", PASSWORD, "This is already your address."),
        (NEW, "", "Enter your current password."),
        (NEW, "not my password", "This is not your current password."),
    ],
)
def test_a_bad_request_is_refused_kept_and_mails_nothing(
    client, user, outbox, email, current, message
):
    html = ask(client, email, current).get_data(as_text=True)
    assert ERROR.findall(html) == [message]
    if email:
        assert f'value="{email}"' in html
    assert mails(outbox) == []
    assert stored(user).pending_email is None


def test_the_refusal_is_in_russian(client, user):
    html = ask(client, "not an address", headers={"Accept-Language": "ru"}).get_data(as_text=True)
    assert "Пожалуйста, исправьте отмеченные ниже поля." in html


def test_wrong_passwords_here_count_with_the_password_form(client, user):
    for n in range(5):
        form = ask if n % 2 else change
        assert form(client, current="a guess").status_code == 200
    assert ask(client, current="a guess").status_code == 429


def test_a_stranger_reading_a_mistyped_address_cannot_move_the_account(app, client, user, outbox):
    ask(client, NEW)
    path = link_path(mails(outbox)[-1], "/accounts/email/")
    stranger = another_browser(app)
    for guess, message in [("", "Enter your current password."),
                           ("a guess", "This is not your current password.")]:  # fmt: skip
        refused = stranger.post(path, data={"current": guess})
        assert refused.status_code == 200
        assert ERROR.findall(refused.get_data(as_text=True)) == [message]
    assert (stored(user).email, stored(user).pending_email) == ("zarema@example.org", NEW)
    for _ in range(4):
        stranger.post(path, data={"current": "a guess"})
    assert stranger.post(path, data={"current": PASSWORD}).status_code == 429
    # The serializer ignores padding: another spelling of the link counts with it, and so
    # do the account page's password forms.
    assert stranger.get(path + "!!!!").status_code == 200
    assert stranger.post(path + "!!!!", data={"current": PASSWORD}).status_code == 429
    assert another_browser(app).post(path + "====", data={"current": "x"}).status_code == 429
    assert ask(client, current="a guess").status_code == 429
    assert stored(user).email == "zarema@example.org"


def test_links_to_new_addresses_are_limited_per_account(client, user, outbox):
    for n in range(3):
        assert ask(client, f"new{n}@example.org").status_code == 302
    assert ask(client, "new3@example.org").status_code == 429
    assert len(mails(outbox)) == 3
    # The other forms of the page still work.
    renamed = client.post(
        "/accounts/settings", data={"profile-name": "Z", "profile-submit": "Save"}
    )
    assert renamed.status_code == 302


def test_only_the_latest_link_works_and_only_until_the_password_changes(app, client, user, outbox):
    ask(client, "first@example.org")
    ask(client, NEW)
    first, second = (link_path(m, "/accounts/email/") for m in mails(outbox))
    anonymous = another_browser(app)
    assert anonymous.get(first).status_code == 404
    assert anonymous.get(second).status_code == 200
    change(client)  # a new password
    assert anonymous.get(second).status_code == 404
    assert "This link no longer works" in anonymous.get(second).get_data(as_text=True)
    assert stored(user).email == "zarema@example.org"


def test_an_address_with_an_account_gets_a_word_and_no_link(client, user, make_user, outbox):
    make_user(email=NEW)
    response = ask(client, NEW)
    assert response.status_code == 302  # the same answer as for a free address
    [message] = mails(outbox)
    assert (message["To"], subject(message)) == (NEW, "This address already has a Campaign account")
    assert "/accounts/email/" not in body(message)


def test_an_address_taken_before_the_link_is_followed_stays_the_others(
    app, client, user, make_user, outbox
):
    ask(client, NEW)
    path = link_path(mails(outbox)[0], "/accounts/email/")
    make_user(email=NEW)  # a confirmed account, made meanwhile
    html = client.post(path, data={"current": PASSWORD}, follow_redirects=True).get_data(
        as_text=True
    )
    assert f"Another account uses {NEW} now: your address stays zarema@example.org." in html
    assert stored(user).email == "zarema@example.org"
    assert db.session.scalar(select(func.count()).where(User.email == NEW)) == 1


def test_an_unconfirmed_account_on_the_new_address_gives_way(app, client, user, outbox):
    squatter = app.test_client()
    squatter.post(
        "/accounts/signup",
        data={
            "name": "Squatter",
            "email": NEW,
            "password": "another long one",
            "confirm": "another long one",
        },
    )
    ask(client, NEW)
    path = link_path(mails(outbox)[-1], "/accounts/email/")
    client.post(path, data={"current": PASSWORD})
    assert stored(user).email == NEW
    assert db.session.scalars(select(User.name).where(User.email == NEW)).all() == ["Zarema"]
