"""The organiser chooses what the sign form asks, and the public page follows."""

import re
from html.parser import HTMLParser

import pytest
from sqlalchemy import func, select

from campaign.accounts.models import Role
from campaign.appeals.models import Appeal
from campaign.extensions import db
from campaign.signatures.fields import BUILT_IN_FIELDS, DEFAULT_MODES, DEFAULT_RELATIONSHIPS
from campaign.signatures.models import (
    CustomQuestion,
    QuestionKind,
    Signature,
    SignatureAnswer,
    SignFormSettings,
)
from campaign.signatures.operations import FormChanged, SignData, sign_appeal
from campaign.signatures.settings import (
    AnswersStayPrivate,
    QuestionData,
    SettingsChanged,
    SettingsData,
    chosen_mode,
    save_sign_form_settings,
    sign_form_settings,
)
from tests.concurrency import while_the_first_holds

QUESTION = "How many years has he been held?"
CONSENT = "Zq-consent: the Naloev family committee may keep my details until the answer comes."


class Page(HTMLParser):
    """The form controls of a page: selects with their options, inputs and text areas."""

    def __init__(self, html):
        super().__init__(convert_charrefs=True)
        self.selects = {}
        self.inputs = []
        self.textareas = {}
        self._select = None
        self._option = None
        self._textarea = None
        self.feed(html)
        self.close()

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "select":
            self._select = {"attrs": attrs, "options": []}
            self.selects[attrs.get("name")] = self._select
        elif tag == "option" and self._select is not None:
            self._option = {"value": attrs.get("value"), "selected": "selected" in attrs}
            self._option["text"] = ""
            self._select["options"].append(self._option)
        elif tag == "input":
            self.inputs.append(attrs)
        elif tag == "textarea":
            self._textarea = attrs.get("name")
            self.textareas[self._textarea] = {"attrs": attrs, "text": ""}

    def handle_endtag(self, tag):
        if tag == "select":
            self._select = None
        elif tag == "option":
            self._option = None
        elif tag == "textarea":
            self._textarea = None

    def handle_data(self, data):
        if self._option is not None:
            self._option["text"] += data
        if self._textarea is not None:
            self.textareas[self._textarea]["text"] += data

    def names(self):
        return set(self.selects) | {i.get("name") for i in self.inputs} | set(self.textareas)

    def input(self, name, value=None):
        found = [
            i
            for i in self.inputs
            if i.get("name") == name and (value is None or i.get("value") == value)
        ]
        assert len(found) == 1, (name, value, found)
        return found[0]

    def lines(self, name):
        return [line for line in self.textareas[name]["text"].splitlines() if line]

    def selected(self, name):
        return [o["value"] for o in self.selects[name]["options"] if o["selected"]]

    def option_values(self, name):
        return [o["value"] for o in self.selects[name]["options"]]

    def required(self, name):
        if name in self.selects:
            return "required" in self.selects[name]["attrs"]
        if name in self.textareas:
            return "required" in self.textareas[name]["attrs"]
        return "required" in self.input(name)


def settings_form(appeal, **overrides):
    """Every field of the settings form, with defaults, regions RU-CE/RU-DA and one question,
    as sent from a page showing the appeal's settings as they are now.

    A value of None leaves the field out, as a browser does for an unticked box.
    """
    stored = db.session.scalar(
        select(SignFormSettings.revision).where(SignFormSettings.appeal_id == appeal.id)
    )
    data = {f"mode_{name}": DEFAULT_MODES[name].value for name in BUILT_IN_FIELDS}
    data["revision"] = str(stored or 0)
    data.update(
        {
            "regions": ["RU-CE", "RU-DA"],
            "relationships": "mother\nfather\nsister",
            "questions-0-label": QUESTION,
            "questions-0-kind": "number",
            "questions-0-choices": "",
            "questions-0-private": None,
            "questions-0-required": "y",
            "confirm_email": None,
            "consent_text": "",
            "submit": "Save settings",
        }
    )
    data.update(overrides)
    return {key: value for key, value in data.items() if value is not None}


