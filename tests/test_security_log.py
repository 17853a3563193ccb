"""The security log: each event an operator watches for, one line in UTC, no personal data."""

import calendar
import logging
import re
import time

import pytest
from sqlalchemy.exc import OperationalError

from campaign.security_log import FORMAT, UTCFormatter, log_security_event, network_of
from tests.conftest import PASSWORD
from tests.signatures.conftest import data_url

ADDRESS = "203.0.113.77"
FROM_ADDRESS = {"REMOTE_ADDR": ADDRESS}
EMAIL = "zarema.private@example.org"
NAME = "Zarema Private-Name"


def events(lines, name):
    return [line for line in lines if f" event={name} " in f"{line} "]


def assert_nothing_personal(lines):
    text = "\n".join(lines)
    for value in (EMAIL, "zarema.private", NAME, ADDRESS, PASSWORD):
        assert value not in text, value


def test_lines_are_stamped_in_utc():
    record = logging.LogRecord("campaign.security", logging.WARNING, __file__, 1, "x", (), None)
    record.created = calendar.timegm((2026, 12, 7, 10, 15, 30)) + 0.25
    record.msecs = 250
    line = UTCFormatter(FORMAT).format(record)
    assert line.startswith("2026-12-07T10:15:30.250Z WARNING campaign.security x")


def test_the_app_writes_the_log_in_utc(app, security_log):
    from campaign.security_log import logger

    [handler] = [h for h in logger.handlers if isinstance(h.formatter, UTCFormatter)][:1]
    assert not logger.propagate  # once, not again through the app logger's handler
    log_security_event("test.event", answer=42)
    stamp = security_log[-1].split(" ", 1)[0]
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z", stamp)
    utc_now = time.strftime("%Y-%m-%dT%H:%M", time.gmtime())
    assert stamp[:16] == utc_now or abs(int(stamp[14:16]) - int(utc_now[14:16])) <= 1
    assert handler.formatter.format(
        logging.LogRecord("campaign.security", 30, __file__, 1, "y", (), None)
    ).endswith("Z WARNING campaign.security y")


@pytest.mark.parametrize(
    ("address", "shown"),
    [
        ("203.0.113.77", "203.0.113.x"),
        ("2001:db8:85a3:8d3:1319:8a2e:370:7348", "2001:db8:85a3:x"),
        ("::ffff:198.51.100.9", "198.51.100.x"),
        ("", ""),
        ("not an address", ""),
    ],
)
def test_an_address_is_never_logged_whole(address, shown):
    assert network_of(address) == shown


def test_free_text_is_refused_as_a_field(app):
    with pytest.raises(ValueError, match="must be a number, a flag or a code"):
        log_security_event("login.failure", email=EMAIL)


def test_a_failed_and_a_successful_login(client, make_user, security_log):
    user = make_user(email=EMAIL, name=NAME)
    wrong = client.post(
        "/accounts/login",
        data={"email": EMAIL, "password": "not the password"},
        environ_overrides=FROM_ADDRESS,
    )
    assert wrong.status_code == 200
    right = client.post(
        "/accounts/login",
        data={"email": EMAIL, "password": PASSWORD},
        environ_overrides=FROM_ADDRESS,
    )
    assert right.status_code == 302
    [failure] = events(security_log, "login.failure")
    assert "reason=wrong_password" in failure
    assert "route=/accounts/login" in failure
    assert "net=203.0.113.x" in failure
    [success] = events(security_log, "login.success")
    assert f"user={user.id}" in success
    assert " INFO " in success
    assert_nothing_personal(security_log)


def test_a_throttled_request(client, make_user, security_log):
    make_user(email=EMAIL)
    for _attempt in range(6):
        response = client.post(
            "/accounts/login",
            data={"email": EMAIL, "password": "wrong"},
            environ_overrides=FROM_ADDRESS,
        )
    assert response.status_code == 429
    [throttled] = events(security_log, "rate_limited")
    assert "route=/accounts/login" in throttled
    assert_nothing_personal(security_log)


def test_a_refused_signature_image(client, make_published_appeal, security_log):
    appeal = make_published_appeal()
    broken = data_url(b"\x89PNG\r\n\x1a\n" + b"\x00" * 64)
    response = client.post(
        f"/a/{appeal.slug}",
        data={"signature": broken, "email": EMAIL, "surname": NAME},
        environ_overrides=FROM_ADDRESS,
    )
    assert response.status_code == 200
    [refused] = events(security_log, "upload.refused")
    assert "kind=signature" in refused
    assert "route=/a/<slug>" in refused
    assert appeal.slug not in refused
    assert_nothing_personal(security_log)


def test_an_upload_too_large(app, client, make_published_appeal, security_log):
    appeal = make_published_appeal()
    too_large = "x" * (app.config["MAX_CONTENT_LENGTH"] + 1)
    response = client.post(f"/a/{appeal.slug}", data={"signature": too_large, "email": EMAIL})
    assert response.status_code == 413
    [refused] = events(security_log, "upload.refused")
    assert "reason=too_large" in refused
    assert_nothing_personal(security_log)


def test_a_busy_database(client, monkeypatch, security_log):
    def locked(*_args, **_kwargs):
        raise OperationalError("UPDATE user ...", {"email": EMAIL}, Exception("database is locked"))

    monkeypatch.setattr("campaign.accounts.views.authenticate", locked)
    response = client.post(
        "/accounts/login",
        data={"email": EMAIL, "password": PASSWORD},
        environ_overrides=FROM_ADDRESS,
    )
    assert response.status_code == 503
    [busy] = events(security_log, "database.busy")
    assert "route=/accounts/login" in busy
    assert_nothing_personal(security_log)


class TestWithCsrf:
    @pytest.fixture
    def app_config(self):
        return {"WTF_CSRF_ENABLED": True, "SIGN_MIN_SECONDS": 0}

    def test_a_form_without_its_token(self, client, security_log):
        response = client.post(
            "/accounts/login",
            data={"email": EMAIL, "password": PASSWORD},
            environ_overrides=FROM_ADDRESS,
        )
        assert response.status_code == 400
        [failure] = events(security_log, "csrf.failure")
        assert "reason=missing" in failure
        assert "route=/accounts/login" in failure
        assert_nothing_personal(security_log)

    def test_a_token_in_the_path_is_never_logged(self, client, security_log):
        secret = "Zx9-secretTOKENvalue_42"
        response = client.post(f"/accounts/reset/{secret}", data={"password": "x"})
        assert response.status_code == 400
        [failure] = events(security_log, "csrf.failure")
        assert "route=/accounts/reset/<token>" in failure
        assert secret not in "\n".join(security_log)

    def test_the_sign_form_without_its_token(self, client, make_published_appeal, security_log):
        appeal = make_published_appeal()
        response = client.post(f"/a/{appeal.slug}", data={"email": EMAIL, "surname": NAME})
        assert response.status_code == 400
        [failure] = events(security_log, "csrf.failure")
        assert "reason=sign_form" in failure
        assert_nothing_personal(security_log)
