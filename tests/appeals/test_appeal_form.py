"""Creating and editing appeals through the form: good input, and every kind of bad input."""

from datetime import timedelta

import pytest
from sqlalchemy import func, select

from campaign.appeals.models import Addressee, Appeal
from campaign.clock import today
from campaign.extensions import db


def form_data(**overrides):
    data = {
        "title": "Return our relatives home",
        "slug": "",
        "language": "en",
        "country": "RU",
        "addressees-0-name": "Vladimir Putin",
        "addressees-0-office": "President of the Russian Federation",
        "body": "We ask that our relatives be returned.\n\nThey should be tried at home.",
        "closing": "Respectfully, the families",
        "representative_name": "Madina Naloeva",
        "representative_address": "Grozny, PO Box 1",
        "goal": "",
        "deadline": "",
        "submit": "Save draft",
    }
    data.update(overrides)
    return data


def current_revision(appeal):
    return db.session.scalar(select(Appeal.draft_revision).where(Appeal.id == appeal.id))


def edit_data(appeal, **overrides):
    """The edit form as sent from a page showing the draft as it is now."""
    return form_data(draft_revision=str(current_revision(appeal)), **overrides)


def publish_data(appeal):
    """The publish button as sent from a page showing the draft as it is now."""
    return {"draft_revision": str(current_revision(appeal))}


def appeal_count():
    return db.session.scalar(select(func.count()).select_from(Appeal))


@pytest.fixture
def organiser(make_user, login):
    user = make_user()
    login(user)
    return user


def test_create_appeal(client, organiser):
    response = client.post("/appeals/new", data=form_data(goal="500"))
    assert response.status_code == 302
    appeal = db.session.scalar(select(Appeal))
    assert response.headers["Location"].endswith(f"/appeals/{appeal.id}/")
    assert (appeal.slug, appeal.goal, appeal.status.value) == (
        "return-our-relatives-home",
        500,
        "draft",
    )
    assert [(a.name, a.office) for a in appeal.addressees] == [
        ("Vladimir Putin", "President of the Russian Federation")
    ]
    assert appeal.representative_address == "Grozny, PO Box 1"


def test_cyrillic_title_gets_transliterated_slug(client, organiser):
    client.post("/appeals/new", data=form_data(title="Письмо матерей Дагестана"))
    assert db.session.scalar(select(Appeal.slug)) == "pismo-materei-dagestana"


def test_add_addressee_button_adds_a_row_and_saves_nothing(client, organiser):
    data = form_data(add_addressee="Add an addressee")
    del data["submit"]
    response = client.post("/appeals/new", data=data)
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert 'name="addressees-1-name"' in html
    assert "Vladimir Putin" in html
    assert appeal_count() == 0


def test_several_addressees_in_order(client, organiser):
    client.post(
        "/appeals/new",
        data=form_data(
            **{"addressees-1-name": "Tatiana Moskalkova", "addressees-1-office": "Ombudsman"}
        ),
    )
    names = db.session.scalars(select(Addressee.name).order_by(Addressee.position)).all()
    assert names == ["Vladimir Putin", "Tatiana Moskalkova"]


BAD_INPUT = [
    ({"title": ""}, "Give the appeal a title."),
    ({"title": "x" * 300}, "Use at most 200 characters."),
    ({"body": "x" * 50_001}, "The letter is too long: at most 50000 characters."),
    ({"slug": "Not A Slug!"}, "Use 3 to 80 lower-case latin letters, digits and single hyphens."),
    ({"slug": "ab"}, "Use 3 to 80 lower-case latin letters, digits and single hyphens."),
    (
        {"deadline": (today() - timedelta(days=1)).isoformat()},
        "The deadline cannot be in the past.",
    ),
    ({"goal": "-5"}, "Enter a whole number from 1 upwards."),
    ({"goal": "0"}, "Enter a whole number from 1 upwards."),
    ({"goal": "lots"}, "Not a valid integer value."),
    ({"language": "xx"}, "Not a valid choice."),
    ({"country": "ZZ"}, "Not a valid choice."),
    ({"country": "US", "time_zone": "Europe/Moscow"}, "Choose one of the time zones of the app"),
    ({"time_zone": "Mars/Olympus"}, "Choose one of the time zones of the appeal"),
    ({"addressees-0-name": "", "addressees-0-office": ""}, "Name at least one addressee."),
    (
        {"addressees-0-name": "", "addressees-0-office": "President"},
        "Give the name of the person holding this office.",
    ),
    ({"title": "Hidden\u202echaracters"}, "Remove the invisible or control characters"),
    # A line break in the title would reach every mail's Subject header.
    ({"title": "Our appeal\nBcc: someone@example.org"}, "Keep this field on one line."),
    ({"title": "Our appeal\u2028Bcc"}, "Keep this field on one line."),
    ({"addressees-0-name": "The\nPresident"}, "Keep this field on one line."),
    ({"closing": "With\u00ad respect"}, "Remove the invisible or control characters"),
    ({"closing": "With\u200b respect"}, "Remove the invisible or control characters"),
    ({"representative_name": "Madina Naloeva\x00"}, "Remove the invisible or control characters"),
    ({"representative_address": "Grozny\u202e"}, "Remove the invisible or control characters"),
]