def settings_url(appeal):
    return f"/appeals/{appeal.id}/settings"


def count(model):
    return db.session.scalar(select(func.count()).select_from(model))


def stored_settings(appeal):
    db.session.expire_all()
    return db.session.get(SignFormSettings, appeal.id)


def the_question(appeal):
    [question] = stored_settings(appeal).questions
    return question


def public_page(client, appeal):
    response = client.get(f"/a/{appeal.slug}")
    assert response.status_code == 200
    return response.get_data(as_text=True)


@pytest.fixture
def owner(open_appeal, login):
    user = open_appeal.memberships[0].user
    login(user)
    return user


@pytest.fixture
def save(client, open_appeal, owner):
    """Post the settings form as the owner; the post must be accepted."""

    def post(**overrides):
        response = client.post(
            settings_url(open_appeal), data=settings_form(open_appeal, **overrides)
        )
        assert response.status_code == 302, response.get_data(as_text=True)
        assert response.headers["Location"].endswith(settings_url(open_appeal))
        return response

    return post


# The settings page


def test_the_page_shows_every_field_with_its_default_mode(client, open_appeal, owner):
    response = client.get(settings_url(open_appeal))

    assert response.status_code == 200
    page = Page(response.get_data(as_text=True))
    for name, mode in DEFAULT_MODES.items():
        assert page.option_values(f"mode_{name}") == ["off", "optional", "required"]
        assert page.selected(f"mode_{name}") == [mode.value], name
    assert set(DEFAULT_MODES) == set(BUILT_IN_FIELDS)
    assert page.lines("relationships") == DEFAULT_RELATIONSHIPS["en"]
    assert not [i for i in page.inputs if i.get("name") == "regions" and "checked" in i]
    assert "checked" not in page.input("confirm_email")
    assert page.input("questions-0-label").get("value", "") == ""
    assert "questions-1-label" not in page.names()
    assert count(SignFormSettings) == 0  # showing the defaults stores nothing


def test_saving_the_full_form_stores_every_setting(client, open_appeal, save):
    modes = {
        "mode_patronymic": "required",
        "mode_town": "off",
        "mode_phone": "optional",
        "mode_relative_location": "off",
    }

    response = save(**modes, consent_text=CONSENT, **{"questions-0-private": "y"})

    settings = stored_settings(open_appeal)
    expected = {name: mode.value for name, mode in DEFAULT_MODES.items()}
    expected.update({key.removeprefix("mode_"): value for key, value in modes.items()})
    assert settings.fields == expected
    assert sorted(settings.regions) == ["RU-CE", "RU-DA"]
    assert settings.relationships == ["mother", "father", "sister"]
    assert settings.confirm_email is False
    assert settings.consent_text == CONSENT
    [question] = settings.questions
    assert question.label == QUESTION
    assert question.kind is QuestionKind.number
    assert question.choices == []
    assert question.private is True and question.required is True
    assert question.position == 1

    # The page shows what was saved, with an empty row for a new question.
    shown = client.get(response.headers["Location"])
    html = shown.get_data(as_text=True)
    assert "The sign form settings are saved." in html
    page = Page(html)
    for name in BUILT_IN_FIELDS:
        assert page.selected(f"mode_{name}") == [expected[name]], name
    ticked = {i["value"] for i in page.inputs if i.get("name") == "regions" and "checked" in i}
    assert ticked == {"RU-CE", "RU-DA"}
    assert page.lines("relationships") == ["mother", "father", "sister"]
    assert page.input("questions-0-label")["value"] == QUESTION
    assert page.selected("questions-0-kind") == ["number"]
    assert "checked" in page.input("questions-0-private")
    assert "checked" in page.input("questions-0-required")
    assert page.input("questions-1-label").get("value", "") == ""
    assert CONSENT in page.textareas["consent_text"]["text"]


