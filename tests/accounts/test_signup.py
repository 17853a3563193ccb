"""Signing up through the form: good input, and every kind of bad input."""

import html
from datetime import timedelta

import pytest
from argon2 import PasswordHasher
from flask import has_request_context
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from campaign.accounts.models import User
from campaign.extensions import db
from tests.mailbox import body, link_path, mails, subject

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


def confirm_path(outbox):
    [message] = mails(outbox)
    assert subject(message) == "Confirm your Campaign account"
    return link_path(message, "/accounts/confirm/")


def test_sign_up_mails_a_link_that_confirms_the_account_and_logs_in(client, outbox):
    response = client.post("/accounts/signup", data=signup_data())
    assert (response.status_code, response.headers["Location"]) == (302, "/accounts/signup/sent")
    assert "Check your email" in client.get("/accounts/signup/sent").get_data(as_text=True)
    user = db.session.scalar(select(User))
    assert (user.name, user.email, user.email_confirmed_at) == (
        "Zarema Aliyeva",
        "zarema@example.org",
        None,
    )
    # Not usable yet: not logged in, and the password alone does not let anyone in.
    assert client.get("/appeals/").status_code == 302
    login = client.post("/accounts/login", data={"email": user.email, "password": GOOD_PASSWORD})
    assert "Confirm your address first with the link we sent" in login.get_data(as_text=True)
    assert client.get("/appeals/").status_code == 302
    assert len(mails(outbox)) == 1  # just sent: not again
    # A quarter of an hour later, a login mails a new link.
    user.created_at -= timedelta(minutes=16)
    db.session.commit()
    login = client.post("/accounts/login", data={"email": user.email, "password": GOOD_PASSWORD})
    assert "we have sent you a new link" in login.get_data(as_text=True)
    assert [subject(m) for m in mails(outbox)] == ["Confirm your Campaign account"] * 2

    path = link_path(mails(outbox)[-1], "/accounts/confirm/")
    page = client.get(path)  # a mail scanner following the link confirms nothing
    assert "Confirm my account" in page.get_data(as_text=True)
    db.session.expire_all()
    assert db.session.get(User, user.id).email_confirmed_at is None
    confirmed = client.post(path, data={"password": GOOD_PASSWORD})
    assert (confirmed.status_code, confirmed.headers["Location"]) == (302, "/appeals/")
    dashboard = client.get("/appeals/")
    assert dashboard.status_code == 200
    assert "Welcome. Your account is ready." in dashboard.get_data(as_text=True)
    db.session.expire_all()
    assert db.session.get(User, user.id).email_confirmed_at is not None
    client.post("/accounts/logout")
    # Spent: the link is no way in without the password.
    assert client.post(path, data={"password": GOOD_PASSWORD}).status_code == 404
    assert client.get("/appeals/").status_code == 302
    login = client.post("/accounts/login", data={"email": user.email, "password": GOOD_PASSWORD})
    assert login.status_code == 302


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


def test_an_address_mail_cannot_reach_is_refused_with_why(client):
    assert_refused(
        client,
        signup_data(email="зарема@example.org"),
        "Before the “@”, use Latin letters, digits and signs: we cannot mail the others.",
        typed=["Zarema Aliyeva", "зарема@example.org"],
    )


def test_a_domain_in_cyrillic_is_accepted(client, outbox):
    assert (
        client.post("/accounts/signup", data=signup_data(email="zarema@почта.рф")).status_code
        == 302
    )
    [message] = mails(outbox)
    assert message["To"] in ("zarema@почта.рф", "zarema@xn--80a1acny.xn--p1ai")


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
def test_an_address_with_an_account_gets_the_same_answer(client, make_user, outbox, email):
    existing = make_user(email="zarema@example.org", name="Zarema")
    new = client.post("/accounts/signup", data=signup_data(email="new@example.org"))
    taken = client.post("/accounts/signup", data=signup_data(email=email))
    assert (taken.status_code, taken.headers["Location"]) == (
        new.status_code,
        new.headers["Location"],
    )
    assert user_count() == 2
    db.session.expire_all()
    assert db.session.get(User, existing.id).name == "Zarema"  # nothing changed
    by_address = {message["To"]: message for message in mails(outbox)}
    assert subject(by_address["zarema@example.org"]) == "You already have a Campaign account"
    assert "/accounts/reset" in body(by_address["zarema@example.org"])
    assert subject(by_address["new@example.org"]) == "Confirm your Campaign account"


