"""Pages and mails give the time a signer has to confirm as configured, not a fixed week."""

import re
from datetime import timedelta

import pytest

from tests.mailbox import body as body_of
from tests.mailbox import mails as messages
from tests.signatures.test_sign_form import set_confirm


@pytest.fixture
def app_config(request):
    return {"SIGN_MIN_SECONDS": 0, "CONFIRMATION_LIFETIME": timedelta(days=request.param)}


def path_in(message, action):
    link = re.search(rf"http://campaign.test(\S+/{action}/\S+)", body_of(message))
    return link.group(1)


@pytest.mark.parametrize(
    ("app_config", "days"), [(3, "3 days"), (1, "1 day")], indirect=["app_config"]
)
def test_english_pages_and_mails_give_the_configured_days(
    client, open_appeal, sign, outbox, login, days
):
    within = f"within {days}"
    set_confirm(open_appeal)
    thanks = sign(open_appeal, follow=True).get_data(as_text=True)
    assert within in thanks
    [first] = messages(outbox)
    assert within in body_of(first)
    sign(open_appeal)  # again, unconfirmed: new links
    renewal = messages(outbox)[-1]
    assert "has not been confirmed yet" in body_of(renewal)
    assert within in body_of(renewal)
    assert f"deleted after {days}" in body_of(renewal)
    confirm_page = client.get(path_in(renewal, "confirm")).get_data(as_text=True)
    assert f"deleted {days} after the latest email about it" in confirm_page
    used = client.get(path_in(first, "confirm")).get_data(as_text=True)
    assert "This link cannot be used" in used
    assert f"more than {days} ago" in used
    login(open_appeal.memberships[0].user)
    settings = client.get(f"/appeals/{open_appeal.id}/settings").get_data(as_text=True)
    assert f"sent to her address {within}" in settings
    for page in (thanks, confirm_page, used, settings, body_of(first), body_of(renewal)):
        assert "7 days" not in page and "a week" not in page


@pytest.mark.parametrize(
    ("app_config", "within"),
    [(3, "в течение 3 дней"), (1, "в течение 1 дня"), (5, "в течение 5 дней")],
    indirect=["app_config"],
)
def test_russian_pages_and_mails_use_the_plural_form(client, open_appeal, sign, outbox, within):
    set_confirm(open_appeal)
    ru = {"Accept-Language": "ru"}
    thanks = sign(open_appeal, follow=True, headers=ru).get_data(as_text=True)
    assert within in thanks
    [mail] = messages(outbox)
    assert within in body_of(mail)
