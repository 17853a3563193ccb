"""Security headers, cookie flags, and CSRF protection of the forms."""

import re

import pytest
from sqlalchemy import func, select

from campaign.accounts.models import User
from campaign.appeals.models import Appeal
from campaign.extensions import db
from tests.appeals.test_appeal_form import form_data
from tests.conftest import PASSWORD

HTTPS = "https://campaign.test"
SIGNUP = {
    "name": "Zarema",
    "email": "zarema@example.org",
    "password": "a long passphrase",
    "confirm": "a long passphrase",
}
CSRF_INPUT = re.compile(r'<input[^>]*name="csrf_token"[^>]*value="([^"]+)"')


def set_cookie(response, name):
    """Return the Set-Cookie header for the named cookie, split into lower-cased attributes."""
    headers = [h for h in response.headers.getlist("Set-Cookie") if h.startswith(f"{name}=")]
    assert len(headers) == 1, response.headers.getlist("Set-Cookie")
    parts = [part.strip() for part in headers[0].split(";")]
    return {part.split("=", 1)[0].lower(): part.partition("=")[2] for part in parts[1:]}


def count(model):
    return db.session.scalar(select(func.count()).select_from(model))


@pytest.mark.parametrize(
    "path", ["/", "/accounts/login", "/accounts/signup", "/accounts/reset", "/no-such-page"]
)
def test_security_headers(client, path):
    response = client.get(path)
    policy = response.headers["Content-Security-Policy"]
    directives = [directive.strip() for directive in policy.split(";")]
    assert "default-src 'self'" in directives
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["X-Frame-Options"] == "DENY"
    # No page's address, which may hold a link's secret, goes on in a Referer header.
    assert response.headers["Referrer-Policy"] == "strict-origin"


def test_security_headers_on_an_organiser_page(client, make_user, login):
    login(make_user())
    response = client.get("/appeals/")
    assert response.status_code == 200
    assert "default-src 'self'" in response.headers["Content-Security-Policy"]
    assert response.headers["X-Frame-Options"] == "DENY"


def test_session_cookie_over_http(client, make_user):
    user = make_user()
    response = client.post("/accounts/login", data={"email": user.email, "password": PASSWORD})
    assert response.status_code == 302
    flags = set_cookie(response, "session")
    assert "httponly" in flags
    assert flags["samesite"].lower() == "lax"
    assert "secure" not in flags


def test_session_cookie_over_https_is_secure(client, make_user):
    user = make_user()
    response = client.post(
        "/accounts/login",
        data={"email": user.email, "password": PASSWORD},
        base_url=HTTPS,
    )
    assert response.status_code == 302
    flags = set_cookie(response, "session")
    assert "httponly" in flags
    assert flags["samesite"].lower() == "lax"
    assert "secure" in flags


def test_language_cookie(client):
    response = client.post("/language/", data={"en": "1", "next": "/"})
    assert response.status_code == 302
    assert response.headers["Location"] == "/"
    assert any(h.startswith("lang=en;") for h in response.headers.getlist("Set-Cookie"))
    flags = set_cookie(response, "lang")
    assert "httponly" in flags
    assert flags["samesite"].lower() == "lax"
    assert "secure" not in flags


def test_language_cookie_over_https_is_secure(client):
    response = client.post("/language/", data={"ru": "1", "next": "/"}, base_url=HTTPS)
    flags = set_cookie(response, "lang")
    assert "httponly" in flags
    assert "secure" in flags


def csrf_token_of(client, path):
    response = client.get(path)
    assert response.status_code == 200
    tokens = CSRF_INPUT.findall(response.get_data(as_text=True))
    assert tokens, f"no csrf_token field on {path}"
    return tokens[-1]


