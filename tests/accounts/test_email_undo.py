"""Undoing an address change from the address the account left: the link mailed there brings
the account back with a new password, even after whoever moved it changed the password."""

from datetime import timedelta

import pytest
from sqlalchemy import func, select

from campaign import tasks
from campaign.accounts.mailed_links import EMAIL, RESET, LinkInvalid, set_password, user_for_link
from campaign.accounts.memberships import InvitationInvalid, find_invitation, invite_member
from campaign.accounts.models import AddressChange, Role, User
from campaign.accounts.operations import (
    UndoInvalid,
    WrongPassword,
    change_password,
    move_to_pending_email,
    undo_address_change,
)
from campaign.extensions import db
from tests.accounts.test_email_change import ERROR, another_browser, ask, logs_in
from tests.accounts.test_settings import NEW_PASSWORD, change, stored
from tests.concurrency import while_the_first_holds
from tests.conftest import PASSWORD
from tests.mailbox import body, link_path, mails, subject

OLD = "zarema@example.org"
THEIRS = "intruder@example.org"
MINE = "taken back, and long enough"


@pytest.fixture
def user(make_user):
    return make_user(name="Zarema", email=OLD)


@pytest.fixture
def intruder(app, user):
    """A browser where someone who learnt the password is logged in as the user."""
    browser = another_browser(app)
    response = browser.post("/accounts/login", data={"email": OLD, "password": PASSWORD})
    assert response.status_code == 302
    return browser


def move(browser, outbox, email):
    """Ask for the address and follow the link mailed there; return the undo link's path."""
    ask(browser, email)
    browser.post(link_path(mails(outbox)[-1], "/accounts/email/"), data={"current": PASSWORD})
    notice = mails(outbox)[-1]
    assert notice["To"] != email
    return link_path(notice, "/accounts/email/undo/")


def take_back(browser, path, password=MINE, confirm=None, **kwargs):
    data = {"password": password, "confirm": password if confirm is None else confirm}
    return browser.post(path, data=data, **kwargs)


def test_the_address_left_brings_the_account_back_with_a_new_password(
    app, client, user, intruder, outbox
):
    undo = move(intruder, outbox, THEIRS)
    change(intruder)  # and a password only the intruder knows
    assert stored(user).email == THEIRS
    # The password's notice goes to the account's address now (the intruder's); the move's
    # notice went to the address it left.
    assert mails(outbox)[-1]["To"] == THEIRS
    notice = next(message for message in reversed(mails(outbox)) if message["To"] == OLD)
    assert (notice["To"], subject(notice)) == (
        OLD,
        "The address of your Campaign account was changed",
    )
    assert "has moved to another address" in body(notice)
    assert "within 7 days" in body(notice)
    assert THEIRS not in body(notice)  # whoever reads the old address need not learn it
    assert OLD not in undo and THEIRS not in undo

    # A mail scanner following the link changes nothing.
    page = client.get(undo).get_data(as_text=True)
    assert f"moved from {OLD} to another address" in page
    assert THEIRS not in page
    assert stored(user).email == THEIRS

    response = take_back(client, undo)
    assert (response.status_code, response.headers["Location"]) == (302, "/accounts/settings")
    settings = client.get("/accounts/settings").get_data(as_text=True)
    assert f"Your account uses {OLD} again, with the new password." in settings
    assert (stored(user).email, stored(user).pending_email) == (OLD, None)
    assert logs_in(app, OLD, MINE)
    assert not logs_in(app, OLD, NEW_PASSWORD) and not logs_in(app, THEIRS, NEW_PASSWORD)
    # The intruder's session is over, and the address it left is told.
    assert intruder.get("/accounts/settings").status_code == 302
    told = mails(outbox)[-1]
    assert (told["To"], subject(told)) == (
        THEIRS,
        "Your Campaign account is back at its former address",
    )
    assert f"it was brought back to {OLD}" in body(told)
    # Spent: the link works once.
    again = client.get(undo)
    assert again.status_code == 404
    assert "This link no longer works" in again.get_data(as_text=True)


def test_later_moves_are_undone_too_and_their_links_stop_working(
    app, client, user, intruder, outbox
):
    first = move(intruder, outbox, THEIRS)
    second = move(intruder, outbox, "elsewhere@example.org")  # mailed to THEIRS
    assert mails(outbox)[-1]["To"] == THEIRS
    assert take_back(client, first).status_code == 302
    assert stored(user).email == OLD
    assert mails(outbox)[-1]["To"] == "elsewhere@example.org"  # where the account was
    assert take_back(another_browser(app), second).status_code == 404
    assert stored(user).email == OLD


