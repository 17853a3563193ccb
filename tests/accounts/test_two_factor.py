"""Two-step login: set up with an app (QR code), recovery codes shown once, stored hashed and
single-use, a code asked after the password on every way in, and turned off with the password."""

import re
import time

import pyotp
import pytest
from sqlalchemy import func, select

from campaign.accounts.models import LoginSession, RecoveryCode, User
from campaign.accounts.two_factor import (
    CodeRefused,
    check_second_step,
    enable_two_factor,
    new_recovery_codes,
    start_setup,
)
from campaign.extensions import db
from tests.accounts.test_sessions import PHONE, browser, logged_in
from tests.conftest import PASSWORD

CODE_LIST = re.compile(r'<ol class="codes">(.*?)</ol>', re.DOTALL)
NEW_PASSWORD = "a brand new passphrase"


def code_now(user, offset=0):
    db.session.refresh(user)
    totp = pyotp.TOTP(user.totp_secret)
    return totp.at(time.time() + offset * totp.interval)


def set_up(client, user):
    """Turn two-step login on through the pages; return the recovery codes shown."""
    client.post("/accounts/two-step/start")
    response = client.post(
        "/accounts/two-step/enable", data={"code": code_now(user), "current": PASSWORD}
    )
    assert response.status_code == 200, response.get_data(as_text=True)
    return re.findall(r"<li>([a-z0-9]{5}-[a-z0-9]{5})</li>", response.get_data(as_text=True))


@pytest.fixture
def enabled_user(make_user):
    """A user with two-step login on (set up directly), and her recovery codes."""
    user = make_user()
    start_setup(user)
    codes = enable_two_factor(user, code_now(user, -1))
    db.session.commit()
    return user, codes


def password_step(client, user, password=PASSWORD, **kwargs):
    return client.post(
        "/accounts/login", data={"email": user.email, "password": password}, **kwargs
    )


def test_setting_it_up_shows_a_qr_code_then_the_recovery_codes_once(client, make_user, login):
    user = make_user()
    login(user)
    page = client.get("/accounts/two-step").get_data(as_text=True)
    assert "Set up two-step login" in page
    assert client.post("/accounts/two-step/start").status_code == 302
    page = client.get("/accounts/two-step").get_data(as_text=True)
    assert 'src="data:image/svg+xml' in page  # drawn here: nothing from another site
    db.session.refresh(user)
    grouped = " ".join(user.totp_secret[i : i + 4] for i in range(0, len(user.totp_secret), 4))
    assert grouped in page
    assert not user.two_factor_enabled
    codes = set_up(client, user)
    assert len(codes) == 10 and len(set(codes)) == 10
    db.session.refresh(user)
    assert user.two_factor_enabled
    stored = db.session.scalars(select(RecoveryCode.code_hash)).all()
    assert len(stored) == 10
    for code in codes:  # stored hashed, never as shown
        assert all(code.replace("-", "") not in value for value in stored)
    # Shown once: neither the two-step page nor the account page shows them again.
    for path in ("/accounts/two-step", "/accounts/settings"):
        page = client.get(path).get_data(as_text=True)
        assert not any(code in page for code in codes)
        assert "10 recovery codes" in page


def test_a_wrong_code_or_password_turns_nothing_on(client, make_user, login):
    user = make_user()
    login(user)
    client.post("/accounts/two-step/start")
    wrong_code = client.post(
        "/accounts/two-step/enable", data={"code": "000000", "current": PASSWORD}
    )
    page = wrong_code.get_data(as_text=True)
    assert "This is not the code the app shows now." in page
    assert 'src="data:image/svg+xml' in page  # the same QR code, to try again
    wrong_password = client.post(
        "/accounts/two-step/enable", data={"code": code_now(user), "current": "not it"}
    )
    assert "This is not your current password." in wrong_password.get_data(as_text=True)
    db.session.refresh(user)
    assert not user.two_factor_enabled
    assert db.session.scalar(select(func.count()).select_from(RecoveryCode)) == 0