class TestWithCsrf:
    @pytest.fixture
    def app_config(self):
        return {"WTF_CSRF_ENABLED": True}

    @pytest.fixture
    def logged_in(self, client, make_user):
        user = make_user()
        token = csrf_token_of(client, "/accounts/login")
        response = client.post(
            "/accounts/login",
            data={"email": user.email, "password": PASSWORD, "csrf_token": token},
        )
        assert response.status_code == 302
        return user

    def test_signup_without_token_is_refused(self, client):
        response = client.post("/accounts/signup", data=SIGNUP)
        assert response.status_code == 400
        assert "The form had expired or came from elsewhere." in response.get_data(as_text=True)
        assert count(User) == 0

    def test_signup_with_a_wrong_token_is_refused(self, client):
        response = client.post("/accounts/signup", data={**SIGNUP, "csrf_token": "forged"})
        assert response.status_code == 400
        assert count(User) == 0

    def test_signup_with_token_works(self, client):
        token = csrf_token_of(client, "/accounts/signup")
        response = client.post("/accounts/signup", data={**SIGNUP, "csrf_token": token})
        assert response.status_code == 302
        assert db.session.scalar(select(User.email)) == "zarema@example.org"

    def test_login_without_token_is_refused(self, client, make_user):
        user = make_user()
        response = client.post("/accounts/login", data={"email": user.email, "password": PASSWORD})
        assert response.status_code == 400
        assert client.get("/appeals/").status_code == 302
        db.session.refresh(user)
        assert user.last_login_at is None

    @pytest.mark.parametrize(("referer", "status"), [(HTTPS + "/", 302), (None, 400)])
    def test_over_https_the_origin_alone_in_the_referer_will_do(
        self, client, make_user, referer, status
    ):
        # What browsers send under the Referrer-Policy "strict-origin": no path.
        user = make_user()
        page = client.get("/accounts/login", base_url=HTTPS).get_data(as_text=True)
        token = CSRF_INPUT.findall(page)[-1]
        response = client.post(
            "/accounts/login",
            data={"email": user.email, "password": PASSWORD, "csrf_token": token},
            base_url=HTTPS,
            headers={"Referer": referer} if referer else {},
        )
        assert response.status_code == status

    def test_login_with_token_works(self, client, make_user):
        user = make_user()
        token = csrf_token_of(client, "/accounts/login")
        response = client.post(
            "/accounts/login",
            data={"email": user.email, "password": PASSWORD, "csrf_token": token},
        )
        assert response.status_code == 302
        assert client.get("/appeals/").status_code == 200

    def test_reset_forms_without_token_are_refused(self, client, make_user, outbox):
        user = make_user()
        response = client.post("/accounts/reset", data={"email": user.email})
        assert response.status_code == 400
        assert not list(outbox.glob("*.eml"))
        token = csrf_token_of(client, "/accounts/reset")
        response = client.post("/accounts/reset", data={"email": user.email, "csrf_token": token})
        assert response.status_code == 302
        [mail] = outbox.glob("*.eml")
        link = re.search(rb"/accounts/reset/[^\s]+", mail.read_bytes()).group(0).decode()
        new = {"password": "a new, long password", "confirm": "a new, long password"}
        assert client.post(link, data=new).status_code == 400
        response = client.post(link, data={**new, "csrf_token": csrf_token_of(client, link)})
        assert response.status_code == 302

    def test_new_appeal_without_token_is_refused(self, client, logged_in):
        response = client.post("/appeals/new", data=form_data())
        assert response.status_code == 400
        assert count(Appeal) == 0

    def test_new_appeal_with_token_works(self, client, logged_in):
        # The session was renewed at login: the token must come from a form shown after it.
        token = csrf_token_of(client, "/appeals/new")
        response = client.post("/appeals/new", data={**form_data(), "csrf_token": token})
        assert response.status_code == 302
        assert db.session.scalar(select(Appeal.title)) == "Return our relatives home"

    def test_a_token_from_before_login_is_refused_after_it(self, client, make_user):
        user = make_user()
        old = csrf_token_of(client, "/accounts/signup")
        login_token = csrf_token_of(client, "/accounts/login")
        response = client.post(
            "/accounts/login",
            data={"email": user.email, "password": PASSWORD, "csrf_token": login_token},
        )
        assert response.status_code == 302
        response = client.post("/appeals/new", data={**form_data(), "csrf_token": old})
        assert response.status_code == 400
        assert count(Appeal) == 0

    def test_logout_without_token_keeps_the_session(self, client, logged_in):
        assert client.post("/accounts/logout").status_code in {302, 400}
        assert client.get("/appeals/").status_code == 200
