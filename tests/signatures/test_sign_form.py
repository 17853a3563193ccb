"""The family journey through the test client, and every kind of bad input on the sign form."""

import re
import struct
import zlib
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from campaign.appeals.models import AppealStatus
from campaign.appeals.operations import AddresseeData, AppealData, publish_appeal, update_appeal
from campaign.clock import today
from campaign.extensions import db
from campaign.signatures.models import (
    Display,
    FieldMode,
    Signature,
    SignatureImage,
    SignatureStatus,
)
from campaign.signatures.settings import save_sign_form_settings, sign_form_settings
from tests.mailbox import body as body_of
from tests.mailbox import mails as messages
from tests.signatures.conftest import data_url, form_values, png_bytes


def stored():
    return db.session.scalar(select(func.count()).select_from(Signature))


def count_on_page(client, appeal):
    html = client.get(f"/a/{appeal.slug}").get_data(as_text=True)
    return int(re.search(r'<p class="count"><strong>(\d+)</strong>', html).group(1))


def set_confirm(appeal, on=True, **modes):
    settings = sign_form_settings(appeal)
    from campaign.signatures.fields import BUILT_IN_FIELDS
    from campaign.signatures.settings import SettingsData, chosen_mode

    save_sign_form_settings(
        appeal,
        SettingsData(
            modes={
                name: modes.get(name) or chosen_mode(settings, name) for name in BUILT_IN_FIELDS
            },
            regions=settings.regions,
            relationships=settings.relationships,
            confirm_email=on,
            consent_text=settings.consent_text,
            questions=[],
        ),
        seen_revision=sign_form_settings(appeal).revision,
    )
    db.session.commit()


def publish_a_second_text(appeal):
    """Publish version 2 of the appeal, its letter "A second text of the letter."."""
    update_appeal(
        appeal,
        AppealData(
            title=appeal.title,
            language=appeal.language,
            addressees=tuple(AddresseeData(a.name, a.office) for a in appeal.addressees),
            body="A second text of the letter.",
        ),
        seen_revision=appeal.draft_revision,
    )
    publish_appeal(appeal, appeal.memberships[0].user, seen_revision=appeal.draft_revision)
    db.session.commit()


def test_family_journey_sign_count_withdraw(client, open_appeal, sign, outbox):
    assert count_on_page(client, open_appeal) == 0
    response = sign(open_appeal)
    assert response.status_code == 302
    thanks = client.get(response.headers["Location"]).get_data(as_text=True)
    withdraw_url = re.search(r'value="(http[^"]+/withdraw/[^"]+)"', thanks).group(1)
    assert count_on_page(client, open_appeal) == 1

    signature = db.session.scalar(select(Signature))
    assert signature.status is SignatureStatus.valid
    assert signature.version_id == open_appeal.latest_version.id
    assert signature.consent_text.startswith("I consent") and signature.consent_at
    assert signature.image.png.startswith(b"\x89PNG")
    page = client.get(f"/a/{open_appeal.slug}").get_data(as_text=True)
    assert "Madina Naloeva" in page

    # The withdrawal link was emailed too, and the thank-you page shows it only once.
    [sent] = messages(outbox)
    assert sent["To"] == "madina@example.org" and withdraw_url in body_of(sent)
    assert "withdraw" not in client.get(response.headers["Location"]).headers.get("Location", "x")

    path = withdraw_url.split("campaign.test", 1)[1]
    ask = client.get(path).get_data(as_text=True)
    assert "Withdraw my signature" in ask
    assert stored() == 1 and count_on_page(client, open_appeal) == 1  # GET changes nothing
    done = client.post(path)
    assert "Your signature is withdrawn" in done.get_data(as_text=True)
    assert count_on_page(client, open_appeal) == 0

    db.session.expire_all()
    withdrawn = db.session.scalar(select(Signature))
    assert withdrawn.status is SignatureStatus.withdrawn
    for value in ("Naloeva", "Madina", "Grozny", "Islam", "Rusafa", "madina@example.org"):
        row = " ".join(str(v) for v in vars(withdrawn).values())
        assert value not in row
    assert db.session.scalar(select(func.count()).select_from(SignatureImage)) == 0
    assert client.post(path).status_code == 404  # the link works once


def test_email_confirmation_journey(client, open_appeal, sign, outbox):
    set_confirm(open_appeal)
    response = sign(open_appeal, follow=True)
    assert "We have sent you an email" in response.get_data(as_text=True)
    assert count_on_page(client, open_appeal) == 0  # pending is not counted
    [sent] = messages(outbox)
    confirm = re.search(r"http\S+/confirm/\S+", body_of(sent)).group(0)
    path = confirm.split("campaign.test", 1)[1]
    # Following the link (a mail scanner does) shows a button and confirms nothing.
    page = client.get(path).get_data(as_text=True)
    assert "Confirm my signature" in page
    # It shows how she will appear in public, and nothing more: it may not be her reading.
    assert "it appears in the public list as: Madina Naloeva, " in page
    for private in ("Islam Naloev", "Rusafa", "Grozny", "madina@example.org"):
        assert private not in page
    assert count_on_page(client, open_appeal) == 0
    assert db.session.scalar(select(Signature.status)) is SignatureStatus.pending
    assert "Signature confirmed" in client.post(path).get_data(as_text=True)
    assert count_on_page(client, open_appeal) == 1
    for again in (client.get(path), client.post(path)):
        assert again.status_code == 404
        assert "This link cannot be used" in again.get_data(as_text=True)
    assert count_on_page(client, open_appeal) == 1


