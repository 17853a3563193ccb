"""Private fields never reach a public page, a URL, or a log line."""

import logging
import re

import pytest

from campaign.extensions import db
from campaign.signatures.models import FieldMode, QuestionKind
from campaign.signatures.settings import (
    QuestionData,
    SettingsData,
    save_sign_form_settings,
    sign_form_settings,
)

PRIVATE = {
    "email": "zx-private-mail-81@example.org",
    "phone": "+7 928 555 81 81",
    "postal_address": "Qw-Hidden street 77, flat 9",
}
PRIVATE_ANSWER = "Private-answer-Kj42"
REPRESENTATIVE = ("Rep-Secret-Name-Yt5", "Rep-Secret-Address-Ur6")


@pytest.fixture
def planted(client, open_appeal, sign, caplog):
    open_appeal.representative_name, open_appeal.representative_address = REPRESENTATIVE
    settings = sign_form_settings(open_appeal)
    modes = {name: FieldMode(mode) for name, mode in settings.fields.items()}
    modes.update(phone=FieldMode.optional, postal_address=FieldMode.optional)
    save_sign_form_settings(
        open_appeal,
        SettingsData(
            modes=modes,
            regions=None,
            relationships=settings.relationships,
            confirm_email=False,
            consent_text="",
            questions=[
                QuestionData("Private question", QuestionKind.text.value, [], True, False),
                QuestionData("Public question", QuestionKind.text.value, [], False, False),
            ],
        ),
        seen_revision=sign_form_settings(open_appeal).revision,
    )
    db.session.commit()
    private_q, public_q = sign_form_settings(open_appeal).questions
    caplog.set_level(logging.DEBUG)
    response = sign(
        open_appeal,
        display="full",
        **PRIVATE,
        **{f"q{private_q.id}": PRIVATE_ANSWER, f"q{public_q.id}": "Public answer"},
    )
    assert response.status_code == 302
    return response


def secrets_in(text):
    values = [*PRIVATE.values(), "79285558181", PRIVATE_ANSWER, *REPRESENTATIVE]
    return [value for value in values if value in text]


def test_no_private_value_on_any_public_page(client, open_appeal, planted):
    thanks = client.get(planted.headers["Location"])
    pages = {"thanks": thanks.get_data(as_text=True)}
    withdraw_path = re.search(
        r'value="http://campaign.test([^"]+/withdraw/[^"]+)"', pages["thanks"]
    ).group(1)
    for path in (
        "/",
        f"/a/{open_appeal.slug}",
        f"/a/{open_appeal.slug}/qr.svg",
        f"/a/{open_appeal.slug}?before=2999-01-01T00:00:00+00:00_999",
        withdraw_path,
    ):
        pages[path] = client.get(path).get_data(as_text=True)
    assert "Madina Naloeva" in pages[f"/a/{open_appeal.slug}"]  # the signature is listed
    for name, html in pages.items():
        assert secrets_in(html) == [], name


def test_no_private_value_in_urls_or_logs(client, planted, caplog):
    assert secrets_in(planted.headers["Location"]) == []
    client.get(planted.headers["Location"])
    assert secrets_in(caplog.text) == []