def test_saving_again_keeps_one_row_and_the_question(open_appeal, save):
    save()
    first_id = the_question(open_appeal).id

    save(
        **{
            "mode_town": "required",
            "questions-0-required": None,
            "questions-0-question_id": str(first_id),
        }
    )

    assert count(SignFormSettings) == 1
    question = the_question(open_appeal)
    assert question.id == first_id and question.required is False
    assert stored_settings(open_appeal).fields["town"] == "required"


def test_an_emptied_question_is_removed(open_appeal, save):
    save()

    save(**{"questions-0-label": ""})

    assert stored_settings(open_appeal).questions == []
    assert count(CustomQuestion) == 0


def test_no_region_ticked_offers_every_region(client, open_appeal, save):
    save(regions=None)

    assert stored_settings(open_appeal).regions is None
    offered = Page(public_page(client, open_appeal)).option_values("region")
    assert len(offered) > 80  # every subject of the federation
    assert {"RU-CE", "RU-DA", "RU-MOW", "other", ""} <= set(offered)


# What the public page then offers


def test_the_public_page_offers_only_the_chosen_regions_and_elsewhere(client, open_appeal, save):
    save()

    page = Page(public_page(client, open_appeal))

    assert sorted(page.option_values("region")) == sorted(["", "RU-CE", "RU-DA", "other"])
    options = {o["value"]: o["text"] for o in page.selects["region"]["options"]}
    assert options[""] == "Choose…"
    assert options["other"] == "Elsewhere"
    assert page.option_values("relationship") == ["", "mother", "father", "sister"]


def test_a_region_left_out_is_refused_when_signing(client, open_appeal, save, sign):
    save(**{"questions-0-label": ""})

    response = sign(open_appeal, region="RU-MOW")

    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert "Please correct the fields marked below." in html
    assert "Not a valid choice." in html
    assert count(Signature) == 0
    # A region that is offered goes through.
    assert sign(open_appeal, region="RU-DA").status_code == 302
    assert db.session.scalar(select(Signature.region)) == "RU-DA"


def test_the_public_page_follows_the_field_modes(client, open_appeal, save):
    save(mode_town="off", mode_relative_location="off", mode_phone="optional")

    html = public_page(client, open_appeal)
    page = Page(html)
    names = page.names()

    assert 'name="town"' not in html and "town" not in names
    assert "relative_location" not in names
    assert "phone" in names and not page.required("phone")
    assert "postal_address" not in names  # off by default
    question = the_question(open_appeal)
    assert QUESTION in html
    assert f"q{question.id}" in names


def test_required_fields_are_marked_required(client, open_appeal, save):
    save(mode_patronymic="required", mode_town="optional", mode_relative_name="required")

    page = Page(public_page(client, open_appeal))

    assert page.required("patronymic")
    assert page.required("relative_name")
    assert not page.required("town")
    assert page.required(f"q{the_question(open_appeal).id}")


def test_optional_question_is_not_marked_required(client, open_appeal, save):
    save(**{"questions-0-required": None})

    page = Page(public_page(client, open_appeal))

    assert not page.required(f"q{the_question(open_appeal).id}")


def test_signing_without_a_required_question_is_refused(client, open_appeal, save, sign):
    save(mode_town="off")
    question = the_question(open_appeal)

    refused = sign(open_appeal, town=None)

    assert refused.status_code == 200
    html = refused.get_data(as_text=True)
    assert "This field is required." in html
    assert "Please correct the fields marked below." in html
    assert count(Signature) == 0

    accepted = sign(open_appeal, town=None, **{f"q{question.id}": "7"})

    assert accepted.status_code == 302
    signature = db.session.scalar(select(Signature))
    assert signature.town == ""
    assert [(a.question_id, a.value) for a in signature.answers] == [(question.id, "7")]


def test_a_number_answer_of_nought_is_kept(client, open_appeal, save, sign):
    save(mode_town="off")
    question = the_question(open_appeal)

    assert sign(open_appeal, town=None, **{f"q{question.id}": "0"}).status_code == 302
    signature = db.session.scalar(select(Signature))
    assert [(a.question_id, a.value) for a in signature.answers] == [(question.id, "0")]


