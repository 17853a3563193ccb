"""Login sessions kept on the server: logging out ends them for every copy of the cookie, they
end after their idle and absolute lifetimes, and the account page lists and ends them."""

import re
from datetime import timedelta

import pytest
from flask import Flask
from sqlalchemy import func, select, update

from campaign.accounts.models import LoginSession
from campaign.accounts.sessions import device_of
from campaign.clock import utcnow
from campaign.extensions import db
from tests.conftest import PASSWORD, IsolatedClient

FIREFOX = "Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:126.0) Gecko/20100101 Firefox/126.0"
PHONE = (
    "Mozilla/5.0 (Linux; Android 14; SM-A546B) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/124.0.0.0 Mobile Safari/537.36"
)


def browser(app: Flask, agent: str = FIREFOX, address: str = "203.0.113.77"):
    """Another browser, on another computer."""
    app.test_client_class = IsolatedClient
    other = app.test_client()
    other.environ_base.update(
        {"HTTP_ACCEPT_LANGUAGE": "en", "HTTP_USER_AGENT": agent, "REMOTE_ADDR": address}
    )
    return other


def log_in(client, user, password=PASSWORD):
    response = client.post("/accounts/login", data={"email": user.email, "password": password})
    assert response.status_code == 302, response.get_data(as_text=True)
    return client


def logged_in(client):
    return client.get("/appeals/").status_code == 200


def session_cookie(client):
    return client.get_cookie("session", domain="campaign.test").value


def with_cookie(app, value):
    copy = browser(app)
    copy.set_cookie("session", value, domain="campaign.test")
    return copy


def count_sessions():
    return db.session.scalar(select(func.count()).select_from(LoginSession))


def test_logging_out_ends_every_copy_of_the_cookie(app, make_user):
    user = make_user()
    laptop = log_in(browser(app), user)
    copied = session_cookie(laptop)
    assert logged_in(with_cookie(app, copied))
    assert laptop.post("/accounts/logout").status_code == 302
    assert not logged_in(laptop)
    # Someone who copied the cookie before (a shared computer, a stolen backup) gets nothing.
    assert not logged_in(with_cookie(app, copied))
    assert count_sessions() == 0


def test_only_a_hash_of_the_token_is_stored(app, make_user):
    user = make_user()
    laptop = log_in(browser(app), user)
    with laptop.session_transaction() as session:
        token = session["login_session"]
    stored = db.session.scalar(select(LoginSession))
    assert token not in stored.token_hash
    assert len(stored.token_hash) == 64


def test_a_session_ends_after_its_idle_lifetime(app, make_user):
    user = make_user()
    laptop = log_in(browser(app), user)
    idle = app.config["PERMANENT_SESSION_LIFETIME"]
    db.session.execute(
        update(LoginSession).values(last_seen_at=utcnow() - idle + timedelta(minutes=5))
    )
    assert logged_in(laptop)  # still within it: and now used again
    assert db.session.scalar(select(LoginSession.last_seen_at)) > utcnow() - timedelta(minutes=1)
    db.session.execute(
        update(LoginSession).values(last_seen_at=utcnow() - idle - timedelta(minutes=1))
    )
    assert not logged_in(laptop)


def test_a_session_ends_after_its_absolute_lifetime_however_used(app, make_user):
    user = make_user()
    laptop = log_in(browser(app), user)
    absolute = app.config["SESSION_ABSOLUTE_LIFETIME"]
    db.session.execute(
        update(LoginSession).values(created_at=utcnow() - absolute + timedelta(minutes=1))
    )
    assert logged_in(laptop)
    db.session.execute(
        update(LoginSession).values(created_at=utcnow() - absolute - timedelta(seconds=1))
    )
    assert not logged_in(laptop)  # used a second ago, and over all the same
    with laptop.session_transaction() as session:
        assert "_user_id" not in session  # the cookie forgets it too


def test_use_is_written_at_most_once_a_minute(app, make_user):
    user = make_user()
    laptop = log_in(browser(app), user)
    seen = db.session.scalar(select(LoginSession.last_seen_at))
    assert logged_in(laptop)
    db.session.expire_all()
    assert db.session.scalar(select(LoginSession.last_seen_at)) == seen


