"""Security notices: the account's own address hears of every change to its password or its
two-step login, and of a login with a recovery code; a refused attempt mails nothing."""

import pytest

from campaign.accounts.notices import NOTICES, notify
from campaign.accounts.two_factor import enable_two_factor, start_setup
from campaign.extensions import db
from tests.accounts.test_settings import NEW_PASSWORD, change
from tests.accounts.test_two_factor import code_now, password_step
from tests.conftest import PASSWORD
from tests.mailbox import body, link_path, mails, subject


def notices(outbox, user):
    return [
        body(message)
        for message in mails(outbox)
        if subject(message) == "Security notice: your Campaign account"
        and message["To"] == user.email
    ]


def enabled(user):
    start_setup(user)
    codes = enable_two_factor(user, code_now(user, -1))
    db.session.commit()
    return codes


def test_changing_the_password_mails_a_notice(client, make_user, login, outbox):
    user = make_user(name="Zarema")
    login(user)
    change(client, current="wrong password")
    assert notices(outbox, user) == []  # refused: nothing happened
    change(client)
    [notice] = notices(outbox, user)
    assert notice.startswith("The password of your Campaign account (Zarema) was changed.")
    assert link_path(mails(outbox)[-1], "/accounts/") == "/accounts/reset"
    assert PASSWORD not in notice and NEW_PASSWORD not in notice


def test_a_password_chosen_with_the_mailed_link_mails_a_notice(client, make_user, outbox):
    user = make_user()
    client.post("/accounts/reset", data={"email": user.email})
    path = link_path(mails(outbox)[0], "/accounts/reset/")
    client.post(path, data={"password": NEW_PASSWORD, "confirm": NEW_PASSWORD})
    [notice] = notices(outbox, user)
    assert "with a link mailed to this address" in notice


def test_two_step_login_on_off_and_new_codes_each_mail_a_notice(client, make_user, login, outbox):
    user = make_user()
    login(user)
    client.post("/accounts/two-step/start")
    client.post("/accounts/two-step/enable", data={"code": code_now(user), "current": PASSWORD})
    client.post("/accounts/two-step/recovery-codes", data={"codes-current": "wrong"})
    client.post("/accounts/two-step/recovery-codes", data={"codes-current": PASSWORD})
    client.post("/accounts/two-step/disable", data={"off-current": PASSWORD})
    sent = notices(outbox, user)
    assert [text.split(" for your", 1)[0].split(" of your", 1)[0] for text in sent] == [
        "Two-step login was turned on",
        "New recovery codes were made",
        "Two-step login was turned off",
    ]


def test_a_login_with_a_recovery_code_mails_a_notice(client, make_user, outbox):
    user = make_user()
    codes = enabled(user)
    password_step(client, user)
    client.post("/accounts/login/code", data={"code": code_now(user)})
    assert notices(outbox, user) == []  # the app's code: the usual way in
    client.post("/accounts/logout")
    password_step(client, user)
    client.post("/accounts/login/code", data={"code": codes[0]})
    [notice] = notices(outbox, user)
    assert notice.startswith("Someone logged in to your Campaign account")


def test_the_notice_speaks_its_holders_language(client, make_user, login, outbox):
    user = make_user(language="ru")
    login(user)
    change(client)
    [message] = mails(outbox)
    assert subject(message) == "Уведомление о безопасности: ваш аккаунт Campaign"
    assert "Пароль вашего аккаунта Campaign" in body(message)


def test_an_unknown_notice_is_a_programming_error(make_user):
    with pytest.raises(ValueError):
        notify(make_user(), "password_guessed")
    assert set(NOTICES) >= {"password_changed", "two_factor_off"}