def test_expired_confirmation_link_is_refused_and_pending_signatures_are_purged(
    client, open_appeal, sign, outbox
):
    set_confirm(open_appeal)
    sign(open_appeal)
    confirm = re.search(r"http\S+/confirm/\S+", body_of(messages(outbox)[0])).group(0)
    signature = db.session.scalar(select(Signature))
    signature.confirm_expires_at = signature.created_at - timedelta(seconds=1)
    db.session.commit()
    expired_id = signature.id
    path = confirm.split("campaign.test", 1)[1]
    assert client.get(path).status_code == 404 and client.post(path).status_code == 404
    assert count_on_page(client, open_appeal) == 0
    # Another signer's signing leaves it to the purge command (no write before hers)...
    sign(open_appeal, email="other@example.org", surname="Other")
    db.session.expire_all()
    assert len(db.session.scalars(select(Signature)).all()) == 2
    # ...and she can sign again: her expired one goes, not counted as her signing twice.
    sign(open_appeal)
    db.session.expire_all()
    pending = db.session.scalars(select(Signature).order_by(Signature.id)).all()
    assert [s.surname for s in pending] == ["Other", pending[1].surname]
    assert pending[1].id != expired_id
    assert pending[1].confirm_expires_at > pending[1].created_at


def without_tokens(html):
    """A page without its CSRF tokens (each is signed with the second it was made in)."""
    return re.sub(r'name="csrf_token" type="hidden" value="[^"]+"', "", html)


def withdraw_path(message):
    url = re.search(r"http\S+/withdraw/\S+", body_of(message)).group(0)
    return url.split("campaign.test", 1)[1]


def confirm_path(message):
    return re.search(r"http\S+/confirm/\S+", body_of(message)).group(0).split("campaign.test", 1)[1]


def test_signing_again_while_unconfirmed_mails_a_new_link(client, open_appeal, sign, outbox):
    set_confirm(open_appeal)
    first = sign(open_appeal, follow=True).get_data(as_text=True)
    # Her mail did not come: she signs again from a new page view, with the same address.
    again = sign(open_appeal, email="Madina+again@Example.org", display="initials", follow=True)
    strip = lambda html: without_tokens(re.sub(r"/withdraw/[^\"]+", "", html))  # noqa: E731
    assert strip(again.get_data(as_text=True)) == strip(first)  # nothing tells the two apart
    old, new = messages(outbox)
    assert new["To"] == "madina@example.org"  # the address her signature gave
    assert new["Subject"].startswith("Confirm your signature")
    assert "has not been confirmed yet" in body_of(new)
    assert "The links sent before no longer work" in body_of(new)
    assert "Your signature keeps the details given the first time" in body_of(new)
    assert client.post(confirm_path(old)).status_code == 404
    assert client.get(withdraw_path(old)).status_code == 404
    # The page shows what she confirms: what was typed first.
    page = client.get(confirm_path(new)).get_data(as_text=True)
    assert "it appears in the public list as: Madina Naloeva" in page  # in full, as first
    assert "Signature confirmed" in client.post(confirm_path(new)).get_data(as_text=True)
    assert stored() == 1 and count_on_page(client, open_appeal) == 1
    assert db.session.scalar(select(Signature.display)) is Display.full
    # The new mail's withdrawal link works until a confirmed signer, told she signed, is
    # given another one.
    assert client.get(withdraw_path(new)).status_code == 200
    sign(open_appeal)
    latest = messages(outbox)[-1]
    assert (
        "already signed" in latest["Subject"] and client.get(withdraw_path(new)).status_code == 404
    )
    assert "Your signature is withdrawn" in client.post(withdraw_path(latest)).get_data(
        as_text=True
    )
    assert count_on_page(client, open_appeal) == 0


def test_a_phone_number_alone_does_not_bring_a_new_link(app, open_appeal):
    from campaign.signatures.operations import SignData, sign_appeal

    def data(email):
        return SignData(surname="Naloeva", given_name="Madina", email=email, phone="+79281234567")

    week = timedelta(days=7)
    sign_appeal(open_appeal, data("madina@example.org"), consent="", confirm_within=week)
    # Someone who knows her number (not her mailbox) gets no link to confirm her signature.
    outcome = sign_appeal(open_appeal, data("other@example.org"), consent="", confirm_within=week)
    assert outcome.duplicate and outcome.confirm_token is None