def test_a_required_field_left_empty_is_refused(client, open_appeal, save, sign):
    save(mode_patronymic="required", **{"questions-0-label": ""})

    response = sign(open_appeal, patronymic="")

    assert response.status_code == 200
    assert "This field is required." in response.get_data(as_text=True)
    assert count(Signature) == 0


def test_a_field_set_off_cannot_be_posted(client, open_appeal, save, sign):
    save(mode_town="off", **{"questions-0-label": ""})

    response = sign(open_appeal, town="Grozny")

    assert response.status_code == 400
    assert count(Signature) == 0


def test_a_private_answer_never_reaches_the_public_page(client, open_appeal, save, sign):
    secret = "Zx-private-answer-5521"
    save(**{"questions-0-kind": "text", "questions-0-private": "y"})
    question = the_question(open_appeal)
    assert question.private is True

    response = sign(open_appeal, display="full", **{f"q{question.id}": secret})

    assert response.status_code == 302
    assert db.session.scalar(select(SignatureAnswer.value)) == secret
    thanks = client.get(response.headers["Location"]).get_data(as_text=True)
    assert secret not in thanks
    html = public_page(client, open_appeal)
    assert "Madina Naloeva" in html  # the signature is listed, in full
    assert secret not in html


@pytest.mark.parametrize("private", [True, False])
def test_the_sign_form_says_which_questions_are_private(client, open_appeal, save, private):
    save(**{"questions-0-kind": "text", "questions-0-private": "y" if private else None})
    question = the_question(open_appeal)
    html = public_page(client, open_appeal)
    hint = f'<p class="hint" id="q{question.id}-hint">Private: seen only by the organisers'
    assert (hint in html) is private
    # The organisers' words are in the appeal's language, whatever the page's.
    assert f'<label for="q{question.id}" lang="{open_appeal.language}">' in html


def test_a_choice_question_offers_its_choices(client, open_appeal, save, sign):
    save(
        **{
            "questions-0-label": "Has the family been told where he is?",
            "questions-0-kind": "choice",
            "questions-0-choices": "Yes\n\nNo\nNot officially",
            "questions-0-required": None,
        }
    )
    question = the_question(open_appeal)
    assert question.kind is QuestionKind.choice
    assert question.choices == ["Yes", "No", "Not officially"]

    page = Page(public_page(client, open_appeal))

    assert page.option_values(f"q{question.id}") == ["", "Yes", "No", "Not officially"]
    refused = sign(open_appeal, **{f"q{question.id}": "Maybe"})
    assert refused.status_code == 200
    assert "Not a valid choice." in refused.get_data(as_text=True)
    assert count(Signature) == 0
    assert sign(open_appeal, **{f"q{question.id}": "Not officially"}).status_code == 302
    assert db.session.scalar(select(SignatureAnswer.value)) == "Not officially"


def test_confirm_email_makes_the_email_required(client, open_appeal, save, sign):
    save(mode_email="optional", confirm_email="y", **{"questions-0-label": ""})

    settings = stored_settings(open_appeal)
    assert settings.confirm_email is True
    assert settings.fields["email"] == "optional"  # her choice, for when confirmation is off
    page = Page(public_page(client, open_appeal))
    assert page.required("email")

    response = sign(open_appeal, email="")

    assert response.status_code == 200
    assert "Enter your email address." in response.get_data(as_text=True)
    assert count(Signature) == 0


def test_confirm_email_asks_for_the_email_even_when_set_off(client, open_appeal, save):
    save(mode_email="off", confirm_email="y", **{"questions-0-label": ""})

    assert stored_settings(open_appeal).fields["email"] == "off"
    assert Page(public_page(client, open_appeal)).required("email")


