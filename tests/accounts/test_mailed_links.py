"""The mails that carry account links say how long the links last, in whole units."""

from datetime import timedelta

import pytest

from campaign.accounts.mailed_links import (
    send_email_change_mail,
    send_email_changed_mail,
    send_reset_mail,
    send_signup_mail,
)
from campaign.accounts.models import AddressChange
from campaign.extensions import db
from tests.mailbox import body, mails

LIFETIMES = {
    "one": {
        "RESET_LINK_LIFETIME": timedelta(minutes=1),
        "SIGNUP_LINK_LIFETIME": timedelta(hours=1),
        "EMAIL_UNDO_LINK_LIFETIME": timedelta(days=1),
    },
    "few": {
        "RESET_LINK_LIFETIME": timedelta(minutes=22),
        "SIGNUP_LINK_LIFETIME": timedelta(hours=3),
        "EMAIL_UNDO_LINK_LIFETIME": timedelta(days=2),
    },
}


@pytest.fixture
def app_config(request):
    return LIFETIMES[request.param]


def four_mails(make_user, outbox, language):
    """The reset, sign-up, address-change and undo mails, in that order.

    The address change's link lasts as long as the sign-up's.
    """
    user = make_user(language=language)
    send_reset_mail(user.id)
    newcomer = make_user(language=language, email_confirmed_at=None)
    send_signup_mail(newcomer.id)
    user.pending_email = "new-address@example.org"
    db.session.commit()
    send_email_change_mail(user.id)
    change = AddressChange(user_id=user.id, old_email="old-address@example.org")
    db.session.add(change)
    db.session.commit()
    send_email_changed_mail(change.id)
    sent = [body(message) for message in mails(outbox)]
    assert len(sent) == 4
    return sent


@pytest.mark.parametrize(
    ("app_config", "expected"),
    [
        ("one", ["within 1 minute:", "within 1 hour and", "within 1 hour and", "within 1 day to"]),
        ("few", ["within 22 minutes", "within 3 hours", "within 3 hours", "within 2 days to"]),
    ],
    indirect=["app_config"],
)
def test_english_mails_say_the_lifetime_in_the_right_number(make_user, outbox, expected):
    for sent, words in zip(four_mails(make_user, outbox, "en"), expected, strict=True):
        assert words in sent


@pytest.mark.parametrize(
    ("app_config", "expected"),
    [
        ("one", ["в течение 1 минуты", "в течение 1 часа", "в течение 1 часа", "в течение 1 дня"]),
        (
            "few",
            ["в течение 22 минут", "в течение 3 часов", "в течение 3 часов", "в течение 2 дней"],
        ),
    ],
    indirect=["app_config"],
)
def test_russian_mails_use_the_plural_forms(make_user, outbox, expected):
    for sent, words in zip(four_mails(make_user, outbox, "ru"), expected, strict=True):
        assert words in sent