def test_a_link_from_a_later_move_leaves_earlier_ones_working(app, client, user, intruder, outbox):
    first = move(intruder, outbox, THEIRS)
    second = move(intruder, outbox, "elsewhere@example.org")
    assert take_back(another_browser(app), second, password="their own password").status_code == 302
    assert stored(user).email == THEIRS
    assert take_back(client, first).status_code == 302
    assert stored(user).email == OLD
    assert logs_in(app, OLD, MINE)


@pytest.mark.parametrize(
    ("password", "confirm", "message"),
    [
        ("", "", "Choose a password."),
        ("short", "short", "Use between 10 and 200 characters."),
        (MINE, "something else", "The two passwords differ."),
    ],
)
def test_a_bad_password_is_refused_and_changes_nothing(
    client, user, intruder, outbox, password, confirm, message
):
    undo = move(intruder, outbox, THEIRS)
    response = take_back(client, undo, password, confirm)
    assert response.status_code == 200
    assert ERROR.findall(response.get_data(as_text=True)) == [message]
    assert stored(user).email == THEIRS
    assert intruder.get("/accounts/settings").status_code == 200
    assert mails(outbox)[-1]["To"] == OLD  # the notice; nothing since
    assert client.get(undo).status_code == 200  # still usable


def test_the_refusal_is_in_russian(client, user, intruder, outbox):
    undo = move(intruder, outbox, THEIRS)
    html = take_back(client, undo, "short", headers={"Accept-Language": "ru"})
    assert "Пожалуйста, исправьте отмеченные ниже поля." in html.get_data(as_text=True)


def test_an_expired_link_is_refused(app, client, user, intruder, outbox):
    undo = move(intruder, outbox, THEIRS)
    app.config["EMAIL_UNDO_LINK_LIFETIME"] = timedelta(seconds=-1)
    response = take_back(client, undo)
    assert response.status_code == 404
    assert "This link no longer works" in response.get_data(as_text=True)
    assert stored(user).email == THEIRS


def test_a_forged_link_is_refused(client, user):
    assert client.get("/accounts/email/undo/not-a-token").status_code == 404


def test_an_old_address_taken_by_a_confirmed_account_is_not_taken_from_it(
    app, client, user, intruder, outbox, make_user
):
    undo = move(intruder, outbox, THEIRS)
    make_user(email=OLD)  # confirmed, by whoever reads OLD, meanwhile
    response = take_back(client, undo)
    assert response.status_code == 200
    assert ERROR.findall(response.get_data(as_text=True)) == [
        f"Another account uses {OLD} now: this one cannot return to it."
    ]
    assert stored(user).email == THEIRS
    assert db.session.scalar(select(func.count()).where(AddressChange.closed_at.is_not(None))) == 0


def test_an_unconfirmed_account_on_the_old_address_gives_way(app, client, user, intruder, outbox):
    undo = move(intruder, outbox, THEIRS)
    squatter = app.test_client()
    squatter.post(
        "/accounts/signup",
        data={"name": "Squatter", "email": OLD, "password": "x" * 12, "confirm": "x" * 12},
    )
    assert take_back(client, undo).status_code == 302
    assert stored(user).email == OLD


def test_two_tabs_cannot_both_bring_the_account_back(app, user, intruder, outbox):
    move(intruder, outbox, THEIRS)
    change_id = db.session.scalar(select(AddressChange.id))

    def take_back_with(password):
        return lambda: undo_address_change(db.session.get(AddressChange, change_id), password)

    outcomes = while_the_first_holds(
        app, take_back_with(MINE), take_back_with("another long password"), UndoInvalid
    )
    assert outcomes == ("done", "refused")
    assert logs_in(app, OLD, MINE)


