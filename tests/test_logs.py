"""The request logs (the development server's, gunicorn's) keep no secret of a link."""

import logging
import sys

from flask import url_for
from werkzeug.serving import WSGIRequestHandler

from campaign.logs import REDACTED, TokenRedactor

SECRET = "Zx9-secretTOKENvalue_42"


def token_routes(app):
    return [rule for rule in app.url_map.iter_rules() if "token" in rule.arguments]


def sample_values(rule):
    # "1" builds for a string and for a number alike.
    return {**{name: "1" for name in rule.arguments}, "token": SECRET}


def test_every_route_with_a_token_is_covered(app):
    routes = token_routes(app)
    # Withdrawal, signature and account confirmation, reset, invitation.
    assert len(routes) >= 5
    redactor = TokenRedactor(app)
    with app.test_request_context():
        for rule in routes:
            path = url_for(rule.endpoint, **sample_values(rule))
            line = f'127.0.0.1 - - [x] "GET {path}?next=/a HTTP/1.1" 200 -'
            redacted = redactor.redact(line)
            assert SECRET not in redacted, rule.rule
            assert REDACTED in redacted
            assert redacted.startswith('127.0.0.1 - - [x] "GET /')


def test_other_paths_are_left_as_they_are(app):
    redactor = TokenRedactor(app)
    for path in ("/a/withdraw-the-law", "/verify", f"/a/{SECRET}", "/static/css/site.css"):
        assert redactor.redact(f"GET {path} HTTP/1.1") == f"GET {path} HTTP/1.1"


def test_the_request_log_line_is_redacted(app, caplog):
    with app.test_request_context():
        path = url_for("signatures.withdraw", slug="return-them", token=SECRET)

    class Handler(WSGIRequestHandler):
        def __init__(self):  # no socket: only what log_request reads
            self.command, self.path, self.request_version = "GET", path, "HTTP/1.1"
            self.client_address = ("127.0.0.1", 5000)

        def address_string(self):
            return "127.0.0.1"

    with caplog.at_level(logging.INFO, logger="werkzeug"):
        Handler().log_request(200, 512)
    assert SECRET not in caplog.text
    assert f"/a/return-them/withdraw/{REDACTED}" in caplog.text


def test_a_token_is_redacted_before_a_slash_and_under_a_longer_route(app):
    redactor = TokenRedactor(app)
    with app.test_request_context():
        paths = [
            url_for("accounts.reset_password", token=SECRET) + "/",
            url_for("accounts.undo_email_change", token=SECRET),
            url_for("accounts.undo_email_change", token=SECRET) + "/",
        ]
    for path in paths:
        redacted = redactor.redact(f'"GET {path} HTTP/1.1" 404 -')
        assert SECRET not in redacted
        assert redacted.count(REDACTED) == 1, redacted
    # The longer route's fixed segment stays; the token, not "undo", is what goes.
    assert redactor.redact(f"/accounts/email/undo/{SECRET}") == f"/accounts/email/undo/{REDACTED}"


def test_a_path_carried_in_the_login_pages_next_is_redacted_too(app, client, make_user):
    # An invitation opened logged out sends her to the login page with the path, encoded.
    response = client.get(f"/appeals/invitations/{SECRET}")
    location = response.headers["Location"]
    assert SECRET in location and "%2F" in location  # what the request log would show next
    redacted = TokenRedactor(app).redact(f'"GET {location} HTTP/1.1" 200 -')
    assert SECRET not in redacted and REDACTED in redacted
    assert redacted.startswith('"GET /accounts/login?next=')


def test_an_unhandled_error_is_logged_without_its_message(app, caplog):
    typed = {"phone": "+7 928 000-00-01", "email": "madina@example.org"}
    try:
        raise ValueError(f"invalid phone {typed['phone']} of {typed['email']}")
    except ValueError:
        with app.test_request_context("/a/return-them", method="POST"):
            app.log_exception(sys.exc_info())
    assert "Exception on /a/return-them [POST]" in caplog.text
    assert "ValueError (its message is not logged)" in caplog.text
    assert "test_an_unhandled_error_is_logged_without_its_message" in caplog.text  # the frames
    assert "madina@example.org" not in caplog.text and "000-00-01" not in caplog.text


def test_gunicorns_access_log_is_redacted(app, tmp_path):
    from datetime import timedelta
    from types import SimpleNamespace

    from gunicorn.config import Config
    from gunicorn.glogging import Logger

    with app.test_request_context():
        path = url_for("signatures.withdraw", slug="return-them", token=SECRET)
        reset = url_for("accounts.reset_password", token=SECRET)
    config = Config()
    config.set("accesslog", str(tmp_path / "access.log"))
    config.set("access_log_format", '%(h)s "%(r)s" %(s)s %(U)s %(q)s "%(f)s" %({x-original-uri}i)s')
    logger = Logger(config)  # writes to the "gunicorn.access" logger that create_app filtered
    environ = {
        "REQUEST_METHOD": "GET",
        "RAW_URI": f"{path}?next={reset.replace('/', '%2F')}",
        "PATH_INFO": path,
        "QUERY_STRING": f"next={reset.replace('/', '%2F')}",
        "SERVER_PROTOCOL": "HTTP/1.1",
        "REMOTE_ADDR": "127.0.0.1",
        "HTTP_REFERER": f"https://campaign.test{path}",
    }
    response = SimpleNamespace(status="200 OK", sent=512, headers=[])
    request = SimpleNamespace(headers=[("X-Original-URI", path)])
    try:
        logger.access(response, request, environ, timedelta(milliseconds=3))
    finally:
        for handler in list(logger.access_log.handlers):
            handler.close()
            logger.access_log.removeHandler(handler)
    line = (tmp_path / "access.log").read_text()
    assert SECRET not in line
    # The request line (path and next), the path, the query, the referrer, the header.
    assert line.count(REDACTED) == 6, line
    assert '"GET /a/return-them/withdraw/[token]?next=%2Faccounts%2Freset%2F[token] ' in line
    assert line.rstrip().endswith(" /a/return-them/withdraw/[token]")