def test_confirmation_turned_off_gives_back_the_email_mode_chosen(client, open_appeal, save, sign):
    no_question = {"questions-0-label": ""}
    save(mode_email="optional", mode_phone="optional", confirm_email="y", **no_question)
    html = client.get(settings_url(open_appeal)).get_data(as_text=True)
    page = Page(html)
    # The page shows her own choice, and says what confirmation does to it.
    assert page.selected("mode_email") == ["optional"]
    assert "Required while signatures count only once confirmed by email" in html

    mode = page.selected("mode_email")[0]
    save(mode_email=mode, mode_phone="optional", confirm_email=None, **no_question)

    settings = stored_settings(open_appeal)
    assert settings.confirm_email is False and settings.fields["email"] == "optional"
    assert not Page(public_page(client, open_appeal)).required("email")
    assert sign(open_appeal, email="", phone="+7 928 000-00-00").status_code == 302
    assert count(Signature) == 1


def test_the_consent_text_is_shown_and_stored_with_the_signature(client, open_appeal, save, sign):
    save(consent_text=CONSENT, **{"questions-0-label": ""})

    assert CONSENT in public_page(client, open_appeal)
    assert sign(open_appeal).status_code == 302

    signature = db.session.scalar(select(Signature))
    assert signature.consent_text == CONSENT


# Refused settings


@pytest.mark.parametrize("choices", ["Only one", "", "Only one\n \n"], ids=["one", "none", "blank"])
def test_a_choice_question_needs_two_choices(client, open_appeal, owner, choices):
    data = settings_form(
        open_appeal, **{"questions-0-kind": "choice", "questions-0-choices": choices}
    )

    response = client.post(settings_url(open_appeal), data=data)

    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert "Give at least two choices, one per line." in html
    assert "Please correct the fields marked below." in html
    assert QUESTION in html  # what was typed is kept
    assert count(SignFormSettings) == 0
    assert count(CustomQuestion) == 0


def test_choices_with_hidden_characters_are_refused(client, open_appeal, owner):
    data = settings_form(
        open_appeal,
        **{"questions-0-kind": "choice", "questions-0-choices": "Yes\nNo\u202e"},
    )
    response = client.post(settings_url(open_appeal), data=data)
    html = response.get_data(as_text=True)
    assert "Remove the invisible or control characters from this field." in html
    assert QUESTION in html
    assert count(CustomQuestion) == 0


@pytest.mark.parametrize(
    ("field", "value", "limit"),
    [
        ("relationships", "mother\n" + "a" * 101, 100),
        ("questions-0-choices", "Yes\n" + "b" * 201, 200),
    ],
    ids=["relationship", "choice"],
)
def test_a_line_too_long_is_refused_and_kept(client, open_appeal, owner, field, value, limit):
    overrides = {"questions-0-kind": "choice", "questions-0-choices": "Yes\nNo", field: value}
    response = client.post(settings_url(open_appeal), data=settings_form(open_appeal, **overrides))
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert f"Keep each line to at most {limit} characters." in html
    assert value.split("\n")[1] in html  # what was typed is kept
    assert count(SignFormSettings) == 0 and count(CustomQuestion) == 0


def test_a_relationship_of_the_columns_length_is_signed_on_any_database(
    client, open_appeal, save, sign
):
    longest = "a" * 100
    save(relationships=f"mother\n{longest}", **{"questions-0-label": ""})
    assert sign(open_appeal, relationship=longest).status_code == 302
    assert db.session.scalar(select(Signature.relationship_)) == longest


@pytest.mark.parametrize("relationships", ["", " \n \n"], ids=["empty", "blank-lines"])
def test_relationships_cannot_be_empty(client, open_appeal, owner, relationships):
    response = client.post(
        settings_url(open_appeal), data=settings_form(open_appeal, relationships=relationships)
    )

    assert response.status_code == 200
    assert "Give at least one relationship." in response.get_data(as_text=True)
    assert count(SignFormSettings) == 0


@pytest.mark.parametrize(
    "overrides",
    [
        {"mode_town": "sometimes"},
        {"regions": ["RU-CE", "US-CA"]},
        {"questions-0-kind": "file"},
    ],
    ids=["unknown-mode", "foreign-region", "unknown-kind"],
)
def test_values_outside_the_choices_are_refused(client, open_appeal, owner, overrides):
    response = client.post(settings_url(open_appeal), data=settings_form(open_appeal, **overrides))

    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert "Please correct the fields marked below." in html
    # The field says what is wrong with it, not only the summary.
    assert re.search(r'<p class="error" id="[^"]+-error">[^<]+</p>', html)
    assert count(SignFormSettings) == 0