@pytest.mark.parametrize(("overrides", "message"), BAD_INPUT)
def test_bad_input_is_refused_with_message_and_kept(client, organiser, overrides, message):
    data = form_data(**overrides)
    response = client.post("/appeals/new", data=data)
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert message in html
    assert "Please correct the fields marked below." in html
    # What was typed is still there (the body is long, so check its start).
    assert "Madina Naloeva" in html
    assert data["body"][:40] in html
    assert appeal_count() == 0


def test_bad_input_message_in_russian(client, organiser):
    response = client.post(
        "/appeals/new", data=form_data(title=""), headers={"Accept-Language": "ru"}
    )
    html = response.get_data(as_text=True)
    assert '<html lang="ru">' in html
    assert "Give the appeal a title." not in html


def test_duplicate_slug_is_refused(client, organiser, make_appeal):
    make_appeal(owner=organiser, slug="our-letter")
    response = client.post("/appeals/new", data=form_data(slug="our-letter"))
    html = response.get_data(as_text=True)
    assert "Another appeal already uses this address." in html
    assert 'value="our-letter"' in html
    assert appeal_count() == 1


def test_editing_keeps_an_old_deadline_but_refuses_a_new_past_one(client, organiser, make_appeal):
    appeal = make_appeal(owner=organiser)
    past = today() - timedelta(days=3)
    appeal.deadline = past
    db.session.commit()
    ok = client.post(
        f"/appeals/{appeal.id}/edit",
        data=edit_data(appeal, title="New title", deadline=past.isoformat()),
    )
    assert ok.status_code == 302
    other = (today() - timedelta(days=1)).isoformat()
    refused = client.post(f"/appeals/{appeal.id}/edit", data=edit_data(appeal, deadline=other))
    assert "The deadline cannot be in the past." in refused.get_data(as_text=True)
    db.session.expire_all()
    assert (appeal.title, appeal.deadline) == ("New title", past)


def test_edit_slug_to_another_appeals_slug_is_refused(client, organiser, make_appeal):
    make_appeal(owner=organiser, slug="first-appeal")
    second = make_appeal(owner=organiser, slug="second-appeal")
    response = client.post(
        f"/appeals/{second.id}/edit", data=edit_data(second, slug="first-appeal")
    )
    assert "Another appeal already uses this address." in response.get_data(as_text=True)
    db.session.expire_all()
    assert second.slug == "second-appeal"


def test_dangerous_markup_in_the_body_is_shown_inert(client, organiser):
    body = (
        "<script>alert('x')</script>\n\n"
        "[click](javascript:alert(1))\n\n"
        "![tracker](https://tracker.example/pixel.png)\n\n"
        '<img src="https://tracker.example/a.png" onerror="alert(1)">\n\n'
        "[safe](https://example.org/ok)"
    )
    client.post("/appeals/new", data=form_data(body=body))
    appeal = db.session.scalar(select(Appeal))
    html = client.get(f"/appeals/{appeal.id}/preview").get_data(as_text=True)
    letter = html.split('class="letter-body">', 1)[1].split("</div>", 1)[0]
    assert "<script>" not in letter and "&lt;script&gt;" in letter
    assert "javascript:" not in letter.replace("[click](javascript:alert(1))", "")
    assert 'href="javascript' not in letter
    assert "<img" not in letter and "&lt;img" in letter
    assert "tracker.example/pixel.png" not in letter
    assert "tracker" in letter  # the image's description stays as text
    assert '<a href="https://example.org/ok" rel="nofollow noopener noreferrer">safe</a>' in letter


def test_a_new_appeal_starts_in_the_sites_zone_and_keeps_the_one_chosen(client, organiser):
    page = client.get("/appeals/new", headers={"Accept-Language": "ru"}).get_data(as_text=True)
    assert '<option selected value="Europe/Moscow">Москва (UTC+03:00)</option>' in page
    client.post("/appeals/new", data=form_data(time_zone="Asia/Vladivostok"))
    assert db.session.scalar(select(Appeal.time_zone)) == "Asia/Vladivostok"


