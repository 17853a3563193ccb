"""A flood of wrong passwords against one account: counted per account and connection, so
that a flood from one place never locks its owner out; from many places, the per-account
limit holds (in every process sharing the limiter's storage) and its owner is mailed a link
to log in all the same."""

import json
import os
import socket
import subprocess
import sys
import urllib.error
import urllib.parse
import urllib.request
import uuid

import pytest

from tests.accounts.test_sessions import browser, logged_in
from tests.conftest import PASSWORD
from tests.mailbox import body, link_path, mails, subject

LIMITED = {
    "LOGIN_LIMIT_PER_ACCOUNT_AND_IP": "3 per 15 minutes",
    "LOGIN_LIMIT_PER_ACCOUNT": "6 per hour",
    "LOGIN_LIMIT_PER_IP": "100 per minute",
}
PAUSED = "logging in to it is paused for a while"


@pytest.fixture
def app_config():
    return dict(LIMITED)


def attempt(app, user, address, password="not the password", email=None):
    there = browser(app, address=address)
    response = there.post(
        "/accounts/login", data={"email": email or user.email, "password": password}
    )
    return there, response


def test_a_flood_from_one_place_does_not_lock_the_owner_out(app, make_user):
    user = make_user()
    for _n in range(3):
        assert attempt(app, user, "198.51.100.66")[1].status_code == 200
    assert attempt(app, user, "198.51.100.66", PASSWORD)[1].status_code == 429
    owner, response = attempt(app, user, "203.0.113.5", PASSWORD)
    assert response.status_code == 302
    assert logged_in(owner)


def test_one_ipv6_network_counts_as_one_place(app, make_user):
    user = make_user()
    for n in range(3):
        assert attempt(app, user, f"2001:db8:1:2::{n + 1}")[1].status_code == 200
    assert attempt(app, user, "2001:db8:1:2::ff", PASSWORD)[1].status_code == 429


def test_a_flood_from_many_places_mails_the_owner_a_way_in(app, make_user, outbox, security_log):
    user = make_user()
    for n in range(6):
        assert attempt(app, user, f"198.51.100.{n}")[1].status_code == 200
    owner, refused = attempt(app, user, "203.0.113.5", PASSWORD)
    assert refused.status_code == 429
    assert PAUSED in refused.get_data(as_text=True)
    assert not logged_in(owner)
    [mail] = mails(outbox)
    assert mail["To"] == user.email
    assert subject(mail) == "Many wrong passwords were tried on your Campaign account"
    assert "within 24 hours" in body(mail)
    # Further refusals mail nothing more for a while.
    assert attempt(app, user, "198.51.100.99")[1].status_code == 429
    assert len(mails(outbox)) == 1
    link = link_path(mail, "/accounts/unlock/")
    assert "/accounts/unlock/" in link
    page = owner.get(link)
    assert page.status_code == 200
    assert page.headers["Cache-Control"] == "no-store"
    wrong = owner.post(link, data={"password": "still not it"})
    assert "This is not the password of this account." in wrong.get_data(as_text=True)
    response = owner.post(link, data={"password": PASSWORD})
    assert response.status_code == 302
    assert logged_in(owner)
    assert any("via=unlock" in line for line in security_log)
    # The token stays out of the security log, which names the route only.
    assert link.rsplit("/", 1)[1] not in "\n".join(security_log)


def test_the_link_page_still_counts_per_place(app, make_user, outbox):
    user = make_user()
    for n in range(6):
        attempt(app, user, f"198.51.100.{n}")
    attempt(app, user, "203.0.113.5", PASSWORD)
    link = link_path(mails(outbox)[0], "/accounts/unlock/")
    guesser = browser(app, address="192.0.2.1")
    for _n in range(3):
        assert guesser.post(link, data={"password": "guess"}).status_code == 200
    assert guesser.post(link, data={"password": PASSWORD}).status_code == 429
    assert not logged_in(guesser)


