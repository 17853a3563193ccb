"""When the signer's mail cannot be sent: nothing half-done, her links not lost, no address in
the log."""

import logging

import pytest
from sqlalchemy import func, select

from campaign.extensions import db
from campaign.signatures import views
from campaign.signatures.models import Signature
from tests.signatures.test_sign_form import count_on_page, set_confirm


def refuse(to, subject, body):
    # What smtplib says quotes the address; the log must not.
    raise ConnectionRefusedError(f"cannot deliver to {to}")


@pytest.fixture
def mail_down(monkeypatch):
    monkeypatch.setattr(views, "send_mail", refuse)


def stored():
    db.session.expire_all()
    return db.session.scalar(select(func.count()).select_from(Signature))


def test_a_signature_that_counts_at_once_is_kept_and_its_link_shown(
    client, open_appeal, sign, mail_down, caplog
):
    with caplog.at_level(logging.WARNING):
        response = sign(open_appeal, follow=True)
    html = response.get_data(as_text=True)
    assert "/withdraw/" in html
    assert "We could not email it to you: keep it from this page." in html
    assert stored() == 1 and count_on_page(client, open_appeal) == 1
    assert "Mail to a signer" in caplog.text
    assert "madina@example.org" not in caplog.text


def test_a_signature_waiting_for_its_mail_is_not_kept_and_the_form_is(
    client, open_appeal, sign, mail_down, caplog
):
    set_confirm(open_appeal)
    with caplog.at_level(logging.WARNING):
        response = sign(open_appeal, surname="Налоева")
    assert response.status_code == 503
    html = response.get_data(as_text=True)
    assert "We could not send the email that confirms your signature" in html
    assert 'value="Налоева"' in html and 'value="madina@example.org"' in html
    assert 'name="signature" type="hidden" value="data:image/png;base64,' in html
    assert stored() == 0
    assert "madina@example.org" not in caplog.text


def test_once_the_mail_works_she_can_sign_again(client, open_appeal, sign, monkeypatch, outbox):
    set_confirm(open_appeal)
    send = views.send_mail
    monkeypatch.setattr(views, "send_mail", refuse)
    assert sign(open_appeal).status_code == 503
    monkeypatch.setattr(views, "send_mail", send)
    response = sign(open_appeal, follow=True)
    assert "We have sent you an email" in response.get_data(as_text=True)
    assert stored() == 1


def test_the_refusal_is_in_russian(client, open_appeal, sign, mail_down):
    set_confirm(open_appeal)
    response = sign(open_appeal, headers={"Accept-Language": "ru"})
    assert "Не удалось отправить письмо" in response.get_data(as_text=True)


def test_new_links_that_could_not_be_mailed_say_so(client, open_appeal, sign, monkeypatch, outbox):
    set_confirm(open_appeal)
    sign(open_appeal)  # her first mail went
    monkeypatch.setattr(views, "send_mail", refuse)
    response = sign(open_appeal, surname="Налоева")  # the next one cannot
    assert response.status_code == 503
    html = response.get_data(as_text=True)
    assert "We could not send the email that confirms your signature" in html
    assert 'value="Налоева"' in html
    assert stored() == 1  # hers, still waiting
