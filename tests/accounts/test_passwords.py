"""New passwords refuse NUL and every other control character, on each form that sets one,
with a clear message; nothing is stored."""

import re

import pytest
from sqlalchemy import func, select

from campaign.accounts.models import User
from campaign.extensions import db
from tests.accounts.test_email_change import another_browser
from tests.accounts.test_email_undo import OLD, THEIRS, move
from tests.conftest import PASSWORD
from tests.mailbox import link_path, mails

MESSAGE = "A password cannot contain control characters"
# NUL, a bell, a tab, a line break, an escape, DEL, and C1 controls (NEL, CSI).
CONTROLS = ["\x00", "\x07", "\t", "\n", "\x1b", "\x7f", "\x85", "\x9b"]


def bad(char):
    return f"long enough{char}passphrase"


@pytest.mark.parametrize("char", CONTROLS, ids=lambda char: f"U+{ord(char):04X}")
def test_sign_up_refuses_a_control_character(client, outbox, char):
    response = client.post(
        "/accounts/signup",
        data={
            "name": "Zarema",
            "email": "zarema@example.org",
            "password": bad(char),
            "confirm": bad(char),
        },
    )
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert MESSAGE in page
    assert 'value="zarema@example.org"' in page  # what she typed is kept
    assert db.session.scalar(select(func.count()).select_from(User)) == 0
    assert not list(outbox.glob("*.eml"))


def test_sign_up_message_in_russian(client):
    response = client.post(
        "/accounts/signup",
        data={
            "name": "Зарема",
            "email": "z@example.org",
            "password": bad("\x00"),
            "confirm": bad("\x00"),
        },
        headers={"Accept-Language": "ru"},
    )
    assert "Пароль не может содержать управляющие символы" in response.get_data(as_text=True)


def test_a_password_with_letters_of_any_script_and_spaces_is_fine(client):
    password = "Мадина любит 山 and ✓ spaces"
    response = client.post(
        "/accounts/signup",
        data={
            "name": "Zarema",
            "email": "zarema@example.org",
            "password": password,
            "confirm": password,
        },
    )
    assert response.status_code == 302


def test_a_new_password_by_mailed_link_refuses_them(client, make_user, outbox):
    user = make_user()
    client.post("/accounts/reset", data={"email": user.email})
    [mail] = outbox.glob("*.eml")
    link = re.search(rb"/accounts/reset/[^\s]+", mail.read_bytes()).group(0).decode()
    response = client.post(link, data={"password": bad("\x00"), "confirm": bad("\x00")})
    assert response.status_code == 200
    assert MESSAGE in response.get_data(as_text=True)
    hash_before = user.password_hash
    db.session.refresh(user)
    assert user.password_hash == hash_before


def test_changing_the_password_refuses_them(client, make_user, login):
    user = make_user()
    login(user)
    response = client.post(
        "/accounts/settings",
        data={
            "password-current": PASSWORD,
            "password-password": bad("\x1b"),
            "password-confirm": bad("\x1b"),
            "password-submit": "1",
        },
    )
    assert response.status_code == 200
    assert MESSAGE in response.get_data(as_text=True)
    hash_before = user.password_hash
    db.session.refresh(user)
    assert user.password_hash == hash_before


def test_bringing_an_account_back_refuses_them(app, make_user, outbox):
    make_user(name="Zarema", email=OLD)
    intruder = another_browser(app)
    intruder.post("/accounts/login", data={"email": OLD, "password": PASSWORD})
    path = move(intruder, outbox, THEIRS)
    response = another_browser(app).post(
        path, data={"password": bad("\x00"), "confirm": bad("\x00")}
    )
    assert response.status_code == 200
    assert MESSAGE in response.get_data(as_text=True)
    assert db.session.scalar(select(User.email)) == THEIRS
    assert link_path(mails(outbox)[-1], "/accounts/email/undo/")


def test_an_old_password_with_a_tab_still_logs_in(client, make_user):
    # Set before this rule: refusing it at login would lock its owner out.
    from campaign.accounts.operations import hash_password

    user = make_user(password_hash=hash_password("old\tpassword with a tab"))
    response = client.post(
        "/accounts/login", data={"email": user.email, "password": "old\tpassword with a tab"}
    )
    assert response.status_code == 302