def test_the_link_dies_with_a_new_password(app, make_user, outbox):
    from campaign.accounts.mailed_links import set_password
    from campaign.extensions import db

    user = make_user()
    for n in range(7):
        attempt(app, user, f"198.51.100.{n}")
    link = link_path(mails(outbox)[0], "/accounts/unlock/")
    set_password(user, "a brand new passphrase")
    db.session.commit()
    response = browser(app).get(link)
    assert response.status_code == 404
    assert "This link no longer works" in response.get_data(as_text=True)


def test_an_unknown_address_gets_the_same_answer_and_no_mail(app, make_user, outbox):
    make_user()
    for n in range(6):
        attempt(app, None, f"198.51.100.{n}", email="nobody@example.org")
    _there, refused = attempt(app, None, "203.0.113.5", email="nobody@example.org")
    assert refused.status_code == 429
    assert PAUSED in refused.get_data(as_text=True)
    assert mails(outbox) == []


def test_the_refusal_and_the_mail_speak_russian(app, make_user, outbox):
    user = make_user(language="ru")
    for n in range(6):
        attempt(app, user, f"198.51.100.{n}")
    there = browser(app, address="203.0.113.5")
    refused = there.post(
        "/accounts/login",
        data={"email": user.email, "password": PASSWORD},
        headers={"Accept-Language": "ru"},
    )
    assert refused.status_code == 429
    assert "вход в неё приостановлен" in refused.get_data(as_text=True)
    [mail] = mails(outbox)
    assert "в течение 24 часов" in body(mail)


def _redis_answers() -> bool:
    try:
        socket.create_connection(("127.0.0.1", 6379), timeout=0.5).close()
    except OSError:
        return False
    return True


SERVE = """
import json, sys
from werkzeug.serving import make_server
from campaign import create_app
app = create_app(json.loads(sys.argv[1]))
server = make_server("127.0.0.1", 0, app, threaded=True)
print(server.server_port, flush=True)
server.serve_forever()
"""


@pytest.mark.skipif(not _redis_answers(), reason="no Redis server answers on 127.0.0.1:6379")
def test_the_per_account_limit_holds_across_processes(app, make_user, outbox, database_url):
    """Two server processes sharing a Redis storage count one account's failures together."""
    user = make_user()
    config = {
        "TESTING": True,
        "SECRET_KEY": app.config["SECRET_KEY"],
        "SQLALCHEMY_DATABASE_URI": database_url,
        "WTF_CSRF_ENABLED": False,
        "RATELIMIT_STORAGE_URI": "redis://127.0.0.1:6379/0",
        "RATELIMIT_KEY_PREFIX": f"campaign-test-{uuid.uuid4().hex}",
        "PROXY_COUNT": 1,  # each request says where it comes from
        "TASK_QUEUE_IMMEDIATE": True,
        "MAIL_OUTBOX": str(outbox),
        "PUBLIC_URL": "http://campaign.test",
        **LIMITED,
    }
    environment = {**os.environ, "PYTHONWARNINGS": "ignore"}
    servers = [
        subprocess.Popen(
            [sys.executable, "-c", SERVE, json.dumps(config)],
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            text=True,
            env=environment,
        )
        for _n in range(2)
    ]
    try:
        ports = [int(server.stdout.readline()) for server in servers]

        def post(port, address, password):
            data = urllib.parse.urlencode({"email": user.email, "password": password}).encode()
            request = urllib.request.Request(
                f"http://127.0.0.1:{port}/accounts/login",
                data=data,
                headers={"X-Forwarded-For": address},
            )
            opener = urllib.request.build_opener(NoRedirect)
            try:
                return opener.open(request, timeout=30).status
            except urllib.error.HTTPError as error:
                return error.code

        # Three failures in each process, each from its own address: six in all.
        for n in range(6):
            assert post(ports[n % 2], f"198.51.100.{n}", "wrong") == 200
        # Each process alone has seen three, under the limit of six; together they hold it.
        assert post(ports[0], "203.0.113.5", PASSWORD) == 429
        assert post(ports[1], "203.0.113.6", PASSWORD) == 429
        assert len(mails(outbox)) == 1
    finally:
        for server in servers:
            server.terminate()
            server.wait(10)
            server.stdout.close()


class NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *_args, **_kwargs):
        return None