def test_add_a_question_adds_a_row_and_saves_nothing(client, open_appeal, owner):
    data = settings_form(open_appeal, add_question="Add a question", submit=None)

    response = client.post(settings_url(open_appeal), data=data)

    assert response.status_code == 200
    page = Page(response.get_data(as_text=True))
    assert page.input("questions-0-label")["value"] == QUESTION  # kept as typed
    assert page.input("questions-1-label").get("value", "") == ""
    assert "questions-2-label" not in page.names()
    assert count(SignFormSettings) == 0
    assert count(CustomQuestion) == 0


# Who may use the page


def test_an_editor_can_change_the_settings(client, make_user, make_appeal, login):
    editor = make_user()
    appeal = make_appeal(members={editor: Role.editor})
    login(editor)

    assert client.get(settings_url(appeal)).status_code == 200
    response = client.post(settings_url(appeal), data=settings_form(appeal, mode_town="required"))

    assert response.status_code == 302
    assert stored_settings(appeal).fields["town"] == "required"


def test_an_advocate_is_forbidden(client, make_user, make_appeal, login):
    advocate = make_user()
    appeal = make_appeal(members={advocate: Role.advocate})
    login(advocate)

    assert client.get(settings_url(appeal)).status_code == 403
    assert client.post(settings_url(appeal), data=settings_form(appeal)).status_code == 403
    assert count(SignFormSettings) == 0


def test_a_non_member_gets_not_found(client, make_user, make_appeal, login):
    appeal = make_appeal()
    login(make_user())

    assert client.get(settings_url(appeal)).status_code == 404
    assert client.post(settings_url(appeal), data=settings_form(appeal)).status_code == 404
    assert client.get("/appeals/999999/settings").status_code == 404
    assert count(SignFormSettings) == 0


def test_a_visitor_must_log_in(client, open_appeal):
    response = client.post(settings_url(open_appeal), data=settings_form(open_appeal))

    assert response.status_code == 302
    assert "/accounts/login" in response.headers["Location"]
    assert count(SignFormSettings) == 0


def test_the_page_carries_each_question_id(client, open_appeal, save):
    save()
    html = client.get(settings_url(open_appeal)).get_data(as_text=True)
    question_id = the_question(open_appeal).id
    assert f'name="questions-0-question_id" type="hidden" value="{question_id}"' in html


def test_an_answered_question_keeps_its_answers_when_edited_and_cannot_be_removed(
    client, open_appeal, save, sign
):
    save(**{"questions-0-kind": "text", "questions-0-required": None})
    question = the_question(open_appeal)
    assert sign(open_appeal, **{f"q{question.id}": "Rusafa, block 4"}).status_code == 302
    from campaign.signatures.models import SignatureAnswer

    renamed = save(
        **{
            "questions-0-kind": "text",
            "questions-0-label": "Which prison?",
            "questions-0-question_id": str(question.id),
        }
    )
    assert renamed.status_code == 302
    db.session.expire_all()
    assert the_question(open_appeal).id == question.id
    assert db.session.scalar(select(SignatureAnswer.value)) == "Rusafa, block 4"

    refused = client.post(
        settings_url(open_appeal),
        data=settings_form(
            open_appeal, **{"questions-0-label": "", "questions-0-question_id": str(question.id)}
        ),
    )
    html = refused.get_data(as_text=True)
    assert "already has answers: it can be edited but not removed." in html
    db.session.expire_all()
    assert the_question(open_appeal).label == "Which prison?"
    assert count(SignatureAnswer) == 1