def test_signing_again_after_the_link_expired_signs_anew(client, open_appeal, sign, outbox):
    set_confirm(open_appeal)
    sign(open_appeal)
    signature = db.session.scalar(select(Signature))
    signature.confirm_expires_at = signature.created_at - timedelta(seconds=1)
    db.session.commit()
    sign(open_appeal, surname="Naloyeva")
    db.session.expire_all()
    assert [s.surname for s in db.session.scalars(select(Signature))] == ["Naloyeva"]
    _expired, new = messages(outbox)
    assert "To confirm your signature" in body_of(new)
    assert "Signature confirmed" in client.post(confirm_path(new)).get_data(as_text=True)


def test_repeated_signer_sees_the_same_page_and_gets_an_email(client, open_appeal, sign, outbox):
    first = client.get(sign(open_appeal).headers["Location"]).get_data(as_text=True)
    second_response = sign(
        open_appeal, email="Madina+again@Example.org", surname="NALOEVA", town="Argun"
    )
    second = client.get(second_response.headers["Location"]).get_data(as_text=True)

    def strip(html):  # her link, and the language switcher's token (signed with the second)
        return without_tokens(re.sub(r"/withdraw/[^\"]+", "", html))

    assert strip(first) == strip(second)
    assert stored() == 1 and count_on_page(client, open_appeal) == 1
    sent = messages(outbox)
    assert len(sent) == 2
    assert any("already signed" in m["Subject"] for m in sent)
    assert sent[-1]["To"] == "madina@example.org"  # the address her signature gave
    # It carries a new withdrawal link (she may have lost hers); the one before stops working.
    assert "The withdrawal link given before no longer works" in body_of(sent[-1])
    assert client.get(withdraw_path(sent[0])).status_code == 404
    assert "Your signature is withdrawn" in client.post(withdraw_path(sent[-1])).get_data(
        as_text=True
    )
    assert count_on_page(client, open_appeal) == 0


def test_a_repeat_whose_mail_cannot_be_stored_keeps_her_link(
    client, open_appeal, sign, outbox, monkeypatch
):
    sign(open_appeal)
    from campaign.signatures import sign_views

    def refuse(*_args, **_kwargs):
        raise RuntimeError("mail store down")

    monkeypatch.setattr(sign_views, "queue_mail", refuse)
    assert sign(open_appeal, surname="NALOEVA").status_code == 302
    first = messages(outbox)[0]
    assert client.get(withdraw_path(first)).status_code == 200  # not renewed for nothing


def test_relatives_sharing_a_mailbox_or_a_phone_each_sign(client, open_appeal, sign, outbox):
    # An elderly mother signs on her daughter's phone, with her daughter's address.
    sign(open_appeal)
    sign(
        open_appeal,
        given_name="Khadizhat",
        relationship="mother",
        signature=data_url(png_bytes(310)),
    )
    assert stored() == 2 and count_on_page(client, open_appeal) == 2
    daughters, mothers = messages(outbox)
    for sent in (daughters, mothers):
        assert sent["To"] == "madina@example.org"
        assert sent["Subject"].startswith("Thank you for signing")
    assert withdraw_path(daughters) != withdraw_path(mothers)
    assert "Your signature is withdrawn" in client.post(withdraw_path(mothers)).get_data(
        as_text=True
    )
    assert stored() == 2 and count_on_page(client, open_appeal) == 1


def test_someone_who_knows_her_number_and_name_learns_nothing_by_mail(
    client, open_appeal, sign, outbox
):
    set_confirm(open_appeal, on=False, phone=FieldMode.optional)
    sign(open_appeal, phone="+7 928 123 45 67")
    assert len(messages(outbox)) == 1
    # Her name, her number, and his own address: the page thanks him, and no mail says
    # that she had signed.
    response = sign(open_appeal, phone="8 (928) 123-45-67", email="curious@example.org")
    assert response.status_code == 302
    assert stored() == 1
    assert [m["To"] for m in messages(outbox)] == ["madina@example.org"]


@pytest.mark.parametrize("variant", ["m.a.d.i.n.a@gmail.com", "Madina+petition@googlemail.com"])
def test_gmail_spellings_count_as_one_signer(open_appeal, sign, variant):
    sign(open_appeal, email="madina@gmail.com")
    sign(open_appeal, email=variant)
    assert stored() == 1


def test_typed_signature_when_scripts_are_off(open_appeal, sign):
    assert sign(open_appeal, signature="", typed_signature="Madina Naloeva").status_code == 302
    signature = db.session.scalar(select(Signature))
    assert signature.typed_signature == "Madina Naloeva" and signature.image is None


def test_filled_in_on_behalf_is_recorded(open_appeal, sign):
    sign(open_appeal, on_behalf="y", helper_name="Her grandson Adam")
    assert db.session.scalar(select(Signature.helper_name)) == "Her grandson Adam"


def test_names_are_normalised_to_nfc(open_appeal, sign):
    sign(open_appeal, given_name="А\u0438\u0306ша")  # й written as и + combining breve
    assert db.session.scalar(select(Signature.given_name)) == "Айша"


def test_honeypot_stores_nothing_but_looks_normal(client, open_appeal, sign):
    response = sign(open_appeal, leave_empty="http://spam.example")
    assert response.status_code == 302 and "/thanks" in response.headers["Location"]
    assert stored() == 0