def test_whoever_registered_someone_elses_address_first_gains_nothing(client, outbox):
    client.post("/accounts/signup", data=signup_data(name="Impostor", password="impostor's pw",
                                                   confirm="impostor's pw"))  # fmt: skip
    impostors_link = confirm_path(outbox)
    next(outbox.glob("*.eml")).unlink()
    client.post("/accounts/signup", data=signup_data())  # the owner of the address
    owners_link = confirm_path(outbox)
    impostors = {"password": "impostor's pw"}
    assert client.post(impostors_link, data=impostors).status_code == 404  # replaced
    assert client.get("/appeals/").status_code == 302
    assert client.post(owners_link, data={"password": GOOD_PASSWORD}).status_code == 302
    user = db.session.scalar(select(User))
    assert user.name == "Zarema Aliyeva"
    assert PasswordHasher().verify(user.password_hash, GOOD_PASSWORD)
    assert user_count() == 1


def test_whoever_signs_up_after_the_owner_cannot_have_her_confirm_his_password(app, client, outbox):
    client.post("/accounts/signup", data=signup_data())  # the owner of the address
    intruder = app.test_client()
    theirs = {"password": "the intruder's pw", "confirm": "the intruder's pw"}
    intruder.post("/accounts/signup", data=signup_data(**theirs))
    latest = link_path(mails(outbox)[-1], "/accounts/confirm/")
    # She opens the latest mail, her name and address on it, and confirms with her password.
    page = client.get(latest).get_data(as_text=True)
    assert "Zarema Aliyeva, zarema@example.org" in page
    refused = client.post(latest, data={"password": GOOD_PASSWORD})
    assert refused.status_code == 200
    assert "This is not the password of the latest sign-up with this address." in html.unescape(
        refused.get_data(as_text=True)
    )
    assert db.session.scalar(select(User.email_confirmed_at)) is None
    assert client.get("/appeals/").status_code == 302
    missing = client.post(latest, data={"password": ""})
    assert "Enter your password." in missing.get_data(as_text=True)
    assert (
        intruder.post(
            "/accounts/login", data={"email": "zarema@example.org", "password": theirs["password"]}
        ).status_code
        == 200
    )  # not confirmed: no way in
    # Signing up again makes her password the account's, with a new link.
    client.post("/accounts/signup", data=signup_data())
    mine = link_path(mails(outbox)[-1], "/accounts/confirm/")
    assert client.post(mine, data={"password": GOOD_PASSWORD}).status_code == 302
    assert (
        intruder.post(
            "/accounts/login", data={"email": "zarema@example.org", "password": theirs["password"]}
        ).status_code
        == 200
    )


def test_wrong_passwords_on_a_confirmation_link_are_limited(client, outbox):
    client.post("/accounts/signup", data=signup_data())
    path = link_path(mails(outbox)[-1], "/accounts/confirm/")
    for _ in range(5):
        assert client.post(path, data={"password": "a guess"}).status_code == 200
    assert client.post(path, data={"password": "a guess"}).status_code == 429
    assert client.post(path, data={"password": GOOD_PASSWORD}).status_code == 429
    assert client.post(path + "==", data={"password": GOOD_PASSWORD}).status_code == 429


def test_a_confirmation_link_that_is_forged_or_expired_is_refused(client, outbox, app):
    client.post("/accounts/signup", data=signup_data(), headers={"Accept-Language": "ru"})
    path = link_path(mails(outbox)[0], "/accounts/confirm/")
    forged = client.post(path + "x", headers={"Accept-Language": "ru"})
    assert forged.status_code == 404
    assert "Эта ссылка больше не работает" in forged.get_data(as_text=True)
    app.config["SIGNUP_LINK_LIFETIME"] = timedelta(seconds=-1)
    assert client.post(path, data={"password": GOOD_PASSWORD}).status_code == 404
    assert db.session.scalar(select(User.email_confirmed_at)) is None