def test_a_country_with_one_zone_needs_no_choosing(client, organiser):
    # The page showed Russia's zones; France was chosen in the same form.
    client.post("/appeals/new", data=form_data(country="FR", time_zone="Europe/Moscow"))
    assert db.session.scalar(select(Appeal.time_zone)) == "Europe/Paris"


def test_a_country_of_several_zones_offers_its_own_after_a_change(client, organiser):
    refused = client.post("/appeals/new", data=form_data(country="US", time_zone="Europe/Moscow"))
    html = refused.get_data(as_text=True)
    assert 'value="America/New_York"' in html and 'value="Europe/Moscow"' not in html
    assert appeal_count() == 0
    client.post("/appeals/new", data=form_data(country="US", time_zone="America/New_York"))
    assert db.session.scalar(select(Appeal.time_zone)) == "America/New_York"


def test_form_page_in_russian_names_countries_in_russian(client, organiser):
    html = client.get("/appeals/new", headers={"Accept-Language": "ru"}).get_data(as_text=True)
    assert "Российская Федерация" in html
    html = client.get("/appeals/new", headers={"Accept-Language": "en"}).get_data(as_text=True)
    assert "Russian Federation" in html


def test_a_published_appeals_former_address_stays_its_own(client, organiser, make_appeal):
    from campaign.appeals.operations import publish_appeal

    appeal = make_appeal(owner=organiser, slug="first-address")
    publish_appeal(appeal, organiser, seen_revision=appeal.draft_revision)
    db.session.commit()
    moved = client.post(f"/appeals/{appeal.id}/edit", data=edit_data(appeal, slug="second-address"))
    assert moved.status_code == 302
    db.session.expire_all()
    assert appeal.slug == "second-address"
    assert [a.slug for a in appeal.former_addresses] == ["first-address"]
    shown = client.get(f"/appeals/{appeal.id}/").get_data(as_text=True)
    assert "Former addresses, still leading here:" in shown
    assert "/a/first-address</code>" in shown

    # Posters and links carry the old address: no other appeal may take it.
    response = client.post("/appeals/new", data=form_data(slug="first-address"))
    html = response.get_data(as_text=True)
    assert "Another appeal already uses this address." in html
    assert 'value="first-address"' in html
    assert appeal_count() == 1

    # The appeal itself may move back; then the second address is the one kept.
    back = client.post(f"/appeals/{appeal.id}/edit", data=edit_data(appeal, slug="first-address"))
    assert back.status_code == 302
    db.session.expire_all()
    assert appeal.slug == "first-address"
    assert [a.slug for a in appeal.former_addresses] == ["second-address"]


def test_a_drafts_former_address_is_free_again(client, organiser, make_appeal):
    draft = make_appeal(owner=organiser, slug="draft-address")
    client.post(f"/appeals/{draft.id}/edit", data=edit_data(draft, slug="better-address"))
    db.session.expire_all()
    assert (draft.slug, draft.former_addresses) == ("better-address", [])
    created = client.post("/appeals/new", data=form_data(slug="draft-address"))
    assert created.status_code == 302
    assert appeal_count() == 2


def test_the_time_zone_stays_once_the_appeal_has_signatures(client, organiser, make_appeal):
    from campaign.appeals.operations import publish_appeal
    from campaign.signatures.operations import SignData, sign_appeal

    appeal = make_appeal(owner=organiser)
    publish_appeal(appeal, organiser, seen_revision=appeal.draft_revision)
    db.session.commit()
    moved = edit_data(appeal, time_zone="Asia/Vladivostok")
    assert client.post(f"/appeals/{appeal.id}/edit", data=moved).status_code == 302
    db.session.expire_all()
    assert appeal.time_zone == "Asia/Vladivostok"  # no signature yet: it may change
    sign_appeal(appeal, SignData(surname="A", given_name="B"), consent="", confirm_within=None)
    db.session.commit()
    back = edit_data(appeal, time_zone="Europe/Moscow")
    refused = client.post(f"/appeals/{appeal.id}/edit", data=back)
    html = refused.get_data(as_text=True)
    assert "The time zone cannot change once the appeal has signatures." in html
    db.session.expire_all()
    assert appeal.time_zone == "Asia/Vladivostok"
    kept = edit_data(appeal, time_zone="Asia/Vladivostok", closing="Changed closing")
    assert client.post(f"/appeals/{appeal.id}/edit", data=kept).status_code == 302