def test_turning_it_on_logs_out_every_other_browser(app, client, make_user, login):
    user = make_user()
    phone = browser(app, PHONE)
    phone.post("/accounts/login", data={"email": user.email, "password": PASSWORD})
    assert logged_in(phone)
    login(user)
    set_up(client, user)
    assert logged_in(client)
    assert not logged_in(phone)


def test_login_asks_for_the_code_after_the_password(client, enabled_user, security_log):
    user, _codes = enabled_user
    response = password_step(client, user, query_string={"next": "/appeals/new"})
    assert response.status_code == 302
    assert response.headers["Location"] == "/accounts/login/code"
    assert not logged_in(client)  # the password alone opens nothing
    page = client.get("/accounts/login/code").get_data(as_text=True)
    assert 'autocomplete="one-time-code"' in page
    wrong = client.post("/accounts/login/code", data={"code": "123456"})
    assert "This code is not right" in wrong.get_data(as_text=True)
    assert not logged_in(client)
    [failure] = [line for line in security_log if "event=two_factor.failure" in line]
    assert f"user={user.id}" in failure and user.email not in failure
    right = client.post("/accounts/login/code", data={"code": code_now(user)})
    assert right.status_code == 302
    assert right.headers["Location"] == "/appeals/new"
    assert logged_in(client)
    assert any("event=login.success" in line and "via=app" in line for line in security_log)


def test_a_code_works_once(app, client, enabled_user):
    user, _codes = enabled_user
    code = code_now(user)
    password_step(client, user)
    assert client.post("/accounts/login/code", data={"code": code}).status_code == 302
    # Someone who saw it over her shoulder, at once, in another browser.
    other = browser(app)
    password_step(other, user)
    again = other.post("/accounts/login/code", data={"code": code})
    assert again.status_code == 200
    assert not logged_in(other)


def test_a_recovery_code_works_once(client, enabled_user, app):
    user, codes = enabled_user
    password_step(client, user)
    response = client.post(
        "/accounts/login/code", data={"code": f"  {codes[0].upper()} "}, follow_redirects=True
    )
    assert "You used a recovery code: 9 are left." in response.get_data(as_text=True)
    assert logged_in(client)
    other = browser(app)
    password_step(other, user)
    assert other.post("/accounts/login/code", data={"code": codes[0]}).status_code == 200
    assert not logged_in(other)


def test_the_code_step_expires_and_needs_the_password_first(client, enabled_user):
    user, _codes = enabled_user
    response = client.post("/accounts/login/code", data={"code": code_now(user)})
    assert response.status_code == 302
    assert response.headers["Location"] == "/accounts/login"
    password_step(client, user)
    with client.session_transaction() as session:
        session["second_step"] = {**session["second_step"], "since": int(time.time()) - 11 * 60}
    response = client.post("/accounts/login/code", data={"code": code_now(user)})
    assert response.headers["Location"] == "/accounts/login"
    assert not logged_in(client)


def test_wrong_codes_are_limited_per_account(app, client, enabled_user):
    user, _codes = enabled_user
    for attempt in range(5):
        there = browser(app, address=f"198.51.100.{attempt}")
        password_step(there, user)
        assert there.post("/accounts/login/code", data={"code": "000000"}).status_code == 200
    password_step(client, user)
    refused = client.post("/accounts/login/code", data={"code": code_now(user)})
    assert refused.status_code == 429
    assert not logged_in(client)


def test_a_new_password_from_a_mailed_link_still_asks_for_the_code(client, enabled_user, outbox):
    user, _codes = enabled_user
    client.post("/accounts/reset", data={"email": user.email})
    [mail] = outbox.glob("*.eml")
    link = re.search(rb"/accounts/reset/[^\s]+", mail.read_bytes()).group(0).decode()
    response = client.post(link, data={"password": NEW_PASSWORD, "confirm": NEW_PASSWORD})
    assert response.headers["Location"] == "/accounts/login/code"
    assert not logged_in(client)
    client.post("/accounts/login/code", data={"code": code_now(user)})
    assert logged_in(client)