def test_page_lists_public_signatories_as_they_chose(client, open_appeal, sign):
    sign(open_appeal, email="a@example.org", surname="Fullname", given_name="Aisha", display="full")
    sign(
        open_appeal,
        email="b@example.org",
        surname="Initials",
        given_name="Zarema",
        display="initials",
    )
    sign(
        open_appeal,
        email="c@example.org",
        surname="Hiddenname",
        given_name="Kheda",
        display="hidden",
    )
    html = client.get(f"/a/{open_appeal.slug}").get_data(as_text=True)
    assert "Aisha Fullname" in html
    assert "Z. I." in html and "Initials" not in html
    assert "Hiddenname" not in html and "Kheda" not in html
    assert "Chechen Republic" in html  # the region breakdown and the list
    assert count_on_page(client, open_appeal) == 3


def test_public_list_is_keyset_paginated(app, client, open_appeal, sign):
    app.config["PUBLIC_LIST_PAGE_SIZE"] = 2
    for n in range(5):
        sign(open_appeal, email=f"s{n}@example.org", surname=f"Signer{n}", display="full")
    first = client.get(f"/a/{open_appeal.slug}").get_data(as_text=True)
    assert "Signer4" in first and "Signer3" in first and "Signer2" not in first
    cursor = re.search(r'href="[^"]*before=([^"#&]+)', first).group(1)
    second = client.get(f"/a/{open_appeal.slug}?before={cursor}").get_data(as_text=True)
    assert "Signer2" in second and "Signer1" in second and "Signer4" not in second
    # The cursor names a time and a keyed tag, not a signature's id (numbered site-wide).
    ids = {str(i) for i in db.session.scalars(select(Signature.id))}
    assert cursor.rpartition("_")[2] not in ids and len(cursor.rpartition("_")[2]) == 16
    # A cursor no page gave out shows the first page, never an error.
    for odd in ("2024-01-01T00:00:00%2B00:00_" + "9" * 30, "x_1", "_", "2024-13-01_5", cursor[:-1]):
        response = client.get(f"/a/{open_appeal.slug}?before={odd}")
        assert response.status_code == 200 and "Signer4" in response.get_data(as_text=True)


def test_the_public_list_pages_through_signatures_of_the_same_moment(
    app, client, open_appeal, sign
):
    app.config["PUBLIC_LIST_PAGE_SIZE"] = 2
    for n in range(5):
        sign(open_appeal, email=f"s{n}@example.org", surname=f"Signer{n}", display="full")
    moment = db.session.scalars(select(Signature.created_at)).first()
    for signature in db.session.scalars(select(Signature)):
        signature.created_at = moment  # a bulk import, say
    db.session.commit()
    seen, path = [], f"/a/{open_appeal.slug}"
    while path:
        page = client.get(path).get_data(as_text=True)
        seen += re.findall(r"Signer(\d)", page)
        found = re.search(r'href="([^"]*before=[^"#]+)', page)
        path = found.group(1).replace("&amp;", "&") if found else None
    assert sorted(seen) == ["0", "1", "2", "3", "4"]


def test_minimum_fill_time(app, client, open_appeal, sign):
    app.config["SIGN_MIN_SECONDS"] = 60
    response = sign(open_appeal)
    html = response.get_data(as_text=True)
    assert "The form was sent very quickly" in html and 'value="Naloeva"' in html
    assert stored() == 0


def test_rate_limit_per_connection(app, client, open_appeal, sign):
    app.config["SIGN_LIMIT_PER_IP"] = "2 per hour"
    for n in range(2):
        assert sign(open_appeal, email=f"r{n}@example.org").status_code == 302
    refused = sign(open_appeal, email="r3@example.org", surname="Third")
    assert refused.status_code == 429
    html = refused.get_data(as_text=True)
    assert "Too many signatures came from this connection" in html and 'value="Third"' in html
    assert stored() == 2


def with_header(png, width, height):
    """The PNG with other dimensions in its header, and the header's checksum made right."""
    data = bytearray(png)
    data[16:24] = struct.pack(">II", width, height)
    data[29:33] = struct.pack(">I", zlib.crc32(bytes(data[12:29])))
    return bytes(data)


def chunk(kind, body):
    return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))


def truncated_with_hidden_end(png):
    """Cut off inside its image data, with an IEND marker hidden in a text chunk before it."""
    idat = png.index(b"IDAT") - 4
    hidden = chunk(b"tEXt", b"Comment\x00IEND\xaeB`\x82")
    return png[:idat] + hidden + png[idat : idat + 40]


TOO_BIG_HEADER = with_header(png_bytes(), 20000, 20000)
NOT_A_PNG = "The drawn signature did not arrive as a PNG image."
DAMAGED = "The drawn signature arrived damaged (cut off or corrupted)."

