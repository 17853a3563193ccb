"""One signer per name and contact, whatever the script or spelling of her name."""

import pytest
from sqlalchemy import func, select

from campaign.extensions import db
from campaign.signatures.models import FieldMode, Signature
from tests.mailbox import mails as messages
from tests.signatures.conftest import data_url, png_bytes
from tests.signatures.test_sign_form import count_on_page, set_confirm


def stored():
    return db.session.scalar(select(func.count()).select_from(Signature))


@pytest.mark.parametrize(
    ("surname", "given_name"),
    [("Naloyeva", "Madina"), ("Naloeva", "Madina"), ("Мадина", "Налоева"), ("NALOEVA", "MADINA")],
)
def test_her_name_in_another_script_with_the_same_email_is_stored_once(
    client, open_appeal, sign, outbox, surname, given_name
):
    sign(open_appeal, surname="Налоева", given_name="Мадина")
    response = sign(open_appeal, surname=surname, given_name=given_name, town="Argun")
    assert response.status_code == 302  # the same page as a new signer's
    assert stored() == 1 and count_on_page(client, open_appeal) == 1
    assert db.session.scalar(select(Signature.surname)) == "Налоева"
    # Only the address her signature gave is told she had signed.
    assert [m["To"] for m in messages(outbox)] == ["madina@example.org"] * 2
    assert "already signed" in messages(outbox)[-1]["Subject"]


def test_her_name_in_another_script_with_the_same_phone_is_stored_once(open_appeal, sign):
    set_confirm(open_appeal, on=False, phone=FieldMode.optional)
    sign(open_appeal, surname="Налоева", given_name="Мадина", email="", phone="+7 928 123 45 67")
    sign(open_appeal, surname="Naloyeva", given_name="Madina", email="", phone="89281234567")
    assert stored() == 1


def test_relatives_on_one_mailbox_still_each_sign_in_any_script(client, open_appeal, sign):
    sign(open_appeal, surname="Налоева", given_name="Мадина")
    # Her mother, on her address, in Latin letters.
    sign(
        open_appeal,
        surname="Naloeva",
        given_name="Khadizhat",
        relationship="mother",
        signature=data_url(png_bytes(310)),
    )
    assert stored() == 2 and count_on_page(client, open_appeal) == 2


def test_a_granddaughter_named_after_her_grandmother_is_not_her(client, open_appeal, sign):
    set_confirm(open_appeal, on=False, patronymic=FieldMode.optional)
    sign(open_appeal, surname="Магомедова", given_name="Аминат", patronymic="Исаевна")
    sign(
        open_appeal,
        surname="Magomedova",
        given_name="Aminat",
        patronymic="Ruslanovna",
        signature=data_url(png_bytes(320)),
    )
    assert stored() == 2
    # The grandmother again, her patronymic in Latin letters: herself.
    sign(open_appeal, surname="Magomedova", given_name="Aminat", patronymic="Isaevna")
    assert stored() == 2


def test_a_near_namesake_on_one_mailbox_signs(open_appeal, sign):
    # Налоева and Налиева are two women, even on one address: the duplicate finder, not the
    # sign form, shows the organisers such a pair.
    sign(open_appeal, surname="Налоева", given_name="Мадина")
    sign(open_appeal, surname="Налиева", given_name="Мадина", signature=data_url(png_bytes(330)))
    assert stored() == 2
