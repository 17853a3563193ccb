"""A forgotten password: the mailed link, what it accepts, and what it never reveals."""

import re
from datetime import timedelta

import pytest

from campaign.accounts.mailed_links import RESET, LinkInvalid, link_token, user_for_link
from campaign.accounts.models import User
from campaign.accounts.operations import purge_unconfirmed
from campaign.extensions import db
from tests.concurrency import while_the_first_holds
from tests.conftest import PASSWORD
from tests.mailbox import body, link_path, mails, subject

NEW_PASSWORD = "a new, long enough password"
SENT = "If an account uses this address, we have sent it a link to choose a new password."
ERROR = re.compile(r'<p class="error"[^>]*>(.*?)</p>', re.DOTALL)


@pytest.fixture
def app_config():
    # Above what one test asks for, except the test of this limit itself.
    return {"RESET_LINK_LIMIT_PER_IP": "10 per hour"}


def reset_path(message):
    return link_path(message, "/accounts/reset/")


def ask(client, address, **kwargs):
    return client.post("/accounts/reset", data={"email": address}, **kwargs)


def logs_in(client, address, password):
    response = client.post("/accounts/login", data={"email": address, "password": password})
    client.post("/accounts/logout")
    return response.status_code == 302


def test_a_forgotten_password_is_replaced_through_the_mailed_link(client, make_user, outbox):
    user = make_user()
    assert "Forgot your password?" in client.get("/accounts/login").get_data(as_text=True)
    asked = ask(client, f" {user.email.upper()} ")
    assert (asked.status_code, asked.headers["Location"]) == (302, "/accounts/login")
    assert SENT in client.get("/accounts/login").get_data(as_text=True)
    [message] = mails(outbox)
    assert message["To"] == user.email
    assert subject(message) == "Choose a new password"
    path = reset_path(message)
    assert "Choose a new password" in client.get(path).get_data(as_text=True)

    differ = client.post(path, data={"password": NEW_PASSWORD, "confirm": "something else"})
    short = client.post(path, data={"password": "short", "confirm": "short"})
    assert ERROR.findall(differ.get_data(as_text=True)) == ["The two passwords differ."]
    assert ERROR.findall(short.get_data(as_text=True)) == ["Use between 10 and 200 characters."]
    assert logs_in(client, user.email, PASSWORD)  # nothing changed yet

    saved = client.post(path, data={"password": NEW_PASSWORD, "confirm": NEW_PASSWORD})
    assert (saved.status_code, saved.headers["Location"]) == (302, "/appeals/")
    assert "Your new password is saved." in client.get("/appeals/").get_data(as_text=True)
    client.post("/accounts/logout")
    assert not logs_in(client, user.email, PASSWORD)
    assert logs_in(client, user.email, NEW_PASSWORD)
    # The link worked once: the password it was made for is gone.
    again = client.get(path)
    assert again.status_code == 404
    assert "This link no longer works" in again.get_data(as_text=True)


def test_an_unknown_address_gets_the_same_answer_and_no_mail(client, make_user, outbox):
    make_user(email="known@example.org")
    known = ask(client, "known@example.org")
    unknown = ask(client, "unknown@example.org")
    assert (known.status_code, known.headers["Location"]) == (
        unknown.status_code,
        unknown.headers["Location"],
    )
    assert SENT in client.get("/accounts/login").get_data(as_text=True)
    assert [m["To"] for m in mails(outbox)] == ["known@example.org"]


@pytest.mark.parametrize(
    ("typed", "message"),
    [("", "Enter your email address."), ("not-an-address", "Enter a valid email address.")],
)
def test_a_bad_address_is_refused_and_kept(client, make_user, outbox, typed, message):
    response = ask(client, typed)
    page = response.get_data(as_text=True)
    assert response.status_code == 200
    assert ERROR.findall(page) == [message]
    assert f'value="{typed}"' in page or not typed
    assert mails(outbox) == []


def test_the_mail_and_the_pages_speak_the_users_language(client, make_user, outbox):
    user = make_user(language="ru")
    ask(client, user.email, headers={"Accept-Language": "ru"})
    [message] = mails(outbox)
    assert subject(message) == "Выберите новый пароль"
    assert "ссылку" in body(message)
    page = client.get(reset_path(message), headers={"Accept-Language": "ru"})
    assert "Выберите новый пароль" in page.get_data(as_text=True)
    refused = client.get("/accounts/reset/forged", headers={"Accept-Language": "ru"})
    assert "Эта ссылка больше не работает" in refused.get_data(as_text=True)


def test_a_forged_or_expired_link_is_refused(client, make_user, outbox, app):
    user = make_user()
    ask(client, user.email)
    path = reset_path(mails(outbox)[0])
    forged = path[:-3] + ("abc" if not path.endswith("abc") else "xyz")
    for refused in (forged, "/accounts/reset/not-a-token"):
        response = client.post(refused, data={"password": NEW_PASSWORD, "confirm": NEW_PASSWORD})
        assert response.status_code == 404
    app.config["RESET_LINK_LIFETIME"] = timedelta(seconds=-1)
    expired = client.post(path, data={"password": NEW_PASSWORD, "confirm": NEW_PASSWORD})
    assert expired.status_code == 404
    assert "This link no longer works" in expired.get_data(as_text=True)
    assert logs_in(client, user.email, PASSWORD)


def test_a_new_password_logs_out_every_other_browser(app, client, make_user, outbox, login):
    user = make_user()
    laptop = app.test_client()
    laptop.environ_base["HTTP_ACCEPT_LANGUAGE"] = "en"
    login(user)  # `client` is logged in
    assert (
        laptop.post("/accounts/login", data={"email": user.email, "password": PASSWORD}).status_code
        == 302
    )
    ask(laptop, user.email)
    path = reset_path(mails(outbox)[0])
    laptop.post(path, data={"password": NEW_PASSWORD, "confirm": NEW_PASSWORD})
    assert laptop.get("/appeals/").status_code == 200  # the browser that chose it stays in
    assert client.get("/appeals/").status_code == 302  # the other one is logged out
    db.session.expire_all()
    assert db.session.get(User, user.id) is not None


def test_reset_requests_are_throttled_per_address(client, make_user, outbox):
    user = make_user()
    for _request in range(3):
        assert ask(client, user.email).status_code == 302
    assert ask(client, user.email).status_code == 429
    # The same for an address without an account: the limit tells nothing either.
    for _request in range(3):
        assert ask(client, "nobody@example.org").status_code == 302
    assert ask(client, "nobody@example.org").status_code == 429
    assert len(mails(outbox)) == 3


def test_reset_requests_are_throttled_per_address_of_the_browser(client, outbox):
    for n in range(10):
        assert ask(client, f"someone{n}@example.org").status_code == 302
    refused = ask(client, "someone-else@example.org", headers={"Accept-Language": "ru"})
    assert refused.status_code == 429
    assert '<html lang="ru">' in refused.get_data(as_text=True)


def test_a_link_whose_account_is_deleted_meanwhile_is_refused(app, make_user):
    user = make_user(email="never@example.org", email_confirmed_at=None)
    user.created_at -= timedelta(days=30)
    db.session.commit()
    token = link_token(user, RESET)

    def purge():
        assert purge_unconfirmed(timedelta(days=7)) == 1

    def follow():
        # Read before the purge commits, held after: the account is gone by then.
        user_for_link(token, RESET, hold=True)

    assert while_the_first_holds(app, purge, follow, LinkInvalid) == ("done", "refused")