def test_answers_given_as_private_are_never_made_public(client, open_appeal, save, sign):
    save(**{"questions-0-kind": "text", "questions-0-private": "y", "questions-0-required": None})
    question = the_question(open_appeal)
    assert sign(open_appeal, **{f"q{question.id}": "Rusafa, block 4"}).status_code == 302

    refused = client.post(
        settings_url(open_appeal),
        data=settings_form(
            open_appeal,
            **{
                "questions-0-kind": "text",
                "questions-0-private": None,
                "questions-0-question_id": str(question.id),
                "consent_text": "Changed meanwhile",
            },
        ),
    )
    html = refused.get_data(as_text=True)
    assert "already has answers given for the organisers only: it cannot be made public." in html
    assert "Changed meanwhile" in html  # what was typed is kept
    assert the_question(open_appeal).private
    assert stored_settings(open_appeal).consent_text != "Changed meanwhile"  # nothing stored
    # Private it stays editable; and an unanswered one may be made public.
    save(
        **{
            "questions-0-kind": "text",
            "questions-0-private": "y",
            "questions-0-label": "Where is he held?",
            "questions-0-question_id": str(question.id),
        }
    )
    assert the_question(open_appeal).label == "Where is he held?"


# Two organisers at once


def saved_elsewhere(appeal, **changes):
    """A co-organiser saves the settings, from a page showing them as they are now."""
    settings = sign_form_settings(appeal)
    data = SettingsData(
        modes={name: chosen_mode(settings, name) for name in BUILT_IN_FIELDS},
        regions=settings.regions,
        relationships=settings.relationships,
        confirm_email=settings.confirm_email,
        consent_text=changes.get("consent_text", settings.consent_text),
        questions=[],
    )
    save_sign_form_settings(appeal, data, seen_revision=settings.revision)
    db.session.commit()


def test_settings_saved_meanwhile_are_not_overwritten(client, open_appeal, owner):
    page = Page(client.get(settings_url(open_appeal)).get_data(as_text=True))
    assert page.input("revision")["value"] == "0"
    saved_elsewhere(open_appeal, consent_text="Their consent text.")
    mine = settings_form(open_appeal, consent_text="My consent text.", revision="0")
    response = client.post(settings_url(open_appeal), data=mine)
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "Not saved: someone saved the sign form settings after this page showed them." in html
    assert "My consent text.</textarea>" in html
    db.session.expire_all()
    assert sign_form_settings(open_appeal).consent_text == "Their consent text."

    # Sent again from that page, which now shows their revision, it replaces theirs.
    again = {**mine, "revision": Page(html).input("revision")["value"]}
    assert client.post(settings_url(open_appeal), data=again).status_code == 302
    db.session.expire_all()
    assert (
        sign_form_settings(open_appeal).consent_text,
        sign_form_settings(open_appeal).revision,
    ) == (
        "My consent text.",
        2,
    )


@pytest.mark.parametrize("revision", [None, "", "x", "5"])
def test_settings_without_a_true_revision_are_not_saved(client, open_appeal, owner, revision):
    data = settings_form(open_appeal, consent_text="My consent text.", revision=revision)
    html = client.post(settings_url(open_appeal), data=data).get_data(as_text=True)
    assert "Not saved: someone saved the sign form settings" in html
    assert count(SignFormSettings) == 0


def test_two_first_saves_at_once_keep_the_first(app, open_appeal):
    # Neither sees a stored row: the second insert meets the first one's primary key.
    appeal_id = open_appeal.id

    def save(consent_text):
        def operation():
            appeal = db.session.get(Appeal, appeal_id)
            data = SettingsData(
                modes=dict(DEFAULT_MODES),
                regions=None,
                relationships=list(sign_form_settings(appeal).relationships),
                confirm_email=False,
                consent_text=consent_text,
                questions=[],
            )
            save_sign_form_settings(appeal, data, seen_revision=0)

        return operation

    outcomes = while_the_first_holds(app, save("first"), save("second"), refused=SettingsChanged)
    assert outcomes == ("done", "refused")
    assert db.session.scalars(select(SignFormSettings.consent_text)).all() == ["first"]