BAD_INPUT = [
    ({"consent": None}, "Signing needs your consent to the processing of your data."),
    ({"surname": ""}, "Enter your surname."),
    ({"given_name": ""}, "Enter your given name."),
    ({"surname": "N" * 101}, "Use at most 100 characters."),
    ({"region": "RU-XX"}, "Not a valid choice."),
    ({"region": ""}, "Choose your region."),
    ({"region": "other", "region_other": ""}, "Say where you live."),
    ({"relationship": "cousin twice removed"}, "Not a valid choice."),
    ({"email": "not-an-email"}, "Enter a valid email address."),
    ({"email": "айша@example.org"}, "Before the “@”, use Latin letters"),
    ({"children": "-1"}, "Enter a number from 0 to 30."),
    ({"surname": "Nal\x00oeva"}, "Remove the invisible or control characters"),
    ({"surname": "Nal\u200boeva"}, "Remove the invisible or control characters"),
    ({"surname": "Nal\u202eoeva"}, "Remove the invisible or control characters"),
    ({"given_name": "Ma\x07dina"}, "Remove the invisible or control characters"),
    ({"surname": "Nal\u061coeva"}, "Remove the invisible or control characters"),
    ({"surname": "Nalo\u00adeva"}, "Remove the invisible or control characters"),
    ({"surname": "\u3164"}, "Remove the invisible or control characters"),
    ({"given_name": "\u2800"}, "Remove the invisible or control characters"),
    ({"given_name": "Madina\u180e"}, "Remove the invisible or control characters"),
    ({"surname": "Naloeva\U000e0041\U000e007f"}, "Remove the invisible or control characters"),
    ({"surname": "Naloeva\nBcc: x"}, "Keep this field on one line."),
    ({"surname": "Naloeva\rx"}, "Keep this field on one line."),
    ({"given_name": "Madina\u2028x"}, "Keep this field on one line."),
    ({"given_name": "Madina\u2029x"}, "Keep this field on one line."),
    ({"given_name": "Madina\x85x"}, "Remove the invisible or control characters"),
    ({"surname": "Nal\u0301\u0302\u0303\u0304\u0305oeva"}, "more than 3 accents or marks"),
    ({"signature": "data:image/gif;base64,R0lGODlhAQABAAAAACw="}, NOT_A_PNG),
    ({"signature": data_url(b'<svg xmlns="http://www.w3.org/2000/svg"/>')}, NOT_A_PNG),
    ({"signature": data_url(bytes(range(256)) * 4)}, NOT_A_PNG),
    ({"signature": data_url(png_bytes()[:200])}, DAMAGED),
    ({"signature": data_url(truncated_with_hidden_end(png_bytes()))}, DAMAGED),
    ({"signature": data_url(with_header(png_bytes(300, 100), 300, 200))}, DAMAGED),
    ({"signature": data_url(with_header(png_bytes(300, 100), 300, 50))}, DAMAGED),
    ({"signature": data_url(png_bytes(2001, 100))}, "The drawn signature could not be read"),
    ({"signature": data_url(TOO_BIG_HEADER)}, "The drawn signature could not be read"),
    ({"signature": "", "typed_signature": ""}, "Sign in the box, or type your full name."),
    ({"on_behalf": "y", "helper_name": ""}, "Give the name of the person filling in the form."),
    (
        {"helper_name": "Her grandson Adam"},
        "Tick the box above if someone else is filling in the form, or leave this empty.",
    ),
    ({"display": "everyone"}, "Not a valid choice."),
    ({"status": "valid"}, "The form arrived with unexpected fields"),
    ({"appeal_id": "1"}, "The form arrived with unexpected fields"),
]


@pytest.mark.parametrize(("overrides", "message"), BAD_INPUT)
def test_bad_input_is_refused_kept_and_nothing_stored(
    client, open_appeal, sign, overrides, message
):
    response = sign(open_appeal, **overrides)
    html = response.get_data(as_text=True)
    assert response.status_code in (200, 400)
    assert message in html
    # What was typed is kept (except a drawing that could not be read).
    assert 'value="Grozny"' in html
    assert 'value="madina@example.org"' in html or "email" in overrides
    assert 'value="Islam Naloev"' in html
    assert stored() == 0 and count_on_page(client, open_appeal) == 0


def test_bad_input_message_in_russian(open_appeal, sign):
    response = sign(open_appeal, consent=None, headers={"Accept-Language": "ru"})
    html = response.get_data(as_text=True)
    assert '<html lang="ru">' in html
    assert "Signing needs your consent" not in html
    assert 'value="Naloeva"' in html
    assert stored() == 0


def test_duplicate_parameters_are_refused(client, open_appeal):
    started = form_values(client, open_appeal)["started"]
    body = (
        f"started={started}&surname=A&surname=B&given_name=Madina&region=RU-CE"
        "&relationship=mother&typed_signature=M&display=full&consent=y"
    )
    response = client.post(
        f"/a/{open_appeal.slug}", data=body, content_type="application/x-www-form-urlencoded"
    )
    assert response.status_code == 400
    assert "unexpected fields" in response.get_data(as_text=True)
    assert stored() == 0