@pytest.mark.parametrize("step", ["move", "reset", "password"])
def test_a_change_under_way_does_not_overtake_the_undo(app, user, intruder, outbox, step):
    """Whoever moved the account, acting at the moment it is brought back, changes nothing."""
    move(intruder, outbox, THEIRS)
    change_id, user_id = db.session.scalar(select(AddressChange.id)), user.id
    if step == "move":
        ask(intruder, "third@example.org")
        token = link_path(mails(outbox)[-1], "/accounts/email/").rsplit("/", 1)[1]
    elif step == "reset":
        another_browser(app).post("/accounts/reset", data={"email": THEIRS})
        token = link_path(mails(outbox)[-1], "/accounts/reset/").rsplit("/", 1)[1]

    def take_back_now():
        undo_address_change(db.session.get(AddressChange, change_id), MINE)

    def overtake():
        # Read before the undo commits, written after: what a request already under way does.
        account = db.session.get(User, user_id)
        if step == "move":
            move_to_pending_email(user_for_link(token, EMAIL, hold=True))
        elif step == "reset":
            set_password(user_for_link(token, RESET, hold=True), "the intruder's new one")
        else:
            change_password(account, PASSWORD, "the intruder's new one")

    refused = (LinkInvalid, WrongPassword)
    assert while_the_first_holds(app, take_back_now, overtake, refused) == ("done", "refused")
    assert (stored(user).email, stored(user).pending_email) == (OLD, None)
    assert logs_in(app, OLD, MINE)


def test_invitations_made_since_the_move_are_revoked(
    app, client, user, intruder, outbox, make_appeal
):
    appeal = make_appeal(owner=user)
    before = invite_member(appeal.id, Role.editor, user, timedelta(days=7))
    db.session.commit()
    undo = move(intruder, outbox, THEIRS)
    since = invite_member(appeal.id, Role.owner, stored(user), timedelta(days=7))
    db.session.commit()
    response = take_back(client, undo, follow_redirects=True)
    assert "the invitations made since the move are revoked" in response.get_data(as_text=True)
    assert find_invitation(before).role is Role.editor
    with pytest.raises(InvitationInvalid):
        find_invitation(since)


def test_moving_back_closes_the_link_to_the_address_returned_to(client, user, intruder, outbox):
    first = move(intruder, outbox, THEIRS)
    move(intruder, outbox, OLD)
    assert client.get(first).status_code == 404
    assert stored(user).email == OLD


def test_the_queue_carries_ids_not_addresses(monkeypatch, client, user, intruder, outbox):
    queued = []
    enqueue = tasks.enqueue
    monkeypatch.setattr(
        tasks, "enqueue", lambda name, *args: queued.append((name, args)) or enqueue(name, *args)
    )
    take_back(client, move(intruder, outbox, THEIRS))
    names = [name for name, _args in queued]
    assert "accounts.email_changed_mail" in names
    assert "accounts.email_change_undone_mail" in names
    assert all(isinstance(arg, int) for _name, args in queued for arg in args)


def test_expired_moves_are_forgotten_at_the_next_move(app, user, intruder, outbox):
    move(intruder, outbox, THEIRS)
    app.config["EMAIL_UNDO_LINK_LIFETIME"] = timedelta(0)
    move(intruder, outbox, "elsewhere@example.org")
    assert db.session.scalars(select(AddressChange.old_email)).all() == [THEIRS]


def test_two_step_login_set_up_since_the_move_is_turned_off(app, client, user, intruder, outbox):
    from campaign.accounts.two_factor import enable_two_factor, start_setup
    from tests.accounts.test_two_factor import code_now

    path = move(intruder, outbox, THEIRS)
    start_setup(user)  # whoever moved it, with their phone: it would keep her out
    enable_two_factor(user, code_now(user))
    db.session.commit()
    assert take_back(client, path).status_code == 302
    db.session.refresh(user)
    assert not user.two_factor_enabled and user.totp_secret is None
    assert client.get("/appeals/").status_code == 200


def test_two_step_login_of_her_own_stays_on(app, client, user, outbox):
    from campaign.accounts.two_factor import enable_two_factor, start_setup
    from tests.accounts.test_two_factor import code_now

    start_setup(user)
    enable_two_factor(user, code_now(user, -1))
    db.session.commit()
    intruder = another_browser(app)
    intruder.post("/accounts/login", data={"email": OLD, "password": PASSWORD})
    intruder.post("/accounts/login/code", data={"code": code_now(user)})
    path = move(intruder, outbox, THEIRS)
    response = take_back(client, path)
    assert response.headers["Location"] == "/accounts/login/code"  # her phone, still asked
    db.session.refresh(user)
    assert user.two_factor_enabled