@pytest.fixture
def meanwhile(monkeypatch):
    """Have an organiser's change committed after the sign form was read, before the signature
    is stored; return what undoes the patch."""
    from campaign.signatures import sign_views as views

    real = views.sign_appeal

    def patch(change):
        def changed_then_signed(appeal, data, **kwargs):
            change()
            db.session.commit()
            return real(appeal, data, **kwargs)

        monkeypatch.setattr(views, "sign_appeal", changed_then_signed)
        return lambda: monkeypatch.setattr(views, "sign_appeal", real)

    return patch


def test_a_question_removed_while_she_signs_refuses_rather_than_pretends(
    client, open_appeal, save, sign, meanwhile
):
    save(**{"questions-0-kind": "text", "questions-0-required": None})
    question = the_question(open_appeal)
    restore = meanwhile(lambda: db.session.delete(db.session.get(CustomQuestion, question.id)))
    response = sign(open_appeal, **{f"q{question.id}": "An answer"})
    html = response.get_data(as_text=True)
    assert response.status_code == 409
    assert "The organisers changed the form while you were filling it in" in html
    assert 'value="Grozny"' in html and 'value="Naloeva"' in html
    assert count(Signature) == 0 and count(SignatureAnswer) == 0
    restore()
    assert sign(open_appeal).status_code == 302


def made_public(appeal_id, question_id):
    """A co-organiser's save that unticks "private" on the question, from a fresh page."""

    def operation():
        appeal = db.session.get(Appeal, appeal_id)
        settings = sign_form_settings(appeal)
        [question] = settings.questions
        data = SettingsData(
            modes={name: chosen_mode(settings, name) for name in BUILT_IN_FIELDS},
            regions=settings.regions,
            relationships=settings.relationships,
            confirm_email=False,
            consent_text=settings.consent_text,
            questions=[QuestionData(question.label, "text", [], False, False, question_id)],
        )
        save_sign_form_settings(appeal, data, seen_revision=settings.revision)

    return operation


def answered_in_private(appeal_id, question_id):
    """A signer's answer to the question, given while her form showed it as private."""

    def operation():
        appeal = db.session.get(Appeal, appeal_id)
        data = SignData(
            surname="Naloeva",
            given_name="Madina",
            answers={question_id: "Zx-private-answer"},
            private_questions=frozenset({question_id}),
        )
        sign_appeal(appeal, data, consent="", confirm_within=None)

    return operation


@pytest.mark.parametrize("answer_first", [True, False], ids=["answer-first", "save-first"])
def test_an_answer_given_in_private_never_ends_up_public(app, open_appeal, save, answer_first):
    # Whichever of the two transactions writes first, the other one is refused.
    save(**{"questions-0-kind": "text", "questions-0-private": "y", "questions-0-required": None})
    ids = (open_appeal.id, the_question(open_appeal).id)
    first, second = answered_in_private(*ids), made_public(*ids)
    if not answer_first:
        first, second = second, first
    outcomes = while_the_first_holds(app, first, second, refused=(AnswersStayPrivate, FormChanged))
    assert outcomes == ("done", "refused")
    db.session.expire_all()
    # The answer stayed with a private question, or neither the answer nor her signature
    # was stored.
    assert the_question(open_appeal).private is answer_first
    assert count(SignatureAnswer) == count(Signature) == (1 if answer_first else 0)


def test_a_question_made_public_after_her_page_showed_it_refuses_her_answer(
    client, open_appeal, save, sign, meanwhile
):
    save(**{"questions-0-kind": "text", "questions-0-private": "y", "questions-0-required": None})
    question = the_question(open_appeal)
    meanwhile(lambda: setattr(db.session.get(CustomQuestion, question.id), "private", False))
    response = sign(open_appeal, **{f"q{question.id}": "Zx-private-answer"})
    html = response.get_data(as_text=True)
    assert response.status_code == 409
    assert "The organisers changed the form while you were filling it in" in html
    # The form as it is now: public, and it says so.
    hint = re.search(rf'<p class="hint" id="q{question.id}-hint">([^<]*)</p>', html).group(1)
    assert hint.startswith("Shown in public beside your name or initials")
    assert 'value="Zx-private-answer"' in html  # what she typed, for her to decide
    assert count(Signature) == 0 and count(SignatureAnswer) == 0
