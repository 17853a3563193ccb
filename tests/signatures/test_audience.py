"""The public sees of a signature exactly what its signer's choices say (signatures.audience)."""

import re

import pytest
from sqlalchemy import select

from campaign.extensions import db
from campaign.signatures.audience import public_view
from campaign.signatures.models import Display, FieldMode, Signature
from campaign.signatures.operations import SignData, sign_appeal
from campaign.signatures.settings import (
    QuestionData,
    SettingsData,
    save_sign_form_settings,
    sign_form_settings,
)
from campaign.signatures.signer_links import withdraw_signature
from tests.mailbox import link_path, mails

# The words of each choice on the form, and what they let the public see.
NAME_CHOICES = {
    "full": ("My full name and region", "Madina Naloeva, Chechen Republic"),
    "initials": ("My initials and region", "M. N., Chechen Republic"),
    "hidden": ("Do not show me in the list", None),
}
RELATIVE_CHOICE = (
    "Also show publicly, with my name or initials: how I am related to the person concerned, "
    "their name, where they are held and the number of children with them"
)
RELATIVE_VALUES = ("Islam Naloev", "Baghdad, Rusafa prison")
NEVER_PUBLIC = ("Grozny", "madina@example.org", "Naloeva-Helper")


def _set_modes(appeal, **modes):
    settings = sign_form_settings(appeal)
    current = {name: FieldMode(mode) for name, mode in settings.fields.items()}
    current.update({name: FieldMode(mode) for name, mode in modes.items()})
    save_sign_form_settings(
        appeal,
        SettingsData(
            modes=current,
            regions=None,
            relationships=settings.relationships,
            confirm_email=False,
            consent_text="",
            questions=[],
        ),
        seen_revision=settings.revision,
    )
    db.session.commit()


def _only_signature():
    return db.session.scalars(select(Signature)).one()


def _listed(html):
    section = re.search(r'<section class="signatories.*?</section>', html, re.S)
    return section.group(0) if section else ""


def test_the_form_offers_the_relative_choice_unticked_in_its_own_words(client, open_appeal):
    html = client.get(f"/a/{open_appeal.slug}").get_data(as_text=True)
    box = re.search(r'<input[^>]*name="relative_public"[^>]*>', html).group(0)
    assert "checked" not in box
    assert RELATIVE_CHOICE in html
    for words, _line in NAME_CHOICES.values():
        assert words in html


def test_without_relative_fields_the_form_does_not_offer_it(client, open_appeal):
    _set_modes(open_appeal, relative_name="off", relative_location="off", children="off")
    html = client.get(f"/a/{open_appeal.slug}").get_data(as_text=True)
    assert 'name="relative_public"' not in html
    assert "Also show publicly" not in html


def test_one_relative_field_is_enough_to_offer_it(client, open_appeal):
    _set_modes(open_appeal, relative_name="off", relative_location="off", children="optional")
    html = client.get(f"/a/{open_appeal.slug}").get_data(as_text=True)
    assert 'name="relative_public"' in html


def test_a_public_question_says_its_answer_is_public(client, open_appeal):
    settings = sign_form_settings(open_appeal)
    save_sign_form_settings(
        open_appeal,
        SettingsData(
            modes={name: FieldMode(mode) for name, mode in settings.fields.items()},
            regions=None,
            relationships=settings.relationships,
            confirm_email=False,
            consent_text="",
            questions=[QuestionData("Why do you sign?", "text", [], False, False)],
        ),
        seen_revision=settings.revision,
    )
    db.session.commit()
    html = client.get(f"/a/{open_appeal.slug}").get_data(as_text=True)
    assert "Shown in public beside your name or initials" in html


@pytest.mark.parametrize("ticked", [False, True], ids=["relative-not-agreed", "relative-agreed"])
@pytest.mark.parametrize("display", list(NAME_CHOICES))
def test_the_public_page_shows_what_the_choices_say(client, open_appeal, sign, display, ticked):
    extra = {"relative_public": "y"} if ticked else {}
    response = sign(
        open_appeal, display=display, on_behalf="y", helper_name="Naloeva-Helper", **extra
    )
    assert response.status_code == 302
    signature = _only_signature()
    assert signature.relative_public is ticked  # stored as chosen
    html = client.get(f"/a/{open_appeal.slug}").get_data(as_text=True)
    listed = _listed(html)
    _words, line = NAME_CHOICES[display]
    if line is None:
        assert "Naloeva" not in html and "M. N." not in html
    else:
        assert f"<span>{line}</span>" in listed
        assert "Madina" not in listed if display == "initials" else "Madina Naloeva" in listed
    # The page never lists a relative: that is for the dossier, and only when agreed.
    for value in (*RELATIVE_VALUES, *NEVER_PUBLIC):
        assert value not in html, value
    seen = public_view(signature, "en")
    assert seen.listed is (line is not None)
    assert seen.line == (line or "")
    agreed = ticked and line is not None
    assert (seen.relative_name, seen.relative_location, seen.children, seen.relationship) == (
        ("Islam Naloev", "Baghdad, Rusafa prison", 2, "mother") if agreed else ("", "", None, "")
    )
    assert seen.answers is (line is not None)


@pytest.mark.parametrize("display", list(NAME_CHOICES))
def test_the_confirmation_page_shows_only_the_public_line(
    client, open_appeal, sign, outbox, display
):
    _set_modes(open_appeal, email="required")
    settings = sign_form_settings(open_appeal)
    settings.confirm_email = True
    db.session.commit()
    sign(open_appeal, display=display, relative_public="y")
    [message] = mails(outbox)
    html = client.get(link_path(message, f"/a/{open_appeal.slug}/confirm/")).get_data(as_text=True)
    _words, line = NAME_CHOICES[display]
    if line:
        assert line in html
    for value in ("Naloeva" if not line or display == "initials" else "", *RELATIVE_VALUES):
        if value:
            assert value not in html, value


def test_a_withdrawal_takes_back_the_agreement(open_appeal):
    data = SignData(surname="Naloeva", given_name="Madina", relative_name="Islam Naloev",
                    display=Display.full, relative_public=True)  # fmt: skip
    outcome = sign_appeal(open_appeal, data, consent="Consent", confirm_within=None)
    signature = outcome.signature
    assert public_view(signature, "en").relative_name == "Islam Naloev"
    withdraw_signature(outcome.withdraw_token)
    assert signature.relative_public is False
    assert public_view(signature, "en").listed is False


def test_existing_signatures_did_not_agree(open_appeal, make_signature):
    signature = make_signature(open_appeal)  # as stored before the choice existed
    assert signature.relative_public is False
    assert public_view(signature, "ru").relative_name == ""
    assert public_view(signature, "ru").name == "Мадина Налоева-1"
    signature.display = Display.initials
    assert public_view(signature, "ru").formal_name == "М. Н."