def test_invalid_phone_is_refused(client, open_appeal, sign):
    settings = sign_form_settings(open_appeal)
    fields = dict(settings.fields, phone="optional")
    from campaign.signatures.models import FieldMode
    from campaign.signatures.settings import SettingsData

    save_sign_form_settings(
        open_appeal,
        SettingsData(
            modes={k: FieldMode(v) for k, v in fields.items()},
            regions=None,
            relationships=settings.relationships,
            confirm_email=False,
            consent_text="",
            questions=[],
        ),
        seen_revision=sign_form_settings(open_appeal).revision,
    )
    db.session.commit()
    response = sign(open_appeal, phone="12")
    html = response.get_data(as_text=True)
    assert "Enter a valid phone number." in html and 'value="12"' in html
    assert stored() == 0
    assert sign(open_appeal, phone="8 (928) 123-45-67").status_code == 302
    assert db.session.scalar(select(Signature.phone)) == "+79281234567"


@pytest.mark.parametrize("state", ["closed", "past_deadline"])
def test_closed_or_past_deadline_appeal_refuses_signatures(client, open_appeal, sign, state):
    if state == "closed":
        open_appeal.status = AppealStatus.closed
    else:
        open_appeal.deadline = today() - timedelta(days=1)
    db.session.commit()
    page = client.get(f"/a/{open_appeal.slug}").get_data(as_text=True)
    assert "This appeal is closed." in page and 'name="surname"' not in page
    response = sign(open_appeal)
    assert response.status_code == 409
    assert "This appeal no longer accepts signatures." in response.get_data(as_text=True)
    assert stored() == 0


def test_draft_appeal_cannot_be_signed(client, make_appeal, sign):
    draft = make_appeal()
    assert client.get(f"/a/{draft.slug}").status_code == 404
    assert client.post(f"/a/{draft.slug}", data={"surname": "X"}).status_code == 404
    assert stored() == 0


def test_reused_or_unknown_withdrawal_link(client, open_appeal, sign):
    assert client.get(f"/a/{open_appeal.slug}/withdraw/not-a-token").status_code == 404
    assert client.post(f"/a/{open_appeal.slug}/withdraw/not-a-token").status_code == 404

    thanks = client.get(sign(open_appeal).headers["Location"]).get_data(as_text=True)
    path = re.search(r'value="http://campaign.test([^"]+/withdraw/[^"]+)"', thanks).group(1)
    assert "Your signature is withdrawn" in client.post(path).get_data(as_text=True)
    unknown = client.get(f"/a/{open_appeal.slug}/withdraw/not-a-token").get_data(as_text=True)
    for again in (client.get(path), client.post(path)):
        assert again.status_code == 404
        page = again.get_data(as_text=True)
        assert "This withdrawal link has already been used, or it is not valid." in page
        assert "cannot be withdrawn again" in page and "confirming" not in page
        # Nothing tells a used link from one never given out.
        assert page.replace(path.rpartition("/")[2], "not-a-token") == unknown


def test_qr_code_is_an_svg_of_the_link(client, open_appeal):
    response = client.get(f"/a/{open_appeal.slug}/qr.svg")
    assert response.mimetype == "image/svg+xml"
    assert response.get_data(as_text=True).startswith('<svg xmlns="http://www.w3.org/2000/svg"')


def test_page_has_share_block_and_open_graph(client, open_appeal):
    html = client.get(f"/a/{open_appeal.slug}").get_data(as_text=True)
    assert f'<meta property="og:title" content="{open_appeal.title}">' in html
    assert 'name="twitter:card"' in html
    assert f"http://campaign.test/a/{open_appeal.slug}" in html
    assert f'/a/{open_appeal.slug}/qr.svg"' in html


class TestWithCsrf:
    @pytest.fixture
    def app_config(self):
        return {"SIGN_MIN_SECONDS": 0, "WTF_CSRF_ENABLED": True}

    def test_missing_or_foreign_token_keeps_the_form_and_stores_nothing(
        self, client, open_appeal, sign, app
    ):
        for token in (None, "", "forged-token", self.token_from_another_session(app, open_appeal)):
            response = sign(open_appeal, csrf_token=token)
            html = response.get_data(as_text=True)
            assert response.status_code == 400
            if token:
                assert "The form had expired or came from elsewhere" in html
            else:  # the page's script did not fill it in: asked once more, with her token now
                assert "please check the form and send it once more" in html
                assert re.search(r'name="csrf_token" type="hidden" value="[^"]+"', html)
            assert 'value="Naloeva"' in html and 'value="Grozny"' in html
            assert stored() == 0

    def test_a_drawing_is_not_decoded_for_a_form_refused_for_its_token(
        self, open_appeal, sign, monkeypatch
    ):
        decoded = []
        monkeypatch.setattr("campaign.signatures.forms.clean_png", decoded.append)
        drawing = data_url(png_bytes())
        refused = sign(open_appeal, csrf_token="forged-token", signature=drawing)
        assert refused.status_code == 400 and decoded == []
        assert f'value="{drawing}"' in refused.get_data(as_text=True)  # kept for her next try
        odd = sign(open_appeal, csrf_token="forged-token", signature="data:image/svg+xml,<svg/>")
        assert "svg" not in odd.get_data(as_text=True).split('id="signature"')[1][:200]
        assert stored() == 0

    def test_with_the_page_token_it_signs(self, client, open_appeal, sign):
        token = form_values(client, open_appeal)["csrf_token"]
        assert sign(open_appeal, csrf_token=token).status_code == 302
        assert stored() == 1

    @staticmethod
    def token_from_another_session(app, appeal):
        return form_values(app.test_client(), appeal)["csrf_token"]