def test_a_sign_up_meeting_another_for_the_same_address_is_tried_again(client, outbox, monkeypatch):
    flush = db.session.flush

    def other_request_first(*args, **kwargs):
        # What a double tap does on PostgreSQL: the other request inserted the address
        # between this one's look-up and its insert, which fails at the flush.
        if not has_request_context() or not any(isinstance(o, User) for o in db.session.new):
            return flush(*args, **kwargs)
        monkeypatch.setattr(db.session, "flush", flush)
        db.session.rollback()
        db.session.add(User(name="Zarema", email="zarema@example.org", password_hash="x"))
        db.session.commit()
        raise IntegrityError("INSERT INTO user", {}, Exception("unique"))

    monkeypatch.setattr(db.session, "flush", other_request_first)
    response = client.post("/accounts/signup", data=signup_data())
    assert (response.status_code, response.headers["Location"]) == (302, "/accounts/signup/sent")
    [user] = db.session.scalars(select(User)).all()
    assert user.name == "Zarema Aliyeva"  # the row the other request made, taken over
    assert client.post(confirm_path(outbox), data={"password": GOOD_PASSWORD}).status_code == 302


def test_a_link_mailed_again_at_login_has_its_full_lifetime(client, outbox, app):
    client.post("/accounts/signup", data=signup_data())
    lifetime = app.config["SIGNUP_LINK_LIFETIME"]
    user = db.session.scalar(select(User))
    user.created_at -= lifetime - timedelta(hours=1)  # signed up nearly two days ago
    db.session.commit()
    login = client.post("/accounts/login", data={"email": user.email, "password": GOOD_PASSWORD})
    assert "we have sent you a new link" in login.get_data(as_text=True)
    path = link_path(mails(outbox)[-1], "/accounts/confirm/")
    # Two hours later, the next sign-up's purge leaves her account and its new link alone.
    db.session.expire_all()
    user = db.session.scalar(select(User))
    user.created_at -= timedelta(hours=2)
    db.session.commit()
    client.post("/accounts/signup", data=signup_data(email="someone.else@example.org"))
    assert client.post(path, data={"password": GOOD_PASSWORD}).status_code == 302


def test_the_confirmation_mail_speaks_the_language_of_the_sign_up(client, outbox):
    client.post("/accounts/signup", data=signup_data(), headers={"Accept-Language": "ru"})
    [message] = mails(outbox)
    assert subject(message) == "Подтвердите аккаунт Campaign"
    page = client.get(link_path(message, "/accounts/confirm/"), headers={"Accept-Language": "ru"})
    assert "Подтвердить аккаунт" in page.get_data(as_text=True)
    assert "подтвердите его паролем, который вы выбрали" in body(message)


def test_sign_ups_are_throttled_per_address(client, outbox):
    for _attempt in range(3):
        assert client.post("/accounts/signup", data=signup_data()).status_code == 302
    assert client.post("/accounts/signup", data=signup_data()).status_code == 429
    assert len(mails(outbox)) == 3


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


def test_sign_ups_are_throttled_per_connection(client, outbox):
    for n in range(10):
        data = signup_data(email=f"someone{n}@example.org")
        assert client.post("/accounts/signup", data=data).status_code == 302
    refused = client.post("/accounts/signup", data=signup_data(email="one-more@example.org"))
    assert refused.status_code == 429
    assert user_count() == 10


def test_accounts_never_confirmed_are_purged_at_the_next_sign_up(client, outbox, app):
    client.post("/accounts/signup", data=signup_data(email="never@example.org"))
    client.post("/accounts/signup", data=signup_data(email="recent@example.org"))
    stale = db.session.scalar(select(User).where(User.email == "never@example.org"))
    stale.created_at -= app.config["SIGNUP_LINK_LIFETIME"] + timedelta(minutes=1)
    db.session.commit()
    client.post("/accounts/signup", data=signup_data(email="next@example.org"))
    emails = set(db.session.scalars(select(User.email)))
    assert emails == {"recent@example.org", "next@example.org"}


def test_a_sign_up_with_a_taken_address_purges_too(client, outbox, app, make_user):
    taken = make_user(email="taken@example.org")
    client.post("/accounts/signup", data=signup_data(email="never@example.org"))
    stale = db.session.scalar(select(User).where(User.email == "never@example.org"))
    stale.created_at -= app.config["SIGNUP_LINK_LIFETIME"] + timedelta(minutes=1)
    db.session.commit()
    client.post("/accounts/signup", data=signup_data(email=taken.email))
    assert set(db.session.scalars(select(User.email))) == {"taken@example.org"}


@pytest.mark.parametrize("target", ["https://evil.example/", "//evil.example/x"])
def test_a_sign_up_never_leads_off_the_site(client, outbox, target):
    client.post("/accounts/signup", query_string={"next": target}, data=signup_data())
    confirmed = client.post(
        link_path(mails(outbox)[0], "/accounts/confirm/"), data={"password": GOOD_PASSWORD}
    )
    assert confirmed.headers["Location"] == "/"