def test_new_recovery_codes_replace_the_old_ones(client, enabled_user, login):
    user, codes = enabled_user
    login(user)  # the fixture's login posts the password: then the code
    client.post("/accounts/login/code", data={"code": code_now(user)})
    refused = client.post("/accounts/two-step/recovery-codes", data={"codes-current": "wrong"})
    assert "This is not your current password." in refused.get_data(as_text=True)
    response = client.post("/accounts/two-step/recovery-codes", data={"codes-current": PASSWORD})
    fresh = re.findall(r"<li>([a-z0-9]{5}-[a-z0-9]{5})</li>", response.get_data(as_text=True))
    assert len(fresh) == 10 and not set(fresh) & set(codes)
    with pytest.raises(CodeRefused):
        check_second_step(user, codes[1])
    assert check_second_step(user, fresh[1]) == "recovery"


def test_turning_it_off_needs_the_password(client, enabled_user, login):
    user, _codes = enabled_user
    login(user)
    client.post("/accounts/login/code", data={"code": code_now(user)})
    refused = client.post("/accounts/two-step/disable", data={"off-current": "wrong"})
    assert "This is not your current password." in refused.get_data(as_text=True)
    db.session.refresh(user)
    assert user.two_factor_enabled
    response = client.post(
        "/accounts/two-step/disable", data={"off-current": PASSWORD}, follow_redirects=True
    )
    assert "Two-step login is off" in response.get_data(as_text=True)
    db.session.refresh(user)
    assert not user.two_factor_enabled and user.totp_secret is None
    assert db.session.scalar(select(func.count()).select_from(RecoveryCode)) == 0


def test_check_second_step_refuses_without_two_step_login(make_user):
    user = make_user()
    with pytest.raises(CodeRefused):
        check_second_step(user, "123456")


def test_setup_does_not_start_again_while_it_is_on(enabled_user):
    user, _codes = enabled_user
    with pytest.raises(ValueError, match="two-step login is on"):
        start_setup(user)


def test_recovery_codes_are_random(enabled_user):
    user, codes = enabled_user
    assert set(new_recovery_codes(user)).isdisjoint(codes)


def test_the_pages_speak_russian(client, make_user, login):
    user = make_user(language="ru")
    login(user)
    client.post("/accounts/two-step/start")
    ru = {"Accept-Language": "ru"}
    page = client.get("/accounts/two-step", headers=ru).get_data(as_text=True)
    assert "Двухэтапный вход" in page
    wrong = client.post(
        "/accounts/two-step/enable", data={"code": "000000", "current": PASSWORD}, headers=ru
    )
    assert "Это не тот код" in wrong.get_data(as_text=True)


def test_the_sessions_of_a_user_with_two_steps_are_recorded_once(client, enabled_user):
    user, _codes = enabled_user
    password_step(client, user)
    assert db.session.scalar(select(func.count()).select_from(LoginSession)) == 0
    client.post("/accounts/login/code", data={"code": code_now(user)})
    assert db.session.scalar(select(func.count()).select_from(LoginSession)) == 1
    assert db.session.get(User, user.id).totp_last_step is not None


class TestWithCsrf:
    @pytest.fixture
    def app_config(self):
        return {"WTF_CSRF_ENABLED": True}

    def test_the_forms_need_their_token(self, client, make_user):
        from tests.test_security import csrf_token_of

        user = make_user()
        token = csrf_token_of(client, "/accounts/login")
        client.post(
            "/accounts/login",
            data={"email": user.email, "password": PASSWORD, "csrf_token": token},
        )
        assert client.post("/accounts/two-step/start").status_code == 400
        token = csrf_token_of(client, "/accounts/two-step")
        assert (
            client.post("/accounts/two-step/start", data={"csrf_token": token}).status_code == 302
        )
        refused = client.post(
            "/accounts/two-step/enable", data={"code": code_now(user), "current": PASSWORD}
        )
        assert refused.status_code == 400
        db.session.refresh(user)
        assert not user.two_factor_enabled
        assert client.post("/accounts/sessions/end").status_code == 400
        assert logged_in(client)
