"""Logging in and out: messages, redirects, the session, and the throttles."""

import re

import pytest

from tests.conftest import PASSWORD

ERROR = re.compile(r'<p class="error"[^>]*>(.*?)</p>', re.DOTALL)
TOO_MANY = "There were too many attempts. Please wait a while and try again."


def post_login(client, email, password=PASSWORD, *, path="/accounts/login", **kwargs):
    return client.post(path, data={"email": email, "password": password}, **kwargs)


def is_logged_in(client):
    return client.get("/appeals/").status_code == 200


def test_login_logs_in_and_goes_to_the_dashboard(client, make_user):
    user = make_user()
    response = post_login(client, user.email)
    assert response.status_code == 302
    assert response.headers["Location"] == "/appeals/"
    assert is_logged_in(client)


def test_login_accepts_the_email_typed_differently(client, make_user):
    make_user(email="zarema@example.org")
    assert post_login(client, "  Zarema@EXAMPLE.org ").status_code == 302
    assert is_logged_in(client)


def test_wrong_password_and_unknown_email_look_the_same(client, make_user):
    user = make_user()
    wrong_password = post_login(client, user.email, "not the password")
    unknown_email = post_login(client, "nobody@example.org")
    assert wrong_password.status_code == unknown_email.status_code == 200
    wrong_errors = ERROR.findall(wrong_password.get_data(as_text=True))
    unknown_errors = ERROR.findall(unknown_email.get_data(as_text=True))
    assert wrong_errors == unknown_errors == ["The email or the password is wrong."]
    # The typed email is kept in both cases.
    assert f'value="{user.email}"' in wrong_password.get_data(as_text=True)
    assert 'value="nobody@example.org"' in unknown_email.get_data(as_text=True)
    assert not is_logged_in(client)


@pytest.mark.parametrize("target", ["/appeals/new", "/appeals/?page=2"])
def test_next_is_followed_for_a_local_path(client, make_user, target):
    user = make_user()
    response = post_login(client, user.email, query_string={"next": target})
    assert response.status_code == 302
    assert response.headers["Location"] == target


@pytest.mark.parametrize(
    "target", ["https://evil.example/", "//evil.example", "/\\evil.example", "evil.example"]
)
def test_next_is_ignored_for_another_site(client, make_user, target):
    user = make_user()
    response = post_login(client, user.email, query_string={"next": target})
    assert response.status_code == 302
    location = response.headers["Location"]
    assert "evil" not in location
    assert location in {"/", "/appeals/"}
    assert is_logged_in(client)


def test_logout_needs_a_post(client, make_user, login):
    login(make_user())
    assert client.get("/accounts/logout").status_code == 405
    assert is_logged_in(client)


def test_logout_ends_the_session(client, make_user, login):
    login(make_user())
    response = client.post("/accounts/logout")
    assert response.status_code == 302
    assert not is_logged_in(client)
    with client.session_transaction() as session:
        assert "_user_id" not in session


def test_session_is_rotated_at_login(client, make_user):
    user = make_user()
    with client.session_transaction() as session:
        session["planted"] = "from before login"
    assert client.get("/accounts/login").status_code == 200
    with client.session_transaction() as session:
        assert session["planted"] == "from before login"
    assert post_login(client, user.email).status_code == 302
    with client.session_transaction() as session:
        assert "planted" not in session
        assert session["_user_id"] == str(user.id)


@pytest.mark.parametrize("language", ["en", "ru"])
def test_login_is_throttled_per_account(client, make_user, language):
    user = make_user()
    other = make_user()
    headers = {"Accept-Language": language}
    for _attempt in range(5):
        response = post_login(client, user.email, "not the password", headers=headers)
        assert response.status_code == 200
    # The sixth attempt is refused, even with the right password, and in whatever case.
    refused = post_login(client, user.email, headers=headers)
    assert post_login(client, f" {user.email.upper()}", headers=headers).status_code == 429
    assert refused.status_code == 429
    page = refused.get_data(as_text=True)
    assert f'<html lang="{language}">' in page
    if language == "en":
        assert TOO_MANY in page
    assert not is_logged_in(client)
    # Another account from the same browser is not affected.
    assert post_login(client, other.email, headers=headers).status_code == 302
    assert is_logged_in(client)


def test_successful_logins_do_not_count_against_the_account(client, make_user):
    user = make_user()
    for _login in range(6):
        assert post_login(client, user.email).status_code == 302
        assert client.post("/accounts/logout").status_code == 302
    for _attempt in range(4):
        assert post_login(client, user.email, "not the password").status_code == 200
    assert post_login(client, user.email).status_code == 302
    client.post("/accounts/logout")
    # Four failures so far: one more is allowed, the one after is not.
    assert post_login(client, user.email, "not the password").status_code == 200
    assert post_login(client, user.email).status_code == 429


class TestPerIpLimit:
    @pytest.fixture
    def app_config(self):
        return {"LOGIN_LIMIT_PER_IP": "3 per minute"}

    def test_login_is_throttled_per_ip(self, client, make_user):
        user = make_user()
        for n in range(3):
            assert post_login(client, f"stranger{n}@example.org").status_code == 200
        # A fourth address from the same IP is refused, even a real one with its password.
        refused = post_login(client, user.email)
        assert refused.status_code == 429
        assert TOO_MANY in refused.get_data(as_text=True)
        assert not is_logged_in(client)
        # Another IP is not affected.
        other_ip = post_login(client, user.email, environ_overrides={"REMOTE_ADDR": "192.0.2.7"})
        assert other_ip.status_code == 302

    def test_the_login_page_itself_is_not_throttled(self, client):
        for _visit in range(5):
            assert client.get("/accounts/login").status_code == 200


def test_the_account_throttle_counts_every_spelling_of_the_address(client, make_user):
    # An internationalised domain may be typed in Unicode or in its ASCII (Punycode) form;
    # both log into the same account, so both must count against the same limit.
    make_user(email="zarema@пример.рф")
    spellings = ["zarema@пример.рф", "zarema@xn--e1afmkfd.xn--p1ai"]
    assert post_login(client, spellings[1]).status_code == 302  # the same account
    client.post("/accounts/logout")
    for attempt in range(5):
        response = post_login(client, spellings[attempt % 2], "not the password")
        assert response.status_code == 200
    for spelling in spellings:
        assert post_login(client, spelling).status_code == 429, spelling
    assert not is_logged_in(client)