def test_emailed_links_survive_a_change_of_address(client, open_appeal, sign, outbox):
    set_confirm(open_appeal)
    sign(open_appeal)
    body = body_of(messages(outbox)[0])
    confirm = re.search(r"http://campaign.test(\S+/confirm/\S+)", body).group(1)
    withdraw = re.search(r"http://campaign.test(\S+/withdraw/\S+)", body).group(1)
    open_appeal.slug = "a-new-address"
    db.session.commit()
    assert "Signature confirmed" in client.post(confirm).get_data(as_text=True)
    assert "Withdraw my signature" in client.get(withdraw).get_data(as_text=True)
    assert "Your signature is withdrawn" in client.post(withdraw).get_data(as_text=True)
    assert count_on_page(client, open_appeal) == 0


def test_an_appeals_former_address_leads_to_it(client, open_appeal, sign):
    from campaign.appeals.operations import AppealData, update_appeal

    old = open_appeal.slug
    data = AppealData(
        title=open_appeal.title,
        language=open_appeal.language,
        country=open_appeal.country,
        body=open_appeal.body,
        slug="a-new-address",
    )
    update_appeal(open_appeal, data, seen_revision=open_appeal.draft_revision)
    db.session.commit()
    page = client.get(f"/a/{old}?utm=poster")
    assert page.status_code == 307
    assert page.headers["Location"] == "/a/a-new-address?utm=poster"
    qr = client.get(f"/a/{old}/qr.svg")
    assert (qr.status_code, qr.headers["Location"]) == (307, "/a/a-new-address/qr.svg")
    # A form opened before the move is sent again to the new address.
    posted = client.post(f"/a/{old}", data={"surname": "Naloeva"})
    assert (posted.status_code, posted.headers["Location"]) == (307, "/a/a-new-address")
    assert client.get("/a/a-new-address").status_code == 200
    assert client.get("/a/never-was-an-address").status_code == 404
    sign(open_appeal)
    assert stored() == 1


def test_links_given_out_carry_the_public_address_whatever_the_host_header(
    app, client, open_appeal, sign, outbox
):
    # Behind a proxy that passes any Host on, a forged one must not reach the signer's mail.
    app.config.update(SERVER_NAME=None, PUBLIC_URL="https://appeals.example.org")
    set_confirm(open_appeal)
    forged = {"Host": "evil.example"}
    signed = sign(open_appeal, headers=forged)
    thanks = client.get(signed.headers["Location"], headers=forged).get_data(as_text=True)
    body = body_of(messages(outbox)[0])
    links = re.findall(r"https?://\S+", body) + re.findall(r'value="(https?://[^"]+)"', thanks)
    assert len(links) == 4  # confirm and withdraw in the mail; withdraw and share on the page
    assert all(link.startswith("https://appeals.example.org/a/") for link in links), links
    assert "evil.example" not in body + thanks


def test_a_text_published_while_she_reads_is_shown_before_she_signs(client, open_appeal, sign):
    shown = form_values(client, open_appeal)["started"]
    publish_a_second_text(open_appeal)

    refused = sign(open_appeal, started=shown, surname="Налоева")
    assert refused.status_code == 409
    html = refused.get_data(as_text=True)
    assert "The text of the appeal changed while you were reading it" in html
    assert "A second text of the letter." in html and 'value="Налоева"' in html
    assert db.session.scalar(select(func.count()).select_from(Signature)) == 0

    assert sign(open_appeal).status_code == 302  # from the page as it is now
    assert db.session.scalar(select(Signature.version_id)) == open_appeal.latest_version.id
    assert open_appeal.latest_version.number == 2


class TestConfirmationWithCsrf:
    @pytest.fixture
    def app_config(self):
        return {"SIGN_MIN_SECONDS": 0, "WTF_CSRF_ENABLED": True}

    def test_the_button_needs_the_pages_token(self, client, open_appeal, sign, outbox):
        set_confirm(open_appeal)
        token = form_values(client, open_appeal)["csrf_token"]
        assert sign(open_appeal, csrf_token=token).status_code == 302
        link = re.search(r"http://campaign.test(\S+/confirm/\S+)", body_of(messages(outbox)[0]))
        path = link.group(1)
        assert client.post(path).status_code == 400
        assert count_on_page(client, open_appeal) == 0
        button = client.get(path).get_data(as_text=True)
        token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', button).group(1)
        assert client.post(path, data={"csrf_token": token}).status_code == 200
        assert count_on_page(client, open_appeal) == 1

    def test_a_withdrawal_without_the_pages_token_says_why_and_keeps_her_signature(
        self, client, open_appeal, sign
    ):
        token = form_values(client, open_appeal)["csrf_token"]
        thanks = sign(open_appeal, csrf_token=token, follow=True).get_data(as_text=True)
        path = re.search(r'value="http://campaign.test([^"]+/withdraw/[^"]+)"', thanks).group(1)
        for sent in ({}, {"csrf_token": "expired-or-forged"}):
            refused = client.post(path, data=sent)
            assert refused.status_code == 400
            assert "The form had expired or came from elsewhere" in refused.get_data(as_text=True)
        assert count_on_page(client, open_appeal) == 1
        button = client.get(path).get_data(as_text=True)
        token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', button).group(1)
        done = client.post(path, data={"csrf_token": token}).get_data(as_text=True)
        assert "Your signature is withdrawn" in done
        assert count_on_page(client, open_appeal) == 0