def test_the_account_page_lists_the_sessions(app, make_user):
    user = make_user()
    laptop = log_in(browser(app, FIREFOX, "203.0.113.77"), user)
    log_in(browser(app, PHONE, "2001:db8:85a3:8d3:1319:8a2e:370:7348"), user)
    page = laptop.get("/accounts/settings").get_data(as_text=True)
    assert "Firefox on Windows" in page
    assert "Chrome Mobile on Android" in page
    assert "this browser" in page
    assert "203.0.113.x" in page and "2001:db8:85a3:x" in page
    # Never the whole address, nor the user agent as sent.
    assert "203.0.113.77" not in page and "8a2e" not in page
    assert "SM-A546B" not in page
    stored = " ".join(
        f"{s.browser} {s.system} {s.network}" for s in db.session.scalars(select(LoginSession))
    )
    assert "203.0.113.77" not in stored and "SM-A546B" not in stored


def test_a_browser_is_logged_out_from_the_account_page(app, make_user):
    user = make_user()
    laptop = log_in(browser(app), user)
    phone = log_in(browser(app, PHONE), user)
    phone_session = db.session.scalar(
        select(LoginSession.id).where(LoginSession.system == "Android")
    )
    response = laptop.post(f"/accounts/sessions/{phone_session}/end", follow_redirects=True)
    assert "That browser is logged out." in response.get_data(as_text=True)
    assert not logged_in(phone)
    assert logged_in(laptop)


def test_another_accounts_session_cannot_be_ended(app, make_user):
    user, other = make_user(), make_user()
    laptop = log_in(browser(app), user)
    theirs = log_in(browser(app), other)
    their_session = db.session.scalar(
        select(LoginSession.id).where(LoginSession.user_id == other.id)
    )
    laptop.post(f"/accounts/sessions/{their_session}/end")
    assert logged_in(theirs)


def test_log_out_everywhere(app, make_user):
    user = make_user()
    laptop = log_in(browser(app), user)
    phone = log_in(browser(app, PHONE), user)
    other = make_user()
    theirs = log_in(browser(app), other)
    response = laptop.post("/accounts/sessions/end", follow_redirects=True)
    assert "You are logged out everywhere." in response.get_data(as_text=True)
    assert not logged_in(laptop)
    assert not logged_in(phone)
    assert logged_in(theirs)


def test_a_new_password_ends_the_other_sessions_and_keeps_this_one(app, make_user):
    user = make_user()
    laptop = log_in(browser(app), user)
    phone = log_in(browser(app, PHONE), user)
    response = laptop.post(
        "/accounts/settings",
        data={
            "password-current": PASSWORD,
            "password-password": "a brand new passphrase",
            "password-confirm": "a brand new passphrase",
            "password-submit": "1",
        },
    )
    assert response.status_code == 302
    assert logged_in(laptop)
    assert not logged_in(phone)
    page = laptop.get("/accounts/settings").get_data(as_text=True)
    assert len(re.findall(r"/accounts/sessions/\d+/end", page)) == 1


def test_login_starts_a_new_session_and_ends_the_browsers_previous_one(app, make_user):
    user = make_user()
    laptop = log_in(browser(app), user)
    first = session_cookie(laptop)
    laptop.post("/accounts/logout")
    log_in(laptop, user)
    assert count_sessions() == 1
    assert not logged_in(with_cookie(app, first))


def test_the_purge_command_deletes_ended_sessions(app, make_user, runner):
    user = make_user()
    log_in(browser(app), user)
    log_in(browser(app), user)
    db.session.execute(
        update(LoginSession)
        .where(LoginSession.id == db.session.scalar(select(func.min(LoginSession.id))))
        .values(created_at=utcnow() - timedelta(days=2))
    )
    db.session.commit()
    result = runner.invoke(args=["accounts", "purge"])
    assert result.exit_code == 0, result.output
    assert "1 ended login session(s)" in result.output
    assert count_sessions() == 1


@pytest.mark.parametrize(
    ("agent", "expected"),
    [
        (FIREFOX, ("Firefox", "Windows")),
        (PHONE, ("Chrome Mobile", "Android")),
        ("", ("", "")),
        ("curl/8.5.0", ("curl", "")),
    ],
)
def test_device_of(agent, expected):
    assert device_of(agent) == expected


def test_the_sessions_page_speaks_russian(app, make_user):
    user = make_user()
    laptop = log_in(browser(app), user)
    page = laptop.get("/accounts/settings", headers={"Accept-Language": "ru"}).get_data(
        as_text=True
    )
    assert "Firefox, Windows" in page
    assert "Выйти везде" in page
