"""The privacy page says what signing collects, who sees it, how long it is kept and how to
withdraw, in both languages, from the settings the site runs with."""

import re
from datetime import timedelta

import pytest


def text_of(response):
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", response.get_data(as_text=True)))


def test_the_page_says_what_who_how_long_and_how_to_withdraw(client):
    page = text_of(client.get("/privacy"))
    for said in (
        "What is collected and who sees it",
        "Email or phone number",
        "The organisers only, never the public nor the authority.",
        "Postal address",
        "Your drawn signature",
        "The name of whoever filled the form in for you",
        "A question marked private: the organisers and the authority only.",
        "“My full name and region”, “My initials and region”, or nothing with “Do not show me in "
        "the list”",
        "Your connection’s address (IP) is not stored.",
        "stored encrypted, with a key kept apart from the database",
        "The private details are erased 12 months after the appeal ends",
        "an unconfirmed signature is deleted after 7 days",
        "How to withdraw your signature",
        "every detail you gave is erased",
    ):
        assert said in page, said


@pytest.mark.parametrize(
    ("app_config", "said"),
    [
        ({"PRIVATE_DATA_RETENTION_MONTHS": 1}, "erased 1 month after the appeal ends"),
        ({"PRIVATE_DATA_RETENTION_MONTHS": 6}, "erased 6 months after the appeal ends"),
        ({"CONFIRMATION_LIFETIME": timedelta(days=1)}, "deleted after 1 day."),
    ],
)
def test_the_durations_are_the_settings(client, said):
    assert said in text_of(client.get("/privacy"))


@pytest.mark.parametrize(
    ("app_config", "said"),
    [
        ({}, "удаляются через 12 месяцев после окончания обращения"),
        ({"PRIVATE_DATA_RETENTION_MONTHS": 1}, "удаляются через 1 месяц после окончания"),
        ({"PRIVATE_DATA_RETENTION_MONTHS": 3}, "удаляются через 3 месяца после окончания"),
    ],
)
def test_the_page_in_russian(client, said):
    page = text_of(client.get("/privacy", headers={"Accept-Language": "ru"}))
    assert "Что собирается и кто это видит" in page
    assert "Как отозвать подпись" in page
    assert "«Моё полное имя и регион», «Мои инициалы и регион» или ничего при выборе «Не " in page
    assert said in page


def test_the_footer_and_the_sign_form_link_to_it(client, make_published_appeal):
    appeal = make_published_appeal()
    for path in ("/", f"/a/{appeal.slug}", "/verify/"):
        assert 'href="/privacy"' in client.get(path).get_data(as_text=True), path
    form = client.get(f"/a/{appeal.slug}").get_data(as_text=True)
    sign_form = form[form.index('id="sign"') :]
    assert "Who sees your details, how long they are kept, and how to withdraw" in sign_form