def test_a_double_tap_on_withdraw_shows_her_signature_withdrawn(
    client, open_appeal, sign, monkeypatch
):
    from campaign.signatures import signer_views as views
    from campaign.signatures.signer_links import withdraw_signature

    thanks = sign(open_appeal, follow=True).get_data(as_text=True)
    path = re.search(r'value="http://campaign.test([^"]+/withdraw/[^"]+)"', thanks).group(1)

    def the_other_tap_first(token):
        # The other request found the same signature and withdrew it just before this one.
        withdraw_signature(token)
        db.session.commit()
        withdraw_signature(token)

    monkeypatch.setattr(views, "withdraw_signature", the_other_tap_first)
    response = client.post(path)
    assert response.status_code == 200
    assert "Your signature is withdrawn" in response.get_data(as_text=True)
    assert count_on_page(client, open_appeal) == 0
    assert db.session.scalar(select(Signature.status)) is SignatureStatus.withdrawn


def test_the_appeals_own_words_carry_its_language_on_a_page_in_another(client, make_appeal, sign):
    appeal = make_appeal(language="ru", country="RU")
    publish_appeal(appeal, appeal.memberships[0].user, seen_revision=appeal.draft_revision)
    db.session.commit()
    html = client.get(f"/a/{appeal.slug}", headers={"Accept-Language": "en"}).get_data(as_text=True)
    assert '<html lang="en">' in html
    assert '<p class="consent-text" id="consent-text" lang="ru">' in html
    assert re.search(
        r'<select[^>]*id="relationship"[^>]*lang="ru"|<select[^>]*lang="ru"[^>]*id="relationship"',
        html,
    )
    refused = sign(appeal, consent=None, relationship="мать").get_data(as_text=True)
    assert 'aria-describedby="consent-text consent-error"' in refused
    assert '<p class="error" id="consent-error">' in refused


@pytest.mark.parametrize(("language", "shown"), [("en", "of 12,345"), ("ru", "из 12\u00a0345")])
def test_numbers_are_written_as_the_pages_language_writes_them(
    client, make_appeal, language, shown
):
    appeal = make_appeal(goal=12345)
    publish_appeal(appeal, appeal.memberships[0].user, seen_revision=appeal.draft_revision)
    db.session.commit()
    html = client.get(f"/a/{appeal.slug}", headers={"Accept-Language": language}).get_data(
        as_text=True
    )
    assert shown in html


def test_the_deadline_ends_at_midnight_in_the_appeals_zone(client, open_appeal, sign, monkeypatch):
    from datetime import UTC, date, datetime

    from campaign import time_zones

    open_appeal.deadline = date(2026, 12, 5)
    open_appeal.time_zone = "Europe/Moscow"
    db.session.commit()
    # 22:30 UTC on the 5th is 01:30 on the 6th in Moscow: the appeal has closed.
    monkeypatch.setattr(time_zones, "utcnow", lambda: datetime(2026, 12, 5, 22, 30, tzinfo=UTC))
    refused = sign(open_appeal)
    assert refused.status_code == 409 and stored() == 0
    monkeypatch.setattr(time_zones, "utcnow", lambda: datetime(2026, 12, 5, 20, 30, tzinfo=UTC))
    assert sign(open_appeal).status_code == 302 and stored() == 1


def test_the_public_list_dates_signatures_by_the_appeals_clock(client, open_appeal, sign):
    from datetime import UTC, datetime

    sign(open_appeal)
    signature = db.session.scalar(select(Signature))
    signature.created_at = datetime(2026, 12, 4, 22, 30, tzinfo=UTC)  # 01:30 in Grozny
    db.session.commit()
    html = client.get(f"/a/{open_appeal.slug}").get_data(as_text=True)
    assert open_appeal.time_zone == "Europe/Moscow"
    assert '<span class="hint when">Dec 5, 2026</span>' in html


def test_the_form_says_where_each_private_detail_goes(client, open_appeal):
    html = client.get(f"/a/{open_appeal.slug}").get_data(as_text=True)
    private = html.split('<fieldset class="private">')[1].split("</fieldset>")[0]
    assert "Never shown in public." in private
    # Only the postal address (off here) goes to the authority; the email does not.
    assert "authority" not in private
    assert 'id="email-hint">Private: seen only by the organisers.</p>' in private
